/**
 * Model performance as mergeable counters.
 *
 * Every labelled pair (and every prediction, for the label-free proxy metrics)
 * becomes a handful of additive increments on a flat map of named counters.
 * Counters of two panes, two partitions or two processes merge by adding field
 * by field, which is exactly what Redis `HINCRBY`/`HINCRBYFLOAT` do on a hash:
 * the Lua join script in src/adapters/redis mirrors {@link predictionIncrements}
 * and {@link labelIncrements} field for field, and the conformance suite checks
 * that both produce the same counters.
 *
 * Metrics are computed from the counters only ({@link performanceMetrics},
 * {@link proxyMetrics}), so the same numbers come out of a window read from
 * Redis, from memory, or from a reference sample.
 */

/** How a model's prediction is read: a positive-class probability, a class, or a number. */
export type PredictionKind = 'score' | 'class' | 'regression';

/** What the performance counters need to know about a model. */
export interface PerformanceSpec {
  readonly kind: PredictionKind;
  /** The positive class, as a string (`"1"`, `"fraud"`); booleans read as `"1"`/`"0"`. Default `"1"`. */
  readonly positiveClass: string;
  /** A score at or above this is a positive prediction (kind `score`). Default 0.5. */
  readonly decisionThreshold: number;
}

export const DEFAULT_PERFORMANCE_SPEC: PerformanceSpec = Object.freeze({ kind: 'score', positiveClass: '1', decisionThreshold: 0.5 });

/** Bins of the per-class score histograms the ROC AUC is computed from. */
export const SCORE_BINS = 1000;

/**
 * Growth factor of the logarithmic label-delay bins: a quantile read from
 * them is within (γ-1)/(γ+1) ≈ 2.4% of the exact delay.
 */
export const DELAY_GAMMA = 1.05;
const LOG_DELAY_GAMMA = Math.log(DELAY_GAMMA);

/**
 * The compact, self-contained record an inference leaves for its label: all a
 * label needs to add to the counters of the inference's panes, without the
 * model's configuration.
 */
export interface InferenceRecord {
  readonly modelId: string;
  readonly eventId: string;
  /** Inference event time, epoch ms. */
  readonly timestamp: number;
  readonly kind: PredictionKind;
  /** 1 when the prediction is the positive class, 0 when not, null when unknown (score/class kinds). */
  readonly predictedPositive: 0 | 1 | null;
  /** Positive-class probability, clamped to [0, 1]; null when absent. */
  readonly score: number | null;
  /** The predicted class (kind `class`), or null. */
  readonly predictedClass: string | null;
  /** The predicted number (kind `regression`), or null. */
  readonly predictedValue: number | null;
  readonly positiveClass: string;
  /** Pane lengths (ms) whose counters this inference adds to: one per distinct window slide. */
  readonly paneSizes: readonly number[];
}

/** A ground-truth label, normalized for the counters. */
export interface LabelRecord {
  readonly modelId: string;
  readonly eventId: string;
  /** Label event time, epoch ms (the label delay is this minus the inference time). */
  readonly timestamp: number;
  /** The label as a class key (`true` → `"1"`, `2.0` → `"2"`). */
  readonly labelClass: string;
  /** The label as a number, when it is one (booleans read 1/0); null otherwise. */
  readonly labelValue: number | null;
}

/** One additive change to a counter: field name and amount. */
export type Increment = readonly [field: string, delta: number];

/**
 * The counter fields. Short names keep the Redis hashes small; `h1:`/`h0:`
 * hold score histograms of positive/negative labels, `d:` the label-delay
 * histogram, `pc:` predicted-class counts, `ct:`/`cp:`/`ca:` per-class true
 * positives, predictions and actuals (multi-class).
 */
export const FIELD = Object.freeze({
  predictions: 'pn',
  predictedKnown: 'pk',
  predictedPositive: 'pp',
  scoreCount: 'sn',
  scoreSum: 'ss',
  scoreSquares: 'sq',
  scoreEntropy: 'he',
  labelled: 'n',
  correct: 'ok',
  tp: 'tp',
  fp: 'fp',
  tn: 'tn',
  fn: 'fn',
  brierCount: 'bn',
  brierSum: 'bs',
  regressionCount: 'rn',
  absErrorSum: 'ra',
  sqErrorSum: 'rq',
  errorSum: 're',
  delayCount: 'dn',
} as const);

/** Maps a label or prediction value to the class key the counters compare. */
export function classKey(value: number | string | boolean): string {
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number') return String(value);
  return value;
}

/** Reads a label or prediction as a number when it is one. */
export function numericValue(value: number | string | boolean | null | undefined): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** The score-histogram bin of a probability (clamped to [0, 1]). */
export function scoreBin(score: number): number {
  const b = Math.floor(score * SCORE_BINS);
  return b < 0 ? 0 : b >= SCORE_BINS ? SCORE_BINS - 1 : b;
}

/** The label-delay bin of a delay in ms: 0 for < 1 ms, else ⌈log_γ(delay)⌉. */
export function delayBin(delayMs: number): number {
  if (!(delayMs >= 1)) return 0;
  return Math.max(1, Math.ceil(Math.log(delayMs) / LOG_DELAY_GAMMA));
}

/** A representative delay (ms) of a delay bin, within (γ-1)/(γ+1) of every delay in it. */
export function delayBinValue(bin: number): number {
  if (bin <= 0) return 0;
  return (2 * Math.pow(DELAY_GAMMA, bin)) / (DELAY_GAMMA + 1);
}

function binaryEntropy(p: number): number {
  if (p <= 0 || p >= 1) return 0;
  return -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
}

/**
 * Builds the record an inference stores for its label. Returns undefined when
 * there is nothing to measure (no prediction and no score).
 */
export function toInferenceRecord(
  event: { eventId: string; modelId: string; timestamp: number; prediction: number | string | null; score: number | null },
  spec: PerformanceSpec,
  paneSizes: readonly number[],
): InferenceRecord {
  const score = event.score === null || !Number.isFinite(event.score) ? null : Math.min(1, Math.max(0, event.score));
  let predictedPositive: 0 | 1 | null = null;
  let predictedClass: string | null = null;
  let predictedValue: number | null = null;
  if (spec.kind === 'regression') {
    predictedValue = numericValue(event.prediction) ?? (event.score === null ? null : event.score);
  } else if (spec.kind === 'score') {
    if (score !== null) predictedPositive = score >= spec.decisionThreshold ? 1 : 0;
    else if (event.prediction !== null) predictedPositive = classKey(event.prediction) === spec.positiveClass ? 1 : 0;
  } else {
    if (event.prediction !== null) predictedClass = classKey(event.prediction);
    else if (score !== null) predictedClass = score >= spec.decisionThreshold ? spec.positiveClass : `not ${spec.positiveClass}`;
    if (predictedClass !== null) predictedPositive = predictedClass === spec.positiveClass ? 1 : 0;
  }
  return {
    modelId: event.modelId,
    eventId: event.eventId,
    timestamp: event.timestamp,
    kind: spec.kind,
    predictedPositive,
    score: spec.kind === 'regression' ? null : score,
    predictedClass,
    predictedValue,
    positiveClass: spec.positiveClass,
    paneSizes: normalizePaneSizes(paneSizes),
  };
}

/**
 * Distinct pane sizes, ascending. An already normalized array (the usual
 * case: callers compute a model's pane sizes once) is returned as is, so
 * building a record allocates nothing for it.
 */
export function normalizePaneSizes(paneSizes: readonly number[]): readonly number[] {
  for (let i = 1; i < paneSizes.length; i++) {
    if (!(paneSizes[i] > paneSizes[i - 1])) return [...new Set(paneSizes)].sort((a, b) => a - b);
  }
  return paneSizes;
}

/** Normalizes a ground-truth event for the counters. */
export function toLabelRecord(event: { eventId: string; modelId: string; timestamp: number; label: number | string | boolean }): LabelRecord {
  return {
    modelId: event.modelId,
    eventId: event.eventId,
    timestamp: event.timestamp,
    labelClass: classKey(event.label),
    labelValue: numericValue(event.label),
  };
}

/** The start of the pane of length `paneMs` (epoch aligned) that holds `timestamp`. */
export function paneStartOf(timestamp: number, paneMs: number): number {
  return timestamp - (((timestamp % paneMs) + paneMs) % paneMs);
}

/**
 * Increments one prediction adds to its panes' counters (the label-free proxy
 * metrics and the prediction count that label coverage divides by).
 */
export function predictionIncrements(r: InferenceRecord): Increment[] {
  const out: Increment[] = [];
  visitPredictionIncrements(r, { inc: (field, delta) => void out.push([field, delta]) });
  return out;
}

/** Receives increments one by one (no array per event). */
export interface IncrementSink {
  inc(field: string, delta: number): void;
}

/** Hands the increments of {@link predictionIncrements} to `sink`, in the same order, without allocating them. */
export function visitPredictionIncrements(r: InferenceRecord, sink: IncrementSink): void {
  sink.inc(FIELD.predictions, 1);
  if (r.predictedPositive !== null) {
    sink.inc(FIELD.predictedKnown, 1);
    if (r.predictedPositive === 1) sink.inc(FIELD.predictedPositive, 1);
  }
  if (r.predictedClass !== null) sink.inc(`pc:${r.predictedClass}`, 1);
  const v = r.kind === 'regression' ? r.predictedValue : r.score;
  if (v !== null) {
    sink.inc(FIELD.scoreCount, 1);
    sink.inc(FIELD.scoreSum, v);
    sink.inc(FIELD.scoreSquares, v * v);
    if (r.kind !== 'regression') sink.inc(FIELD.scoreEntropy, binaryEntropy(v));
  }
}

/** Increments one joined (inference, label) pair adds to the inference's panes' counters. */
export function labelIncrements(r: InferenceRecord, l: LabelRecord): Increment[] {
  const out: Increment[] = [[FIELD.labelled, 1]];
  const delay = Math.max(0, l.timestamp - r.timestamp);
  out.push([FIELD.delayCount, 1], [`d:${delayBin(delay)}`, 1]);
  if (r.kind === 'regression') {
    if (r.predictedValue !== null && l.labelValue !== null) {
      const e = r.predictedValue - l.labelValue;
      out.push([FIELD.regressionCount, 1], [FIELD.absErrorSum, Math.abs(e)], [FIELD.sqErrorSum, e * e], [FIELD.errorSum, e]);
    }
    return out;
  }
  const y = l.labelClass === r.positiveClass ? 1 : 0;
  if (r.predictedPositive !== null) {
    const p = r.predictedPositive;
    out.push([p === 1 ? (y === 1 ? FIELD.tp : FIELD.fp) : y === 1 ? FIELD.fn : FIELD.tn, 1]);
  }
  if (r.score !== null) {
    const d = r.score - y;
    out.push([FIELD.brierCount, 1], [FIELD.brierSum, d * d], [`h${y}:${scoreBin(r.score)}`, 1]);
  }
  if (r.kind === 'class') {
    out.push([`ca:${l.labelClass}`, 1]);
    if (r.predictedClass !== null) {
      out.push([`cp:${r.predictedClass}`, 1]);
      if (r.predictedClass === l.labelClass) out.push([FIELD.correct, 1], [`ct:${l.labelClass}`, 1]);
    }
  } else if (r.predictedPositive !== null && r.predictedPositive === y) {
    out.push([FIELD.correct, 1]);
  }
  return out;
}

/**
 * A mergeable bag of performance counters (one pane, one window, or a
 * reference sample). `accept*` add one event, `merge` adds another bag,
 * `toJSON`/`fromJSON` are the serialization boundary (a plain field map, the
 * same shape as the Redis hash).
 */
export class PerformanceCounters implements IncrementSink {
  private readonly fields = new Map<string, number>();

  add(increments: Iterable<Increment>): this {
    for (const [f, d] of increments) this.fields.set(f, (this.fields.get(f) ?? 0) + d);
    return this;
  }

  /** Adds `delta` to one field. */
  inc(field: string, delta: number): void {
    this.fields.set(field, (this.fields.get(field) ?? 0) + delta);
  }

  acceptPrediction(r: InferenceRecord): this {
    visitPredictionIncrements(r, this);
    return this;
  }

  acceptLabel(r: InferenceRecord, l: LabelRecord): this {
    return this.add(labelIncrements(r, l));
  }

  merge(other: PerformanceCounters): this {
    for (const [f, v] of other.fields) this.fields.set(f, (this.fields.get(f) ?? 0) + v);
    return this;
  }

  get(field: string): number {
    return this.fields.get(field) ?? 0;
  }

  /** Fields starting with `prefix`, keyed by the rest of the name. */
  withPrefix(prefix: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const [f, v] of this.fields) if (f.startsWith(prefix)) out.set(f.slice(prefix.length), v);
    return out;
  }

  get size(): number {
    return this.fields.size;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.fields].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** Reads a field map; values may be numeric strings (as Redis `HGETALL` returns them). */
  static fromJSON(json: Record<string, number | string>): PerformanceCounters {
    const c = new PerformanceCounters();
    for (const [f, v] of Object.entries(json)) {
      const n = typeof v === 'number' ? v : Number(v);
      if (Number.isFinite(n) && n !== 0) c.fields.set(f, n);
    }
    return c;
  }
}

function ratio(num: number, den: number): number | null {
  return den > 0 ? num / den : null;
}

/**
 * ROC AUC from the per-class score histograms: the probability that a random
 * positive scores above a random negative, ties (same bin) counting one half.
 * With 1000 bins the error is at most half the share of positive-negative pairs
 * that share a bin. Null without both classes.
 */
export function rocAucFromHistograms(positive: ReadonlyMap<number, number>, negative: ReadonlyMap<number, number>): number | null {
  return rocAucWithBound(positive, negative).auc;
}

/**
 * ROC AUC from the per-class score histograms and its error bound: the exact
 * AUC of the same pairs differs by at most half the share of
 * positive-negative pairs that share a bin.
 */
export function rocAucWithBound(positive: ReadonlyMap<number, number>, negative: ReadonlyMap<number, number>): { auc: number | null; errorBound: number | null } {
  let p = 0;
  let n = 0;
  for (const v of positive.values()) p += v;
  for (const v of negative.values()) n += v;
  if (p === 0 || n === 0) return { auc: null, errorBound: null };
  const bins = [...new Set([...positive.keys(), ...negative.keys()])].sort((a, b) => a - b);
  let negBelow = 0;
  let sum = 0;
  let ties = 0;
  for (const b of bins) {
    const pb = positive.get(b) ?? 0;
    const nb = negative.get(b) ?? 0;
    sum += pb * (negBelow + 0.5 * nb);
    ties += pb * nb;
    negBelow += nb;
  }
  return { auc: sum / (p * n), errorBound: (0.5 * ties) / (p * n) };
}

function numericKeys(m: Map<string, number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [k, v] of m) {
    const b = Number(k);
    if (Number.isInteger(b) && v > 0) out.set(b, v);
  }
  return out;
}

/** The q-quantile (0..1) of the label delays, from the delay histogram; null without labels. */
export function delayQuantile(c: PerformanceCounters, q: number): number | null {
  const bins = [...numericKeys(c.withPrefix('d:'))].sort((a, b) => a[0] - b[0]);
  let total = 0;
  for (const [, v] of bins) total += v;
  if (total === 0) return null;
  // Nearest rank on the binned values: the smallest bin holding at least q·total delays.
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const [b, v] of bins) {
    seen += v;
    if (seen >= rank) return delayBinValue(b);
  }
  return delayBinValue(bins[bins.length - 1][0]);
}

/** Classification and regression metrics of a bag of counters; a metric without data is null. */
export function performanceMetrics(c: PerformanceCounters, kind: PredictionKind): Record<string, number | null> {
  if (kind === 'regression') {
    const n = c.get(FIELD.regressionCount);
    return {
      mae: ratio(c.get(FIELD.absErrorSum), n),
      rmse: n > 0 ? Math.sqrt(Math.max(0, c.get(FIELD.sqErrorSum)) / n) : null,
      meanError: ratio(c.get(FIELD.errorSum), n),
    };
  }
  const tp = c.get(FIELD.tp);
  const fp = c.get(FIELD.fp);
  const tn = c.get(FIELD.tn);
  const fn = c.get(FIELD.fn);
  const binaryN = tp + fp + tn + fn;
  const out: Record<string, number | null> = {
    accuracy: ratio(tp + tn, binaryN),
    precision: ratio(tp, tp + fp),
    recall: ratio(tp, tp + fn),
    f1: ratio(2 * tp, 2 * tp + fp + fn),
    brier: ratio(Math.max(0, c.get(FIELD.brierSum)), c.get(FIELD.brierCount)),
    rocAuc: null,
    rocAucErrorBound: null,
    labelPositiveRate: ratio(tp + fn, binaryN),
  };
  const auc = rocAucWithBound(numericKeys(c.withPrefix('h1:')), numericKeys(c.withPrefix('h0:')));
  out.rocAuc = auc.auc;
  out.rocAucErrorBound = auc.errorBound;
  if (kind === 'class') {
    const actual = c.withPrefix('ca:');
    const predicted = c.withPrefix('cp:');
    const truePos = c.withPrefix('ct:');
    let labelledWithPrediction = 0;
    for (const v of predicted.values()) labelledWithPrediction += v;
    out.accuracy = ratio(c.get(FIELD.correct), labelledWithPrediction);
    const classes = new Set([...actual.keys(), ...predicted.keys()]);
    let f1Sum = 0;
    for (const k of classes) {
      const den = (actual.get(k) ?? 0) + (predicted.get(k) ?? 0);
      f1Sum += den > 0 ? (2 * (truePos.get(k) ?? 0)) / den : 0;
    }
    out.macroF1 = classes.size > 0 && labelledWithPrediction > 0 ? f1Sum / classes.size : null;
  }
  return out;
}

/** Label-free metrics of the predictions: positive rate, score (or prediction) mean and std, entropy. */
export function proxyMetrics(c: PerformanceCounters, kind: PredictionKind): Record<string, number | null> {
  const sn = c.get(FIELD.scoreCount);
  const mean = ratio(c.get(FIELD.scoreSum), sn);
  const variance = sn > 1 && mean !== null ? Math.max(0, (c.get(FIELD.scoreSquares) - sn * mean * mean) / (sn - 1)) : null;
  const std = variance === null ? null : Math.sqrt(variance);
  if (kind === 'regression') return { predictionMean: mean, predictionStd: std };
  const pk = c.get(FIELD.predictedKnown);
  const positiveRate = ratio(c.get(FIELD.predictedPositive), pk);
  let entropy: number | null;
  if (kind === 'class') {
    const counts = [...c.withPrefix('pc:').values()].filter((v) => v > 0);
    const total = counts.reduce((a, b) => a + b, 0);
    entropy = total > 0 ? -counts.reduce((h, v) => h + (v / total) * Math.log(v / total), 0) : null;
  } else {
    entropy = positiveRate === null ? null : binaryEntropy(positiveRate);
  }
  return {
    positiveRate,
    scoreMean: mean,
    scoreStd: std,
    predictionEntropy: entropy,
    meanScoreEntropy: ratio(c.get(FIELD.scoreEntropy), sn),
  };
}

/** Everything the API serves about one window's performance. */
export interface PerformanceSummary {
  labelled: number;
  predictions: number;
  /** Labelled share of the window's predictions; null without predictions. */
  coverage: number | null;
  metrics: Record<string, number | null>;
  proxy: Record<string, number | null>;
  labelDelayP50Ms: number | null;
  labelDelayP95Ms: number | null;
}

/** Summarizes a bag of counters: counts, coverage, metrics, proxy metrics and label delay. */
export function summarizePerformance(c: PerformanceCounters, kind: PredictionKind): PerformanceSummary {
  const labelled = c.get(FIELD.labelled);
  const predictions = c.get(FIELD.predictions);
  return {
    labelled,
    predictions,
    coverage: predictions > 0 ? Math.min(1, labelled / predictions) : null,
    metrics: performanceMetrics(c, kind),
    proxy: proxyMetrics(c, kind),
    labelDelayP50Ms: delayQuantile(c, 0.5),
    labelDelayP95Ms: delayQuantile(c, 0.95),
  };
}

/** Reference performance, stored with a reference profile built from a labelled sample. */
export interface ReferencePerformance {
  /** Labelled rows the metrics come from. */
  readonly labelled: number;
  readonly kind: PredictionKind;
  readonly positiveClass: string;
  readonly metrics: Readonly<Record<string, number | null>>;
}

/**
 * Collects the performance of a labelled sample row by row (a reference
 * sample with a label column): each row is a prediction joined to its label
 * at once. Rows without a label are skipped.
 */
export class ReferencePerformanceBuilder {
  private readonly counters = new PerformanceCounters();
  private rows = 0;

  constructor(private readonly spec: PerformanceSpec) {}

  accept(row: { prediction?: unknown; score?: unknown; label?: unknown }): void {
    const label = row.label;
    if (label === null || label === undefined || label === '') return;
    if (typeof label !== 'number' && typeof label !== 'string' && typeof label !== 'boolean') return;
    const score = numericValue(row.score as number | string | null | undefined);
    const p = row.prediction;
    const prediction = typeof p === 'number' || typeof p === 'string' ? p : typeof p === 'boolean' ? classKey(p) : null;
    const id = String(this.rows++);
    const r = toInferenceRecord({ eventId: id, modelId: '', timestamp: 0, prediction: prediction === '' ? null : prediction, score }, this.spec, []);
    this.counters.acceptPrediction(r).acceptLabel(r, toLabelRecord({ eventId: id, modelId: '', timestamp: 0, label }));
  }

  get labelled(): number {
    return this.rows;
  }

  build(): ReferencePerformance | undefined {
    if (this.rows === 0) return undefined;
    return Object.freeze({
      labelled: this.rows,
      kind: this.spec.kind,
      positiveClass: this.spec.positiveClass,
      metrics: Object.freeze(performanceMetrics(this.counters, this.spec.kind)),
    });
  }
}

/**
 * Performance of a labelled sample (a reference with a label column): every
 * row is a prediction joined to its label at once.
 */
export function samplePerformance(
  rows: Iterable<{ prediction: number | string | null; score: number | null; label: number | string | boolean }>,
  spec: PerformanceSpec,
): PerformanceSummary {
  const c = new PerformanceCounters();
  let i = 0;
  for (const row of rows) {
    const r = toInferenceRecord({ eventId: String(i), modelId: '', timestamp: 0, prediction: row.prediction, score: row.score }, spec, []);
    const l = toLabelRecord({ eventId: String(i++), modelId: '', timestamp: 0, label: row.label });
    c.acceptPrediction(r).acceptLabel(r, l);
  }
  return summarizePerformance(c, spec.kind);
}
