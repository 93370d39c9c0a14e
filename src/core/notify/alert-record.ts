import { ValidationError } from '../../errors.js';

/**
 * A record of the alerts topic as the notifier sees it: any record type
 * (DriftAlert, RETRAIN_RECOMMENDED, ...) with an incident id and a model.
 * `kind` names the record type; `labels` are what rules match besides it.
 */
export interface AlertRecord {
  readonly alertId: string;
  readonly modelId: string;
  readonly kind: string;
  readonly status: 'FIRING' | 'RESOLVED';
  readonly severity: string;
  readonly feature: string | null;
  readonly statistic: string | null;
  readonly value: number | null;
  readonly threshold: number | null;
  readonly windowName: string | null;
  readonly windowStart: number | null;
  readonly windowEnd: number | null;
  readonly sampleSize: number | null;
  readonly detectedAt: number;
  /** The record's `details` (string values): what label rules match. */
  readonly labels: Readonly<Record<string, string>>;
  /** The record as it was published, for the webhook's `data`. */
  readonly raw: Readonly<Record<string, unknown>>;
}

const MAX_ID = 512;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

function num(v: unknown): number | null {
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
}

function required(v: Record<string, unknown>, field: string): string {
  const s = str(v[field]);
  if (s === null) throw new ValidationError(`${field}: expected a non-empty string`, { code: 'ALERT_RECORD_INVALID' });
  if (s.length > MAX_ID) throw new ValidationError(`${field}: longer than ${MAX_ID} characters`, { code: 'ALERT_RECORD_INVALID' });
  return s;
}

function labelsOf(details: unknown): Record<string, string> {
  if (!isObject(details)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(details)) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
  return out;
}

/** Replaces bigints (Avro longs) by numbers so the raw record serializes as JSON. */
function jsonSafe(v: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x))) as Record<string, unknown>;
}

/**
 * Reads a decoded alerts-topic value. `alertId` and `modelId` are required;
 * `kind` (or `type`) defaults to `ALERT`, `status` to FIRING and `severity`
 * to WARNING, so record types other than DriftAlert route by the same rules.
 */
export function toAlertRecord(value: unknown, now: number): AlertRecord {
  if (!isObject(value)) throw new ValidationError('expected a JSON object or an Avro record', { code: 'ALERT_RECORD_INVALID' });
  const status = str(value.status) ?? 'FIRING';
  if (status !== 'FIRING' && status !== 'RESOLVED') throw new ValidationError(`status: expected FIRING or RESOLVED, got ${JSON.stringify(status).slice(0, 40)}`, { code: 'ALERT_RECORD_INVALID' });
  return {
    alertId: required(value, 'alertId'),
    modelId: required(value, 'modelId'),
    kind: (str(value.kind) ?? str(value.type) ?? 'ALERT').slice(0, 64),
    status,
    severity: (str(value.severity) ?? 'WARNING').slice(0, 32),
    feature: str(value.feature),
    statistic: str(value.statistic),
    value: num(value.value),
    threshold: num(value.threshold),
    windowName: str(value.windowName),
    windowStart: num(value.windowStart),
    windowEnd: num(value.windowEnd),
    sampleSize: num(value.sampleSize),
    detectedAt: num(value.detectedAt) ?? now,
    labels: labelsOf(value.details ?? value.labels),
    raw: jsonSafe(value),
  };
}

/** The effect an alert carries: the verdict's effect when it names one, else its value. */
export function effectOf(r: AlertRecord): number | null {
  const e = num(r.labels.effect);
  return e ?? r.value;
}
