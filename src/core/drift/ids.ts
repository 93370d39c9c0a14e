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

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * The start of the window where an alert's incident first fired: the time its
 * alertId was made from, so the same for every record of the incident. Alert
 * trackers say it in `details.firstWindowStart`; a record without it (a
 * retraining signal) was made from its own window start.
 */
export function incidentStartOf(alert: { windowStart: number; details?: Readonly<Record<string, string>> }): number {
  const first = alert.details?.firstWindowStart;
  return first !== undefined && ISO_UTC.test(first) ? Date.parse(first) : alert.windowStart;
}
