import { DecodeError } from '../errors.js';

export type FeatureValue = number | string | boolean | null;

/** One prediction of a model (schemas/InferenceEvent.avsc). */
export interface InferenceEvent {
  eventId: string;
  modelId: string;
  modelVersion: string | null;
  /** Event time, epoch milliseconds. */
  timestamp: number;
  features: Record<string, FeatureValue>;
  prediction: number | string | null;
  /** Probability of the positive class. */
  score: number | null;
  attributes: Record<string, string>;
}

/** The true outcome of an earlier prediction (schemas/GroundTruthEvent.avsc). */
export interface GroundTruthEvent {
  eventId: string;
  modelId: string;
  timestamp: number;
  label: number | string | boolean;
}

export type AlertKind = 'FEATURE_DRIFT' | 'PREDICTION_DRIFT' | 'DATASET_DRIFT' | 'PERFORMANCE' | 'DATA_QUALITY' | 'RETRAIN_RECOMMENDED' | 'MULTIVARIATE_DRIFT' | 'ESTIMATED_PERFORMANCE';
export type AlertSeverity = 'WARNING' | 'CRITICAL';
export type AlertStatus = 'FIRING' | 'RESOLVED';

/** A drift incident record (schemas/DriftAlert.avsc). */
export interface DriftAlert {
  alertId: string;
  modelId: string;
  modelVersion: string | null;
  kind: AlertKind;
  feature: string | null;
  statistic: string;
  value: number;
  threshold: number;
  severity: AlertSeverity;
  status: AlertStatus;
  windowName: string;
  windowStart: number;
  windowEnd: number;
  sampleSize: number;
  referenceId: string;
  detectedAt: number;
  details: Record<string, string>;
}

// Event times before 2000-01-01 or after 2200-01-01 are almost surely seconds or
// microseconds sent by mistake; counting them would open windows decades away.
const MIN_TS = 946_684_800_000;
const MAX_TS = 7_258_118_400_000;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(message: string): never {
  throw new DecodeError('invalid_event', message);
}

function requireId(o: Record<string, unknown>, field: string): string {
  const v = o[field];
  if (typeof v !== 'string' || v.length === 0) invalid(`${field} must be a non-empty string`);
  if (v.length > 256) invalid(`${field} is longer than 256 characters`);
  return v;
}

function requireTimestamp(o: Record<string, unknown>): number {
  let v = o.timestamp;
  if (typeof v === 'bigint') v = Number(v);
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v)) v = Date.parse(v);
  if (v instanceof Date) v = v.getTime();
  if (typeof v !== 'number' || !Number.isFinite(v) || !Number.isInteger(v)) invalid('timestamp must be finite epoch milliseconds');
  if (v < MIN_TS || v > MAX_TS) invalid(`timestamp ${v} is not epoch milliseconds between 2000 and 2200`);
  return v;
}

/**
 * Checks a decoded value (from Avro or JSON) and returns a normalized
 * {@link InferenceEvent}; throws a {@link DecodeError} with reason `invalid_event`
 * that says which field is wrong.
 */
export function toInferenceEvent(value: unknown): InferenceEvent {
  if (!isObject(value)) invalid('value must be an object');
  const eventId = requireId(value, 'eventId');
  const modelId = requireId(value, 'modelId');
  const timestamp = requireTimestamp(value);
  const mv = value.modelVersion;
  if (mv !== undefined && mv !== null && typeof mv !== 'string') invalid('modelVersion must be a string or null');
  const rawFeatures = value.features ?? {};
  if (!isObject(rawFeatures)) invalid('features must be an object');
  const features: Record<string, FeatureValue> = {};
  for (const [k, v] of Object.entries(rawFeatures)) {
    if (v === null || v === undefined) features[k] = null;
    else if (typeof v === 'number') {
      if (!Number.isFinite(v)) invalid(`feature ${k} is not a finite number`);
      features[k] = v;
    } else if (typeof v === 'string' || typeof v === 'boolean') features[k] = v;
    else invalid(`feature ${k} must be a number, string, boolean or null`);
  }
  const p = value.prediction;
  if (p !== undefined && p !== null && typeof p !== 'string' && !(typeof p === 'number' && Number.isFinite(p))) {
    invalid('prediction must be a finite number, a string or null');
  }
  const s = value.score;
  if (s !== undefined && s !== null && !(typeof s === 'number' && Number.isFinite(s))) invalid('score must be a finite number or null');
  const rawAttrs = value.attributes ?? {};
  if (!isObject(rawAttrs)) invalid('attributes must be an object of strings');
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(rawAttrs)) {
    if (typeof v !== 'string') invalid(`attribute ${k} must be a string`);
    attributes[k] = v;
  }
  return {
    eventId,
    modelId,
    modelVersion: (mv as string | null | undefined) ?? null,
    timestamp,
    features,
    prediction: (p as number | string | null | undefined) ?? null,
    score: (s as number | null | undefined) ?? null,
    attributes,
  };
}

/** Checks a decoded value and returns a normalized {@link GroundTruthEvent}. */
export function toGroundTruthEvent(value: unknown): GroundTruthEvent {
  if (!isObject(value)) invalid('value must be an object');
  const eventId = requireId(value, 'eventId');
  const modelId = requireId(value, 'modelId');
  const timestamp = requireTimestamp(value);
  const label = value.label;
  if (!(typeof label === 'string' || typeof label === 'boolean' || (typeof label === 'number' && Number.isFinite(label)))) {
    invalid('label must be a finite number, a string or a boolean');
  }
  return { eventId, modelId, timestamp, label };
}
