import type { Evaluation, FeatureResult, Severity } from '../drift/types.js';

/** How long a roll-up bucket is. */
export type RollupResolution = 'hour' | 'day';

export const RESOLUTION_MS: Readonly<Record<RollupResolution, number>> = { hour: 3_600_000, day: 86_400_000 };

/** Mean and maximum of a statistic over the windows that had it. */
export interface StatisticRollup {
  n: number;
  mean: number;
  max: number;
}

/** The statistic's name in a {@link FeatureRollup} and how it is read off a feature's result. */
const STATISTICS = {
  psi: (f: FeatureResult) => f.psi,
  ks: (f: FeatureResult) => f.ks?.statistic,
  wassersteinNormed: (f: FeatureResult) => f.wassersteinNormed,
  jensenShannon: (f: FeatureResult) => f.jensenShannon,
  hellinger: (f: FeatureResult) => f.hellinger,
  missingRate: (f: FeatureResult) => f.missingRate,
} as const;

type StatisticName = keyof typeof STATISTICS;
const STATISTIC_NAMES = Object.keys(STATISTICS) as StatisticName[];

/** One feature (or score / prediction) over the windows of a bucket. */
export type FeatureRollup = {
  windows: number;
  driftWindows: number;
  severity: Severity;
  /** Smallest p-values seen (the strongest evidence of the bucket). */
  ksPValueMin?: number;
  chiSquarePValueMin?: number;
} & { [K in StatisticName]?: StatisticRollup };

/** Performance over the windows of a bucket that had labels. */
export interface PerformanceRollup {
  windows: number;
  labelled: number;
  predictions: number;
  /** Each metric's mean over the windows that had it. */
  metrics: Record<string, number | null>;
}

/** The windows of one series in one bucket, summarized for long ranges. */
export interface EvaluationRollup {
  modelId: string;
  windowName: string;
  resolution: RollupResolution;
  bucketStart: number;
  bucketEnd: number;
  windows: number;
  alertableWindows: number;
  /** Windows with dataset drift. */
  driftWindows: number;
  sampleSize: number;
  driftShare: { mean: number; max: number };
  severity: Severity;
  features: Record<string, FeatureRollup>;
  prediction?: Record<string, FeatureRollup>;
  performance?: PerformanceRollup;
}

const SEVERITIES: readonly Severity[] = ['NONE', 'WARNING', 'CRITICAL'];
const maxSeverity = (a: Severity, b: Severity): Severity => (SEVERITIES.indexOf(a) >= SEVERITIES.indexOf(b) ? a : b);
const finite = (x: number | undefined | null): x is number => typeof x === 'number' && Number.isFinite(x);

/** Start of the UTC bucket holding `t`. */
export function bucketStartOf(t: number, resolution: RollupResolution): number {
  return Math.floor(t / RESOLUTION_MS[resolution]) * RESOLUTION_MS[resolution];
}

function mergeStatistic(a: StatisticRollup | undefined, b: StatisticRollup | undefined): StatisticRollup | undefined {
  if (!a || a.n === 0) return b;
  if (!b || b.n === 0) return a;
  const n = a.n + b.n;
  return { n, mean: (a.mean * a.n + b.mean * b.n) / n, max: Math.max(a.max, b.max) };
}

const minOf = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));

function featureOf(f: FeatureResult): FeatureRollup {
  const out: FeatureRollup = { windows: 1, driftWindows: f.drift ? 1 : 0, severity: f.severity };
  for (const name of STATISTIC_NAMES) {
    const v = STATISTICS[name](f);
    if (finite(v)) out[name] = { n: 1, mean: v, max: v };
  }
  if (finite(f.ks?.pValue)) out.ksPValueMin = f.ks.pValue;
  if (finite(f.chiSquare?.pValue)) out.chiSquarePValueMin = f.chiSquare.pValue;
  return out;
}

function mergeFeature(a: FeatureRollup, b: FeatureRollup): FeatureRollup {
  const out: FeatureRollup = { windows: a.windows + b.windows, driftWindows: a.driftWindows + b.driftWindows, severity: maxSeverity(a.severity, b.severity) };
  for (const name of STATISTIC_NAMES) {
    const m = mergeStatistic(a[name], b[name]);
    if (m) out[name] = m;
  }
  const ksP = minOf(a.ksPValueMin, b.ksPValueMin);
  const chiP = minOf(a.chiSquarePValueMin, b.chiSquarePValueMin);
  if (ksP !== undefined) out.ksPValueMin = ksP;
  if (chiP !== undefined) out.chiSquarePValueMin = chiP;
  return out;
}

function mergeFeatures(a: Record<string, FeatureRollup> | undefined, b: Record<string, FeatureRollup> | undefined): Record<string, FeatureRollup> | undefined {
  if (!a) return b;
  if (!b) return a;
  const out = { ...a };
  for (const [k, f] of Object.entries(b)) out[k] = out[k] ? mergeFeature(out[k], f) : f;
  return out;
}

function mergePerformance(a: PerformanceRollup | undefined, b: PerformanceRollup | undefined): PerformanceRollup | undefined {
  if (!a) return b;
  if (!b) return a;
  const metrics: Record<string, number | null> = {};
  for (const k of new Set([...Object.keys(a.metrics), ...Object.keys(b.metrics)])) {
    const x = a.metrics[k];
    const y = b.metrics[k];
    // Weighted by windows: a metric missing on one side takes the other's value.
    metrics[k] = finite(x) && finite(y) ? (x * a.windows + y * b.windows) / (a.windows + b.windows) : finite(x) ? x : finite(y) ? y : null;
  }
  return { windows: a.windows + b.windows, labelled: a.labelled + b.labelled, predictions: a.predictions + b.predictions, metrics };
}

const mapValues = <T, U>(r: Record<string, T>, f: (t: T) => U): Record<string, U> => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, f(v)]));

/** One evaluation as a bucket of one window (the finest resolution of a history). */
export function rollupOfEvaluation(e: Evaluation, resolution: RollupResolution): EvaluationRollup {
  const severity = [...Object.values(e.features), ...Object.values(e.prediction ?? {})].reduce<Severity>((s, f) => maxSeverity(s, f.severity), 'NONE');
  const start = bucketStartOf(e.windowStart, resolution);
  return {
    modelId: e.modelId,
    windowName: e.windowName,
    resolution,
    bucketStart: start,
    bucketEnd: start + RESOLUTION_MS[resolution],
    windows: 1,
    alertableWindows: e.alertable ? 1 : 0,
    driftWindows: e.datasetDrift.drift ? 1 : 0,
    sampleSize: e.sampleSize,
    driftShare: { mean: e.datasetDrift.share, max: e.datasetDrift.share },
    severity,
    features: mapValues(e.features, featureOf),
    ...(e.prediction ? { prediction: mapValues(e.prediction, featureOf) } : {}),
    ...(e.performance
      ? { performance: { windows: 1, labelled: e.performance.labelled, predictions: e.performance.predictions, metrics: { ...e.performance.metrics } } }
      : {}),
  };
}

/** A point of a history: one bucket of a roll-up, or one window (resolution `window`, its bounds the window's). */
export type HistoryPoint = Omit<EvaluationRollup, 'resolution'> & { resolution: RollupResolution | 'window' };

/** One evaluation as a history point of its own window. */
export function pointOfEvaluation(e: Evaluation): HistoryPoint {
  return { ...rollupOfEvaluation(e, 'hour'), resolution: 'window', bucketStart: e.windowStart, bucketEnd: e.windowEnd };
}

/** Two buckets of one series as one (counts add, means weigh by windows, maxima and severities take the larger). */
export function mergeRollups(a: EvaluationRollup, b: EvaluationRollup): EvaluationRollup {
  const windows = a.windows + b.windows;
  const prediction = mergeFeatures(a.prediction, b.prediction);
  const performance = mergePerformance(a.performance, b.performance);
  return {
    ...a,
    windows,
    alertableWindows: a.alertableWindows + b.alertableWindows,
    driftWindows: a.driftWindows + b.driftWindows,
    sampleSize: a.sampleSize + b.sampleSize,
    driftShare: { mean: (a.driftShare.mean * a.windows + b.driftShare.mean * b.windows) / windows, max: Math.max(a.driftShare.max, b.driftShare.max) },
    severity: maxSeverity(a.severity, b.severity),
    features: mergeFeatures(a.features, b.features) ?? {},
    ...(prediction ? { prediction } : {}),
    ...(performance ? { performance } : {}),
  };
}

/**
 * Rolls evaluations (or finer roll-ups) of one series up into buckets of
 * `resolution`, oldest first. A bucket's roll-up does not depend on the order
 * its windows come in (up to rounding of the means).
 */
export function rollup(items: readonly (Evaluation | EvaluationRollup)[], resolution: RollupResolution): EvaluationRollup[] {
  const buckets = new Map<number, EvaluationRollup>();
  for (const item of items) {
    const r = 'bucketStart' in item ? rebucket(item, resolution) : rollupOfEvaluation(item, resolution);
    const prev = buckets.get(r.bucketStart);
    buckets.set(r.bucketStart, prev ? mergeRollups(prev, r) : r);
  }
  return [...buckets.values()].sort((a, b) => a.bucketStart - b.bucketStart);
}

function rebucket(r: EvaluationRollup, resolution: RollupResolution): EvaluationRollup {
  const start = bucketStartOf(r.bucketStart, resolution);
  return { ...r, resolution, bucketStart: start, bucketEnd: start + RESOLUTION_MS[resolution] };
}

const pick = <T>(r: Record<string, T>, names: ReadonlySet<string>): Record<string, T> => Object.fromEntries(Object.entries(r).filter(([k]) => names.has(k)));

const summaryOf = (f: FeatureRollup): FeatureRollup => ({ windows: f.windows, driftWindows: f.driftWindows, severity: f.severity });

/**
 * The roll-up with the named features (and score / prediction) and their
 * statistics; with `names` unset, every feature with its counts and
 * severity only (what an overview of a long range needs).
 */
export function onlyFeatures<T extends Pick<EvaluationRollup, 'features' | 'prediction'>>(r: T, names: readonly string[] | undefined): T {
  if (!names) return { ...r, features: mapValues(r.features, summaryOf), ...(r.prediction ? { prediction: mapValues(r.prediction, summaryOf) } : {}) };
  const keep = new Set(names);
  return { ...r, features: pick(r.features, keep), ...(r.prediction ? { prediction: pick(r.prediction, keep) } : {}) };
}
