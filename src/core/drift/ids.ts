import { createHash } from 'node:crypto';

function digest(parts: readonly (string | number | null)[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

/** Deterministic id of the evaluation of one window: model, window name and window start. */
export function evaluationIdOf(modelId: string, windowName: string, windowStart: number): string {
  return digest(['evaluation', modelId, windowName, windowStart]);
}

/**
 * Deterministic id of an alert incident (DESIGN.md section 2): a hash of the
 * model, window name, kind, feature, statistic and the start of the window
 * where the incident first fired. A replay of the same events yields the same id.
 */
export function alertIdOf(
  modelId: string,
  windowName: string,
  kind: string,
  feature: string | null,
  statistic: string,
  firstWindowStart: number,
): string {
  return digest(['alert', modelId, windowName, kind, feature, statistic, firstWindowStart]);
}
