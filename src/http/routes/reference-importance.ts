import type { ModelConfigJson } from '../../ports/model-repository.js';
import type { HttpDeps } from '../deps.js';
import { httpError } from '../errors.js';

/** The `importance` query of a reference upload: `name:weight` pairs, comma-separated, weights >= 0. */
export function parseImportanceQuery(value: string | undefined): Record<string, number> | undefined {
  if (value === undefined || value === '') return undefined;
  const out: Record<string, number> = {};
  for (const pair of value.split(',')) {
    const at = pair.lastIndexOf(':');
    const name = pair.slice(0, at).trim();
    const weight = Number(pair.slice(at + 1));
    if (at <= 0 || name === '' || !Number.isFinite(weight) || weight < 0 || pair.slice(at + 1).trim() === '') {
      throw httpError('VALIDATION_FAILED', `importance: ${JSON.stringify(pair)} is not name:weight with a weight >= 0`, [{ path: '/importance', context: 'querystring', message: 'expected name:weight pairs' }]);
    }
    out[name] = weight;
  }
  return out;
}

/**
 * The model with the importance uploaded beside its reference, checked
 * against the sample's features and the model parser before anything is
 * stored (a bad one refuses the upload, reference included).
 */
export function modelWithImportance(deps: HttpDeps, model: ModelConfigJson, importance: Record<string, number>, features: readonly string[]): ModelConfigJson {
  const unknown = Object.keys(importance).filter((n) => !features.includes(n));
  if (unknown.length > 0) throw httpError('VALIDATION_FAILED', `importance: the sample has no feature ${unknown.join(', ')}`);
  const next = { ...model, importance };
  return deps.parseModelConfig ? deps.parseModelConfig(next) : next;
}
