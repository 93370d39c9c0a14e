import { ValidationError } from '../../errors.js';
import { formatDuration, parseDuration } from '../duration.js';
import { METRIC_DIRECTION } from './performance-config.js';

/** A performance gate: the metric's degradation against the reference, with enough labels to trust it. */
export interface RetrainPerformanceGate {
  readonly metric: string;
  /** Degradation at which the gate holds (a drop, or a relative rise for error metrics; see core/drift/performance-alerts.ts). */
  readonly degradation: number;
  /** Labelled predictions a window needs for its performance to count. */
  readonly minLabelled: number;
}

/**
 * When a model signals RETRAIN_RECOMMENDED: its gates (the importance-weighted
 * dataset drift share, a performance degradation) must hold, one or all of
 * them, on every evaluation of one window for a sustained span of event time.
 */
export interface RetrainConfig {
  /** The window whose evaluations feed the gates (default: the model's first). */
  readonly window?: string;
  /** Importance-weighted share of drifting features at which the drift gate holds. */
  readonly weightedDriftShare?: number;
  readonly performance?: RetrainPerformanceGate;
  /** `any`: one gate holding is enough; `all`: every configured gate must. */
  readonly require: 'any' | 'all';
  /** Event time the gates must hold without a break. */
  readonly sustainMs: number;
  /** Evaluations without the gates holding that end an incident, so a later one signals again. */
  readonly clearAfter: number;
}

function fail(field: string, message: string): never {
  throw new ValidationError(`retrain.${field}: ${message}`, { code: 'MODEL_INVALID' });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function share(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > 1) fail(field, `expected a number above 0 and at most 1, got ${JSON.stringify(v)}`);
  return v;
}

function parsePerformanceGate(v: unknown): RetrainPerformanceGate {
  if (!isObject(v)) fail('performance', 'expected an object {metric, degradation, minLabelled?}');
  for (const k of Object.keys(v)) if (!['metric', 'degradation', 'minLabelled'].includes(k)) fail(`performance.${k}`, 'unknown field (expected one of metric, degradation, minLabelled)');
  const metric = v.metric;
  if (typeof metric !== 'string' || !(metric in METRIC_DIRECTION)) fail('performance.metric', `expected one of ${Object.keys(METRIC_DIRECTION).join(', ')}`);
  const d = v.degradation;
  if (typeof d !== 'number' || !Number.isFinite(d) || d <= 0) fail('performance.degradation', `expected a number above 0, got ${JSON.stringify(d)}`);
  const m = v.minLabelled ?? 100;
  if (typeof m !== 'number' || !Number.isInteger(m) || m < 1) fail('performance.minLabelled', `expected a whole number of at least 1, got ${JSON.stringify(m)}`);
  return Object.freeze({ metric, degradation: d, minLabelled: m });
}

/** Validates a model's `retrain` block (undefined when absent). */
export function parseRetrainConfig(v: unknown, windowNames: readonly string[], resolveAfter: number): RetrainConfig | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) fail('', 'expected an object {window?, weightedDriftShare?, performance?, require?, sustainFor, clearAfter?}');
  const allowed = ['window', 'weightedDriftShare', 'performance', 'require', 'sustainFor', 'clearAfter'];
  for (const k of Object.keys(v)) if (!allowed.includes(k)) fail(k, `unknown field (expected one of ${allowed.join(', ')})`);
  if (v.window !== undefined && (typeof v.window !== 'string' || !windowNames.includes(v.window))) fail('window', `expected one of the model's windows (${windowNames.join(', ')})`);
  if (v.weightedDriftShare === undefined && v.performance === undefined) fail('', 'needs at least one gate: weightedDriftShare or performance');
  if (v.require !== undefined && v.require !== 'any' && v.require !== 'all') fail('require', 'expected "any" or "all"');
  const sustainMs = parseDuration(v.sustainFor as string | number);
  if (v.sustainFor === undefined || sustainMs === undefined) fail('sustainFor', 'expected a duration like 30m or 2h');
  const clearAfter = v.clearAfter ?? resolveAfter;
  if (typeof clearAfter !== 'number' || !Number.isInteger(clearAfter) || clearAfter < 1 || clearAfter > 1000) fail('clearAfter', 'expected a whole number between 1 and 1000');
  return Object.freeze({
    ...(v.window !== undefined ? { window: v.window as string } : {}),
    ...(v.weightedDriftShare !== undefined ? { weightedDriftShare: share('weightedDriftShare', v.weightedDriftShare) } : {}),
    ...(v.performance !== undefined ? { performance: parsePerformanceGate(v.performance) } : {}),
    require: (v.require as 'any' | 'all' | undefined) ?? 'any',
    sustainMs,
    clearAfter,
  });
}

/** The JSON form of a retrain block (the duration as a string). */
export function retrainConfigToJson(c: RetrainConfig): Record<string, unknown> {
  return {
    ...(c.window !== undefined ? { window: c.window } : {}),
    ...(c.weightedDriftShare !== undefined ? { weightedDriftShare: c.weightedDriftShare } : {}),
    ...(c.performance ? { performance: { ...c.performance } } : {}),
    require: c.require,
    sustainFor: formatDuration(c.sustainMs),
    clearAfter: c.clearAfter,
  };
}
