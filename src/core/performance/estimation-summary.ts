import { binIndex } from '../stats/bin-index.js';
import type { EstimationProfile } from '../profile/estimation-profile.js';
import type { PredictionKind } from '../model/model-config.js';
import { classKey } from './records.js';

/** What a pane needs to count scores for estimated performance: the calibration's bins and how a prediction is read. */
export interface EstimationSpec {
  readonly profile: EstimationProfile;
  readonly kind: PredictionKind;
}

/** Serialized {@link EstimationSummary}: counts per (score bin, predicted class column), bin-major. */
export type EstimationSummaryJSON = number[];

/**
 * Per-pane counts of scored events by calibration bin and predicted class.
 * Binary: two columns, negative and positive (a `score` model predicts
 * positive at or above the decision threshold, a `class` model says so in
 * its prediction). Multi-class (the calibration has `classes`): one column
 * per class, then one for every other prediction. Everything estimated
 * performance needs; summaries of panes and partitions add.
 */
export class EstimationSummary {
  readonly counts: Float64Array;
  /** Columns per bin. */
  readonly columns: number;
  private readonly columnOf: ReadonlyMap<string, number> | undefined;

  constructor(readonly spec: EstimationSpec) {
    const classes = spec.profile.classes;
    this.columns = classes ? classes.length + 1 : 2;
    this.columnOf = classes ? new Map(classes.map((c, i) => [c, i])) : undefined;
    this.counts = new Float64Array(this.columns * (spec.profile.edges.length + 1));
  }

  /** Counts one event; events without a finite score are not counted. */
  accept(score: number | null, prediction: number | string | null): void {
    if (typeof score !== 'number' || !Number.isFinite(score)) return;
    this.counts[this.columns * binIndex(this.spec.profile.edges, score) + this.column(score, prediction)]++;
  }

  private column(score: number, prediction: number | string | null): number {
    const { profile, kind } = this.spec;
    if (this.columnOf !== undefined) return (prediction === null ? undefined : this.columnOf.get(classKey(prediction))) ?? this.columns - 1;
    const positive = kind === 'class' && prediction !== null ? classKey(prediction) === profile.positiveClass : score >= profile.decisionThreshold;
    return positive ? 1 : 0;
  }

  merge(other: EstimationSummary): this {
    if (other.counts.length !== this.counts.length) throw new RangeError('estimation summaries on different bins');
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i];
    return this;
  }

  get count(): number {
    let n = 0;
    for (const c of this.counts) n += c;
    return n;
  }

  toJSON(): EstimationSummaryJSON {
    return Array.from(this.counts);
  }

  /** Restores counts written by {@link toJSON} onto `spec`'s bins. */
  static fromJSON(json: EstimationSummaryJSON, spec: EstimationSpec): EstimationSummary {
    const s = new EstimationSummary(spec);
    if (!Array.isArray(json) || json.length !== s.counts.length || !json.every((v) => typeof v === 'number' && v >= 0)) {
      throw new TypeError('estimation summary: counts do not match the calibration bins');
    }
    s.counts.set(json);
    return s;
  }
}
