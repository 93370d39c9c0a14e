import type { InferenceRecord, LabelRecord } from './records.js';

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

/** Bins of the per-class score histograms the ROC AUC is computed from. */
export const SCORE_BINS = 1000;

/**
 * Growth factor of the logarithmic label-delay bins: a quantile read from
 * them is within (γ-1)/(γ+1) ≈ 2.4% of the exact delay.
 */
export const DELAY_GAMMA = 1.05;
const LOG_DELAY_GAMMA = Math.log(DELAY_GAMMA);

/** One additive change to a counter: field name and amount. */
export type Increment = readonly [field: string, delta: number];

/**
 * The counter fields. Short names keep the Redis hashes small; `h1:`/`h0:`
 * hold score histograms of positive/negative labels (of right/wrong
 * predictions when the score is the predicted class's confidence), `d:` the label-delay
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

export function binaryEntropy(p: number): number {
  if (p <= 0 || p >= 1) return 0;
  return -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
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
  // The score's outcome: the positive class, or (a confidence of the predicted class) whether the prediction was right.
  const outcome = r.scoreOf === 'predictedClass' ? (r.predictedClass === null ? null : r.predictedClass === l.labelClass ? 1 : 0) : y;
  if (r.score !== null && outcome !== null) {
    const d = r.score - outcome;
    out.push([FIELD.brierCount, 1], [FIELD.brierSum, d * d], [`h${outcome}:${scoreBin(r.score)}`, 1]);
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
