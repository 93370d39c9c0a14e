// Offline validation of k8s/: every overlay is built (tests/deploy/kustomize.ts),
// each object is validated against the Kubernetes OpenAPI schemas shipped by
// kubernetes-models (KEDA and Prometheus Operator CRDs by their @kubernetes-models
// packages), unknown fields are caught by TypeScript's excess-property check
// against the same packages' types, and the objects are checked against each
// other and against the config module.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { parseDuration } from '../../src/core/duration.js';
import { buildKustomization, readObjects, referencedFiles, type K8sObject } from './kustomize.js';
import { ROOT, SECRET_NAMES, configError, isPinned, readText, unknownEnvNames } from './helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface ModelClass {
  new (data: never): { validate(): void };
}

interface KindInfo {
  readonly model: ModelClass;
  /** TypeScript type of the object, for the unknown-field check. */
  readonly type: string;
}

const KINDS: Record<string, KindInfo> = {
  'v1/Namespace': { model: Namespace, type: "import('kubernetes-models/v1').INamespace" },
  'v1/ConfigMap': { model: ConfigMap, type: "import('kubernetes-models/v1').IConfigMap" },
  'v1/Secret': { model: Secret, type: "import('kubernetes-models/v1').ISecret" },
  'v1/Service': { model: Service, type: "import('kubernetes-models/v1').IService" },
  'apps/v1/Deployment': { model: Deployment, type: "import('kubernetes-models/apps/v1').IDeployment" },
  'autoscaling/v2/HorizontalPodAutoscaler': { model: HorizontalPodAutoscaler, type: "import('kubernetes-models/autoscaling/v2').IHorizontalPodAutoscaler" },
  'policy/v1/PodDisruptionBudget': { model: PodDisruptionBudget, type: "import('kubernetes-models/policy/v1').IPodDisruptionBudget" },
  'networking.k8s.io/v1/NetworkPolicy': { model: NetworkPolicy, type: "import('kubernetes-models/networking.k8s.io/v1').INetworkPolicy" },
  'keda.sh/v1alpha1/ScaledObject': { model: ScaledObject, type: "import('@kubernetes-models/keda/keda.sh/v1alpha1').IScaledObject" },
  'monitoring.coreos.com/v1/ServiceMonitor': { model: ServiceMonitor, type: "import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1').IServiceMonitor" },
  'monitoring.coreos.com/v1/PrometheusRule': { model: PrometheusRule, type: "import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1').IPrometheusRule" },
};

const K8S = path.join(ROOT, 'k8s');
const OVERLAYS = readdirSync(path.join(K8S, 'overlays'));
const built = new Map(OVERLAYS.map((o) => [o, buildKustomization(path.join(K8S, 'overlays', o))]));
const SECRET_TEMPLATE = readObjects(path.join(K8S, 'base/secret.template.yaml'));

function kindKey(o: K8sObject): string {
  return `${o.apiVersion}/${o.kind}`;
}

function one(objects: K8sObject[], kind: string): Json {
  const hits = objects.filter((o) => o.kind === kind);
  expect(hits, kind).toHaveLength(1);
  return hits[0] as Json;
}

function labelsMatch(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** Schema validation: the compiled OpenAPI validator of the object's model; returns the error or undefined. */
function schemaError(o: K8sObject): string | undefined {
  const info = KINDS[kindKey(o)];
  if (!info) return `no schema for ${kindKey(o)}`;
  try {
    new info.model(o as never).validate();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Unknown-field check: the OpenAPI schemas allow additional properties, so a
 * misspelt `livenesProbe` would pass them. TypeScript's excess-property check of
 * each object, typed with the same package's interface, catches it.
 */
function unknownFieldErrors(objects: K8sObject[]): string[] {
  const file = path.join(ROOT, '.k8s-manifest-check.ts');
  const starts: number[] = [];
  let src = '';
  objects.forEach((o, i) => {
    starts.push(src.length);
    src += `export const r${i}: ${KINDS[kindKey(o)].type} = ${JSON.stringify(o, null, 1)};\n`;
  });
  const host = ts.createCompilerHost({});
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.readFile = (f) => (path.resolve(f) === file ? src : readFile(f));
  host.fileExists = (f) => path.resolve(f) === file || fileExists(f);
  const program = ts.createProgram(
    [file],
    { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, skipLibCheck: true, types: [] },
    host,
  );
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const idx = d.start === undefined ? -1 : starts.findLastIndex((s) => s <= d.start!);
    const where = idx >= 0 ? `${objects[idx].kind}/${objects[idx].metadata.name}` : '?';
    return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}

function podSpec(dep: Json): Json {
  return dep.spec.template.spec;
}

function container(dep: Json): Json {
  return podSpec(dep).containers.find((c: Json) => c.name === 'driftstream');
}

describe.each(OVERLAYS)('k8s overlay %s', (overlay) => {
  const objects = built.get(overlay)!;

  it('builds the full set of resources', () => {
    const kinds = objects.map((o) => o.kind);
    for (const k of ['Deployment', 'Service', 'ConfigMap', 'PodDisruptionBudget', 'ServiceMonitor', 'PrometheusRule', 'NetworkPolicy']) {
      expect(kinds, k).toContain(k);
    }
    const autoscalers = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler' || o.kind === 'ScaledObject');
    expect(autoscalers, 'exactly one autoscaler: KEDA creates its own HPA, two would fight').toHaveLength(1);
    const names = objects.map((o) => `${kindKey(o)}/${o.metadata.name}`);
    expect(new Set(names).size).toBe(names.length);
    for (const o of objects) {
      if (o.kind !== 'Namespace') expect(o.metadata.namespace, `${o.kind} gets the overlay's namespace`).toBeDefined();
    }
  });

  it('validates against the Kubernetes and CRD schemas', () => {
    const errors = objects.map((o) => [`${o.kind}/${o.metadata.name}`, schemaError(o)]).filter(([, e]) => e);
    expect(errors).toEqual([]);
  });

  it('has no unknown fields', () => {
    expect(unknownFieldErrors(objects)).toEqual([]);
  });

  it('probes /healthz and /readyz, sets resources and outlives its final checkpoint', () => {
    const dep = one(objects, 'Deployment');
    const c = container(dep);
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.startupProbe?.httpGet.path ?? '/healthz').toBe('/healthz');
    const ports = c.ports.map((p: Json) => p.name);
    for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe].filter(Boolean)) expect(ports).toContain(probe.httpGet.port);
    for (const x of [c, ...(podSpec(dep).initContainers ?? [])]) {
      expect(x.resources.requests.cpu, x.name).toBeDefined();
      expect(x.resources.requests.memory, x.name).toBeDefined();
      expect(x.resources.limits.memory, x.name).toBeDefined();
    }
    // On SIGTERM the detector writes a final checkpoint of its partitions; the pod
    // must not be killed before: one checkpoint interval plus 30 s of flushing.
    const cm = one(objects, 'ConfigMap');
    const interval = parseDuration(cm.data.DRIFTSTREAM_CHECKPOINT_INTERVAL ?? '5s')!;
    expect(podSpec(dep).terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(interval + 30_000);
    // V8's heap must fit under the memory limit.
    const nodeOptions: string = c.env.find((e: Json) => e.name === 'NODE_OPTIONS')?.value ?? '';
    const heap = /--max-old-space-size=(\d+)/.exec(nodeOptions)?.[1];
    expect(heap, 'NODE_OPTIONS caps the heap').toBeDefined();
    // NODE_OPTIONS here replaces the image's: it keeps the measured young generation (docs/operations.md).
    expect(nodeOptions, 'NODE_OPTIONS keeps the young generation of the image').toMatch(/--max-semi-space-size=8(?:\s|$)/);
    // The image's command carries --heap-growing-percent (refused in NODE_OPTIONS): keep it.
    expect(c.command, 'the container keeps the image command').toBeUndefined();
    const limitMi = Number(/^(\d+)Mi$/.exec(c.resources.limits.memory)?.[1] ?? Number(/^(\d+)Gi$/.exec(c.resources.limits.memory)?.[1]) * 1024);
    expect(Number(heap)).toBeLessThan(limitMi * 0.8);
  });

  it('spreads replicas and runs unprivileged', () => {
    const dep = one(objects, 'Deployment');
    const ps = podSpec(dep);
    const podLabels = dep.spec.template.metadata.labels;
    const terms = [
      ...(ps.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
      ...(ps.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t: Json) => t.podAffinityTerm),
    ];
    expect(terms.some((t: Json) => t.topologyKey === 'kubernetes.io/hostname' && labelsMatch(t.labelSelector.matchLabels, podLabels))).toBe(true);
    expect(ps.securityContext.runAsNonRoot).toBe(true);
    // uid 1000 is the `node` user the Dockerfile switches to.
    expect(ps.securityContext.runAsUser).toBe(1000);
    expect(readText('Dockerfile')).toMatch(/^USER node$/m);
    for (const c of [...ps.containers, ...(ps.initContainers ?? [])]) {
      expect(c.securityContext.allowPrivilegeEscalation, c.name).toBe(false);
      expect(c.securityContext.readOnlyRootFilesystem, c.name).toBe(true);
      expect(isPinned(c.image), `${c.name}: ${c.image}`).toBe(true);
    }
    expect(dep.spec.selector.matchLabels).toEqual(Object.fromEntries(Object.entries(podLabels).filter(([k]) => k in dep.spec.selector.matchLabels)));
    expect(labelsMatch(dep.spec.selector.matchLabels, podLabels)).toBe(true);
  });

  it('connects Service, ServiceMonitor, PodDisruptionBudget and NetworkPolicy to the pods', () => {
    const dep = one(objects, 'Deployment');
    const podLabels = dep.spec.template.metadata.labels;
    const svc = one(objects, 'Service');
    expect(labelsMatch(svc.spec.selector, podLabels)).toBe(true);
    const httpPort = svc.spec.ports.find((p: Json) => p.name === 'http');
    expect(container(dep).ports.map((p: Json) => p.name)).toContain(httpPort.targetPort);
    const sm = one(objects, 'ServiceMonitor');
    expect(labelsMatch(sm.spec.selector.matchLabels, svc.metadata.labels)).toBe(true);
    expect(sm.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
    const pdb = one(objects, 'PodDisruptionBudget');
    expect(labelsMatch(pdb.spec.selector.matchLabels, podLabels)).toBe(true);
    expect(pdb.spec.maxUnavailable ?? pdb.spec.minAvailable).toBeDefined();
    const np = one(objects, 'NetworkPolicy');
    expect(labelsMatch(np.spec.podSelector.matchLabels, podLabels)).toBe(true);
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec.ingress.flatMap((r: Json) => r.ports.map((p: Json) => p.port))).toContain('http');
    const egressPorts = np.spec.egress.flatMap((r: Json) => r.ports.map((p: Json) => p.port));
    for (const port of [53, 9092, 6379, 5432]) expect(egressPorts).toContain(port);
  });

  it('never scales past the partition count, and leaves replicas to the autoscaler', () => {
    const dep = one(objects, 'Deployment');
    expect(dep.spec.replicas, 'an applied replica count would fight the autoscaler').toBeUndefined();
    const scaler = objects.find((o) => o.kind === 'HorizontalPodAutoscaler' || o.kind === 'ScaledObject') as Json;
    const partitions = Number(scaler.metadata.annotations?.['driftstream.io/partitions']);
    expect(partitions, 'the partition count assumption is written down').toBeGreaterThan(0);
    // The same count docker-compose.yml creates the inference topic with.
    const compose = readText('docker-compose.yml');
    expect(compose).toContain(`inference-events:${partitions}`);
    const cm = one(objects, 'ConfigMap');
    if (scaler.kind === 'HorizontalPodAutoscaler') {
      expect(scaler.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: dep.metadata.name });
      expect(scaler.spec.maxReplicas).toBeLessThanOrEqual(partitions);
      expect(scaler.spec.minReplicas).toBeLessThanOrEqual(scaler.spec.maxReplicas);
    } else {
      expect(scaler.spec.scaleTargetRef.name).toBe(dep.metadata.name);
      expect(scaler.spec.maxReplicaCount).toBeLessThanOrEqual(partitions);
      expect(scaler.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
      const trigger = scaler.spec.triggers.find((t: Json) => t.type === 'kafka');
      expect(trigger.metadata.consumerGroup).toBe(cm.data.DRIFTSTREAM_GROUP_ID);
      expect(trigger.metadata.topic).toBe(cm.data.DRIFTSTREAM_INFERENCE_TOPIC);
      expect(trigger.metadata.bootstrapServers).toBe(cm.data.DRIFTSTREAM_KAFKA_BROKERS);
      expect(trigger.metadata.allowIdleConsumers).toBe('false');
    }
  });

  it('sets only variables the config module reads, keeps secrets out of the ConfigMap, and loads', () => {
    const dep = one(objects, 'Deployment');
    const cm = one(objects, 'ConfigMap');
    const secret = objects.find((o) => o.kind === 'Secret') as Json | undefined;
    const secretData = { ...(secret?.stringData ?? {}), ...Object.fromEntries(Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString()])) };
    expect(unknownEnvNames(Object.keys(cm.data))).toEqual([]);
    expect(unknownEnvNames(Object.keys(secretData))).toEqual([]);
    expect(Object.keys(cm.data).filter((k) => SECRET_NAMES.has(k) || /_URL$/.test(k) && /:\/\/[^/]*@/.test(cm.data[k]))).toEqual([]);
    for (const c of [...podSpec(dep).containers, ...(podSpec(dep).initContainers ?? [])]) {
      expect(unknownEnvNames((c.env ?? []).map((e: Json) => e.name)), c.name).toEqual([]);
      const refs = (c.envFrom ?? []).map((e: Json) => e.configMapRef?.name ?? e.secretRef?.name);
      expect(refs, c.name).toEqual([cm.metadata.name, 'driftstream-secrets']);
    }
    const env: Record<string, string> = { ...cm.data, ...(secret ? secretData : (SECRET_TEMPLATE[0] as Json).stringData), DRIFTSTREAM_KAFKA_CLIENT_ID: 'driftstream-0' };
    expect(configError(env)).toBeUndefined();
    expect(env.DRIFTSTREAM_HTTP_HOST).toBe('0.0.0.0');
    expect(String(container(dep).ports.find((p: Json) => p.name === 'http').containerPort)).toBe(env.DRIFTSTREAM_HTTP_PORT);
  });

  it('carries the alerting rules of deploy/prometheus/alerts.yml', () => {
    const rule = one(objects, 'PrometheusRule');
    const alerts = YAML.parse(readText('deploy/prometheus/alerts.yml')) as { groups: unknown[] };
    // On failure: run `node scripts/gen-prometheus-rule.mjs` after editing alerts.yml.
    expect(rule.spec.groups).toEqual(alerts.groups);
    expect(rule.spec.groups.length).toBeGreaterThan(0);
  });
});

describe('k8s files', () => {
  it('keeps the Secret template valid, known to the config module and out of every build', () => {
    expect(SECRET_TEMPLATE).toHaveLength(1);
    expect(schemaError(SECRET_TEMPLATE[0])).toBeUndefined();
    expect(unknownFieldErrors(SECRET_TEMPLATE)).toEqual([]);
    const data = (SECRET_TEMPLATE[0] as Json).stringData as Record<string, string>;
    expect(unknownEnvNames(Object.keys(data))).toEqual([]);
    for (const name of ['DRIFTSTREAM_REDIS_URL', 'DRIFTSTREAM_DATABASE_URL', 'DRIFTSTREAM_API_KEYS']) expect(data).toHaveProperty([name]);
    for (const overlay of OVERLAYS) {
      const files = referencedFiles(path.join(K8S, 'overlays', overlay));
      expect([...files].some((f) => f.endsWith('secret.template.yaml')), overlay).toBe(false);
    }
  });

  it('uses every manifest file in some overlay', () => {
    const used = new Set(OVERLAYS.flatMap((o) => [...referencedFiles(path.join(K8S, 'overlays', o))]));
    const all = execFileSync('find', [K8S, '-name', '*.yaml'], { encoding: 'utf8' }).trim().split('\n');
    const unused = all.filter((f) => !used.has(f) && !f.endsWith('secret.template.yaml'));
    expect(unused).toEqual([]);
  });

  it('catches what it is meant to catch', () => {
    const dep = structuredClone(one(built.get('production')!, 'Deployment')) as K8sObject & Json;
    dep.spec.template.spec.containers[0].livenesProbe = dep.spec.template.spec.containers[0].livenessProbe;
    expect(unknownFieldErrors([dep]).join()).toMatch(/livenesProbe/);
    const bad = structuredClone(dep);
    bad.spec.template.spec.terminationGracePeriodSeconds = 'sixty';
    expect(schemaError(bad)).toMatch(/terminationGracePeriodSeconds/);
    const so = structuredClone(one(built.get('production')!, 'ScaledObject')) as K8sObject & Json;
    so.spec.maxReplicaCount = '6';
    expect(schemaError(so)).toMatch(/maxReplicaCount/);
    expect(unknownEnvNames(['DRIFTSTREAM_KAFKA_BROKER'])).toEqual(['DRIFTSTREAM_KAFKA_BROKER']);
    expect(configError({ DRIFTSTREAM_HTTP_PORT: 'eighty' })).toMatch(/DRIFTSTREAM_HTTP_PORT/);
  });

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  it.skipIf(kubectl.status !== 0).each(OVERLAYS)('builds %s exactly as `kubectl kustomize` does', (overlay) => {
    const out = execFileSync('kubectl', ['kustomize', path.join(K8S, 'overlays', overlay)], { encoding: 'utf8' });
    const theirs = YAML.parseAllDocuments(out).map((d) => d.toJS() as K8sObject);
    const mine = built.get(overlay)!;
    const key = (o: K8sObject) => `${kindKey(o)}/${o.metadata.name}`;
    expect(mine.map(key).sort()).toEqual(theirs.map(key).sort());
    for (const t of theirs) {
      const m = mine.find((o) => key(o) === key(t));
      expect(isDeepStrictEqual(m, t) ? undefined : { mine: m, kubectl: t }, key(t)).toBeUndefined();
    }
  });
});
