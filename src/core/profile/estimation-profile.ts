import { binIndex } from '../stats/bin-index.js';
import { isotonicFit } from '../stats/isotonic.js';
import { coxCalibrationTest } from '../stats/calibration-test.js';
import { quantileEdges } from '../stats/quantile-edges.js';
import { sortFloat64 } from '../stats/sort-float64.js';
import { classKey } from '../performance/records.js';
import type { ScoreOf } from '../model/model-config.js';

/** Most label classes a multi-class calibration splits window counts by; rarer ones pool. */
const MAX_CLASSES = 100;

/**
 * The score calibration of a binary classifier fitted on the reference's
 * labelled rows, which estimated performance (docs/detector.md, "Estimated
 * performance") turns window score histograms into expected confusion
 * matrices with.
 */
export interface EstimationProfile {
  readonly positiveClass: string;
  /** A score at or above it predicts the positive class; it is one of {@link edges}. */
  readonly decisionThreshold: number;
  /** Interior edges of the score bins (equal-mass on the reference, plus the threshold); bin i covers [e(i-1), e(i)). */
  readonly edges: readonly number[];
  /** Calibrated probability of the positive class per bin (nondecreasing). */
  readonly probability: readonly number[];
  /**
   * How {@link probability} was made: `isotonic` (fitted on the labels, bin
   * by bin), or `logistic` (Cox's test found no miscalibration of the scores
   * at the 5% level: the mean over the bin's reference rows of
   * sigmoid(a + b logit(score)), two parameters fitted on every labelled row,
   * so far less of the labels' noise than a fit per bin). Absent in profiles
   * built before the choice: `isotonic`.
   */
  readonly method?: 'isotonic' | 'logistic';
  /** Labelled rows with a score the calibration was fitted on. */
  readonly labelled: number;
  /** Expected calibration error of the chosen {@link method}, fitted on half the rows, measured on the other half (10 equal-mass bins). */
  readonly calibrationError: number;
  /**
   * Present when the score is the predicted class's probability (a multi-class
   * model, `scoreOf: predictedClass`): {@link probability} is then P(the
   * prediction is right), and these are the reference's label classes (the
   * 100 most frequent) window counts are split by.
   */
  readonly classes?: readonly string[];
  /** False when the estimate should not be trusted; {@link reason} says why. */
  readonly reliable: boolean;
  readonly reason?: string;
}

/** Options of an {@link EstimationProfileBuilder}. */
export interface EstimationOptions {
  readonly positiveClass: string;
  readonly decisionThreshold: number;
  /** What the score is the probability of: the positive class (default) or the predicted class. */
  readonly scoreOf?: ScoreOf;
  /** Equal-mass score bins. Default 100. */
  readonly bins?: number;
  /** Fewest labelled rows for a reliable calibration. Default 500. */
  readonly minLabelled?: number;
  /** Largest held-out calibration error of a reliable calibration. Default 0.05. */
  readonly maxCalibrationError?: number;
  /** `auto` (default): the scores as they are when Cox's test finds them calibrated at the 5% level, else the fit; `isotonic`: always the fit. */
  readonly method?: 'auto' | 'isotonic';
}

interface Fit {
  edges: number[];
  probability: number[];
}

/**
 * Collects (score, label) pairs of a reference's labelled rows and fits the
 * calibration: equal-mass score bins, the positive share per bin made
 * monotone by isotonic regression (pool adjacent violators, weighted by the
 * bins' counts), then interpolated linearly between the pooled blocks'
 * centres so the calibrated probability keeps rising where the scores do.
 */
export class EstimationProfileBuilder {
  private scores: number[] = [];
  private labels: number[] = [];
  private readonly classCounts = new Map<string, number>();

  constructor(private readonly options: EstimationOptions) {}

  /**
   * Adds a labelled row; rows without a finite score or a label are left out,
   * and so are rows without a prediction when the score is the predicted class's.
   */
  accept(score: unknown, label: unknown, prediction?: unknown): void {
    if (typeof score !== 'number' || !Number.isFinite(score) || !isClass(label)) return;
    const key = classKey(label);
    if (this.options.scoreOf === 'predictedClass') {
      if (!isClass(prediction)) return;
      this.classCounts.set(key, (this.classCounts.get(key) ?? 0) + 1);
      this.labels.push(classKey(prediction) === key ? 1 : 0);
    } else {
      this.labels.push(key === this.options.positiveClass ? 1 : 0);
    }
    this.scores.push(score);
  }

  /** The calibration, or undefined without labelled scored rows of both classes. */
  build(): EstimationProfile | undefined {
    const n = this.scores.length;
    const positives = this.labels.reduce((a, b) => a + b, 0);
    if (n === 0 || positives === 0 || positives === n) return undefined;
    const all = this.fit([...Array(n).keys()]);
    // Scores that pass Cox's calibration test are used as they are: a fit would only add the labels' noise.
    const held = this.heldOutErrors();
    const cox = coxCalibrationTest(this.scores, this.labels);
    const logistic = this.options.method !== 'isotonic' && cox.pValue > 0.05;
    const calibrationError = logistic ? held.logistic : held.isotonic;
    const minLabelled = this.options.minLabelled ?? 500;
    const maxError = this.options.maxCalibrationError ?? 0.05;
    const reason =
      n < minLabelled
        ? `the reference has ${n} labelled rows with a score; a calibration needs ${minLabelled}`
        : calibrationError > maxError
          ? `the calibration does not hold on held-out reference rows (calibration error ${calibrationError.toFixed(3)} > ${maxError})`
          : undefined;
    return Object.freeze({
      positiveClass: this.options.positiveClass,
      decisionThreshold: this.options.decisionThreshold,
      edges: Object.freeze(all.edges),
      probability: Object.freeze(logistic ? this.logisticByBin(all.edges, cox) : all.probability),
      method: logistic ? 'logistic' : 'isotonic',
      labelled: n,
      calibrationError,
      ...(this.options.scoreOf === 'predictedClass' ? { classes: Object.freeze(this.frequentClasses()) } : {}),
      reliable: reason === undefined,
      ...(reason ? { reason } : {}),
    });
  }

  private frequentClasses(): string[] {
    return [...this.classCounts.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, MAX_CLASSES)
      .map(([c]) => c);
  }

  private fit(rows: readonly number[]): Fit {
    const sorted = sortFloat64(Float64Array.from(rows, (r) => this.scores[r]));
    const edges = quantileEdges(sorted, this.options.bins ?? 100);
    const t = this.options.decisionThreshold;
    if (!edges.includes(t)) {
      edges.push(t);
      edges.sort((a, b) => a - b);
    }
    const bins = edges.length + 1;
    const count = new Array<number>(bins).fill(0);
    const pos = new Array<number>(bins).fill(0);
    const sum = new Array<number>(bins).fill(0);
    for (const r of rows) {
      const b = binIndex(edges, this.scores[r]);
      count[b]++;
      pos[b] += this.labels[r];
      sum[b] += this.scores[r];
    }
    const used = [...count.keys()].filter((b) => count[b] > 0);
    const fitted = isotonicFit(
      used.map((b) => pos[b] / count[b]),
      used.map((b) => count[b]),
    );
    const centres = used.map((b) => sum[b] / count[b]);
    return { edges, probability: smoothBlocks(count, sum, used, fitted, centres) };
  }

  /** Expected calibration errors on the odd rows: of the fit on the even rows, and of the scores taken as they are. */
  /** Per bin, the mean recalibrated probability sigmoid(a + b logit(score)) of its rows (at its edges' midpoint when it holds none). */
  private logisticByBin(edges: readonly number[], cox: { intercept: number; slope: number }): number[] {
    const sum = new Array<number>(edges.length + 1).fill(0);
    const count = new Array<number>(edges.length + 1).fill(0);
    for (const score of this.scores) {
      const b = binIndex(edges, score);
      sum[b] += recalibrated(score, cox);
      count[b]++;
    }
    return count.map((c, b) => (c > 0 ? sum[b] / c : recalibrated((edges[Math.max(0, b - 1)] + edges[Math.min(edges.length - 1, b)]) / 2, cox)));
  }

  private heldOutErrors(): { isotonic: number; logistic: number } {
    const even = [...Array(this.scores.length).keys()].filter((r) => r % 2 === 0);
    const odd = [...Array(this.scores.length).keys()].filter((r) => r % 2 === 1);
    if (odd.length < 10) return { isotonic: Infinity, logistic: Infinity };
    const fit = this.fit(even);
    const cox = coxCalibrationTest(
      even.map((r) => this.scores[r]),
      even.map((r) => this.labels[r]),
    );
    return {
      isotonic: this.calibrationErrorOn(
        odd,
        odd.map((r) => fit.probability[binIndex(fit.edges, this.scores[r])]),
      ),
      logistic: this.calibrationErrorOn(
        odd,
        odd.map((r) => recalibrated(this.scores[r], cox)),
      ),
    };
  }

  /** Expected calibration error of `predicted` (one per row of `odd`) over 10 equal-mass bins of it. */
  private calibrationErrorOn(odd: readonly number[], predicted: readonly number[]): number {
    const order = [...odd.keys()].sort((a, b) => predicted[a] - predicted[b]);
    let error = 0;
    for (let k = 0; k < 10; k++) {
      const slice = order.slice(Math.floor((k * order.length) / 10), Math.floor(((k + 1) * order.length) / 10));
      if (slice.length === 0) continue;
      let p = 0;
      let y = 0;
      for (const i of slice) {
        p += predicted[i];
        y += this.labels[odd[i]];
      }
      error += Math.abs(p - y) / odd.length;
    }
    return error;
  }
}

/**
 * Per-bin probability from the isotonic fit of the used bins: each pooled
 * block's value sits at its weighted mean score, and every bin takes the
 * linear interpolation at its own mean score (flat beyond the outer blocks).
 * Empty bins take their nearest used neighbour's value.
 */
function smoothBlocks(count: number[], sum: number[], used: number[], fitted: number[], centres: number[]): number[] {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < used.length; ) {
    let j = i;
    let w = 0;
    let s = 0;
    while (j < used.length && fitted[j] === fitted[i]) {
      w += count[used[j]];
      s += sum[used[j]];
      j++;
    }
    xs.push(s / w);
    ys.push(fitted[i]);
    i = j;
  }
  const at = (x: number): number => {
    if (x <= xs[0]) return ys[0];
    if (x >= xs[xs.length - 1]) return ys[ys.length - 1];
    let k = 1;
    while (xs[k] < x) k++;
    return ys[k - 1] + ((ys[k] - ys[k - 1]) * (x - xs[k - 1])) / (xs[k] - xs[k - 1]);
  };
  const out = new Array<number>(count.length).fill(NaN);
  used.forEach((b, i) => (out[b] = at(centres[i])));
  for (let b = 0; b < out.length; b++) if (Number.isNaN(out[b])) out[b] = nearestUsed(out, b);
  return out;
}

/** sigmoid(a + b logit(score)), the score clamped inside (0, 1) as the test clamps it. */
function recalibrated(score: number, cox: { intercept: number; slope: number }): number {
  const s = Math.min(1 - 1e-6, Math.max(1e-6, score));
  return 1 / (1 + Math.exp(-(cox.intercept + cox.slope * Math.log(s / (1 - s)))));
}

function isClass(v: unknown): v is number | string | boolean {
  return (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v !== '') || typeof v === 'boolean';
}

function nearestUsed(values: number[], b: number): number {
  for (let d = 1; d < values.length; d++) {
    if (b - d >= 0 && !Number.isNaN(values[b - d])) return values[b - d];
    if (b + d < values.length && !Number.isNaN(values[b + d])) return values[b + d];
  }
  return 0;
}

/** Throws TypeError unless `e` has the shape of an {@link EstimationProfile} (a stored profile being read). */
export function checkEstimationProfile(e: unknown): asserts e is EstimationProfile {
  const p = e as Partial<EstimationProfile> | null;
  const ok =
    p !== null &&
    typeof p === 'object' &&
    typeof p.positiveClass === 'string' &&
    typeof p.decisionThreshold === 'number' &&
    Array.isArray(p.edges) &&
    Array.isArray(p.probability) &&
    p.probability.length === p.edges.length + 1 &&
    p.probability.every((v) => typeof v === 'number' && v >= 0 && v <= 1) &&
    (p.classes === undefined || (Array.isArray(p.classes) && p.classes.every((c) => typeof c === 'string'))) &&
    typeof p.reliable === 'boolean';
  if (!ok) throw new TypeError('reference profile: estimation is malformed');
}

/** A builder for a model that scores (not a regression), with its positive class, decision threshold and what its score means. */
export function estimationBuilderFor(model: { prediction: string; positiveClass: string; scoreOf?: ScoreOf; performance: { decisionThreshold: number } }): EstimationProfileBuilder | undefined {
  if (model.prediction === 'regression') return undefined;
  return new EstimationProfileBuilder({ positiveClass: model.positiveClass, decisionThreshold: model.performance.decisionThreshold, scoreOf: model.scoreOf });
}

/** `profile` with the builder's calibration attached (the same profile when none could be fitted). */
export function withEstimation<P extends object>(profile: P, builder: EstimationProfileBuilder | undefined): P {
  const estimation = builder?.build();
  return estimation ? Object.freeze({ ...profile, estimation }) : profile;
}
