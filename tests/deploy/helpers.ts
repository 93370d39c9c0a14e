// Shared checks of the deployment tests.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_SPEC } from '../../src/config/spec.js';
import { loadConfig } from '../../src/config/config.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CONFIG_NAMES = new Set(CONFIG_SPEC.map((s) => s.name));
export const SECRET_NAMES = new Set(CONFIG_SPEC.filter((s) => s.secret).map((s) => s.name));

/** Environment variables the image and manifests may set besides driftstream's own. */
export const OTHER_ALLOWED_ENV = new Set(['NODE_ENV', 'NODE_OPTIONS']);

export function readText(rel: string): string {
  return readFileSync(path.join(ROOT, rel), 'utf8');
}

/** Names that are not variables driftstream reads (DRIFTSTREAM_* outside CONFIG_SPEC, or foreign names). */
export function unknownEnvNames(names: Iterable<string>, allowForeign = OTHER_ALLOWED_ENV): string[] {
  return [...names].filter((n) => (n.startsWith('DRIFTSTREAM_') ? !CONFIG_NAMES.has(n) : !allowForeign.has(n)));
}

/** Runs the real configuration loader over an environment; returns its error message or undefined. */
export function configError(env: Record<string, string | undefined>): string | undefined {
  try {
    loadConfig(env);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Splits an image reference into name and tag (digest references count as pinned). */
export function imageTag(ref: string): { name: string; tag?: string; digest?: string } {
  const [withoutDigest, digest] = ref.split('@');
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', slash + 1);
  if (colon < 0) return { name: withoutDigest, digest };
  return { name: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1), digest };
}

/** True for a reference pinned to a version: a tag other than latest/stable/edge, or a digest. */
export function isPinned(ref: string): boolean {
  const { tag, digest } = imageTag(ref);
  if (digest) return true;
  return tag !== undefined && !/^(latest|stable|edge|main|master|nightly|current)$/i.test(tag) && /\d/.test(tag);
}
