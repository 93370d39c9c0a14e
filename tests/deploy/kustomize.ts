// A small kustomize resolver for the offline deployment tests: enough of
// kustomize to build k8s/overlays/* (resources, components, strategic-merge
// patches including `$patch: delete`, namespace, labels, images) without a
// cluster or a kustomize binary. When kubectl is installed, k8s.test.ts checks
// that this resolver and `kubectl kustomize` produce the same objects.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

type Json = Record<string, unknown>;

interface Kustomization {
  kind?: string;
  namespace?: string;
  resources?: string[];
  components?: string[];
  patches?: { path?: string; patch?: string; target?: { kind?: string; name?: string } }[];
  labels?: { pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }[];
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
}

// Kinds kustomize leaves without a namespace.
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PriorityClass', 'StorageClass', 'PersistentVolume']);

// Strategic-merge keys of the built-in list fields the manifests use. Lists of
// custom resources have no merge keys and are replaced, as kustomize does.
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  tolerations: 'key',
};

const BUILT_IN_GROUPS = new Set(['v1', 'apps/v1', 'batch/v1', 'autoscaling/v2', 'policy/v1', 'networking.k8s.io/v1', 'rbac.authorization.k8s.io/v1']);

/** Parses every YAML document of a file into objects (empty documents skipped). */
export function readObjects(file: string): K8sObject[] {
  return YAML.parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null && typeof o === 'object');
}

function readKustomization(dir: string): Kustomization {
  for (const name of ['kustomization.yaml', 'kustomization.yml', 'Kustomization']) {
    const file = path.join(dir, name);
    if (existsSync(file)) return YAML.parse(readFileSync(file, 'utf8')) as Kustomization;
  }
  throw new Error(`${dir} has no kustomization.yaml`);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strategicMerge(target: unknown, patch: unknown, strategic: boolean, key?: string): unknown {
  if (Array.isArray(patch)) {
    const mergeKey = strategic && key ? MERGE_KEYS[key] : undefined;
    if (!mergeKey || !Array.isArray(target)) return structuredClone(patch);
    // Strategic merge order: the patch's entries first (merged with their
    // originals), then the original entries the patch does not mention.
    const original = target as Json[];
    const merged = (patch as Json[]).map((item) => {
      const orig = original.find((t) => t[mergeKey] === item[mergeKey]);
      return orig ? (strategicMerge(orig, item, strategic) as Json) : structuredClone(item);
    });
    const rest = original.filter((t) => !(patch as Json[]).some((item) => item[mergeKey] === t[mergeKey]));
    return [...merged, ...structuredClone(rest)];
  }
  if (isObject(patch)) {
    const out: Json = isObject(target) ? structuredClone(target) : {};
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete out[k];
      else out[k] = strategicMerge(out[k], v, strategic, k);
    }
    return out;
  }
  return patch;
}

function matches(o: K8sObject, p: { kind?: string; name?: string; apiVersion?: string }): boolean {
  if (p.kind && o.kind !== p.kind) return false;
  if (p.name && o.metadata.name !== p.name) return false;
  if (p.apiVersion && o.apiVersion.split('/')[0] !== p.apiVersion.split('/')[0]) return false;
  return true;
}

function applyPatches(objects: K8sObject[], dir: string, patches: Kustomization['patches']): K8sObject[] {
  let out = objects;
  for (const entry of patches ?? []) {
    const text = entry.path ? readFileSync(path.join(dir, entry.path), 'utf8') : entry.patch;
    if (!text) throw new Error(`patch in ${dir} has neither path nor patch`);
    for (const doc of YAML.parseAllDocuments(text)) {
      const patch = doc.toJS() as K8sObject & { $patch?: string };
      const selector = { kind: entry.target?.kind ?? patch.kind, name: entry.target?.name ?? patch.metadata?.name, apiVersion: patch.apiVersion };
      const hits = out.filter((o) => matches(o, selector));
      if (hits.length === 0) throw new Error(`patch ${entry.path ?? '(inline)'} in ${dir} matches no resource`);
      if (patch.$patch === 'delete') {
        out = out.filter((o) => !hits.includes(o));
        continue;
      }
      out = out.map((o) => (hits.includes(o) ? (strategicMerge(o, patch, BUILT_IN_GROUPS.has(o.apiVersion)) as K8sObject) : o));
    }
  }
  return out;
}

function podSpecs(o: K8sObject): Json[] {
  const spec = o.spec as Json | undefined;
  const template = spec?.template as Json | undefined;
  const podSpec = template?.spec as Json | undefined;
  return podSpec ? [podSpec] : [];
}

function setImages(objects: K8sObject[], images: Kustomization['images']): void {
  for (const img of images ?? []) {
    for (const o of objects) {
      for (const ps of podSpecs(o)) {
        for (const c of [...((ps.containers as Json[]) ?? []), ...((ps.initContainers as Json[]) ?? [])]) {
          const ref = String(c.image);
          const slash = ref.lastIndexOf('/');
          const colon = ref.indexOf(':', slash + 1);
          const name = colon >= 0 ? ref.slice(0, colon) : ref;
          if (name !== img.name) continue;
          const tag = img.newTag ?? (colon >= 0 ? ref.slice(colon + 1) : undefined);
          c.image = `${img.newName ?? name}${tag ? `:${tag}` : ''}`;
        }
      }
    }
  }
}

function build(dir: string, isComponent: boolean, accumulated: K8sObject[]): K8sObject[] {
  const k = readKustomization(dir);
  if (isComponent !== (k.kind === 'Component')) {
    throw new Error(`${dir}: ${isComponent ? 'components must be kind Component' : 'a Component cannot be used as a resource'}`);
  }
  let objects = isComponent ? accumulated : [];
  for (const r of k.resources ?? []) {
    const p = path.join(dir, r);
    objects = objects.concat(statSync(p).isDirectory() ? build(p, false, []) : readObjects(p));
  }
  for (const c of k.components ?? []) objects = build(path.join(dir, c), true, objects);
  objects = applyPatches(objects, dir, k.patches);
  for (const l of k.labels ?? []) {
    for (const o of objects) {
      o.metadata.labels = { ...o.metadata.labels, ...l.pairs };
      if (l.includeSelectors || l.includeTemplates) throw new Error('labels with includeSelectors/includeTemplates are not supported by this resolver');
    }
  }
  setImages(objects, k.images);
  if (k.namespace) {
    for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  }
  return objects;
}

/** Builds the kustomization in `dir` (an overlay or the base) into its list of objects. */
export function buildKustomization(dir: string): K8sObject[] {
  return build(dir, false, []);
}

/** Every file a kustomization tree reads (kustomization files, resources and patches), for coverage checks. */
export function referencedFiles(dir: string, seen = new Set<string>()): Set<string> {
  const k = readKustomization(dir);
  seen.add(path.join(dir, 'kustomization.yaml'));
  for (const r of [...(k.resources ?? []), ...(k.components ?? [])]) {
    const p = path.join(dir, r);
    if (statSync(p).isDirectory()) referencedFiles(p, seen);
    else seen.add(p);
  }
  for (const p of k.patches ?? []) if (p.path) seen.add(path.join(dir, p.path));
  return seen;
}
