import { CategoricalSummary, type CategoricalSummaryJSON } from '../stats/categorical-summary.js';
import { NumericSummary, type CompactNumericSummaryJSON, type NumericSummaryJSON } from '../stats/numeric-summary.js';
import { createSummary } from '../profile/reference-profile.js';
import { ReconstructionSummary, type ReconstructionSummaryJSON } from '../stats/reconstruction-error.js';
import { EstimationSummary, type EstimationSummaryJSON } from '../performance/estimation-summary.js';
import { SegmentPanes } from './segment-panes.js';
import { typeMismatchOf, type PaneLayout } from './pane-layout.js';

/** What both versions of {@link PaneJSON} hold alike. */
interface PaneJSONCommon {
  /** Model. */
  m: string;
  /** Reference the pane is binned on. */
  r: string;
  /** Pane start and end (event time, epoch ms). */
  s: number;
  e: number;
  /** Events counted. */
  n: number;
  /** Events rejected because a feature's type contradicted the model. */
  te: number;
  /** Latest model version seen. */
  mv: string | null;
  /** Sources merged into this pane (`topic/partition`), so a re-delivered partial is not counted twice. */
  src: string[];
  /** Numeric values outside the reference's [min, max], in layout order. */
  oor: number[];
  /** Categorical summaries, in layout order. */
  cat: CategoricalSummaryJSON[];
  pc?: CategoricalSummaryJSON;
  /** Reconstruction-error sums (multivariate drift), when the layout reconstructs. */
  re?: ReconstructionSummaryJSON;
  /** Scored events by calibration bin and predicted class (estimated performance), when the layout estimates. */
  es?: EstimationSummaryJSON;
  /** Segment panes by attribute and value (`__other__` pooled), when the layout segments. */
  sg?: Record<string, Record<string, PaneJSON>>;
}

/** Version 1: every numeric summary with its bin edges and its digest as number arrays. Still read. */
export interface PaneJSONV1 extends PaneJSONCommon {
  v: 1;
  /** Numeric summaries, in layout order. */
  num: NumericSummaryJSON[];
  sc?: NumericSummaryJSON;
  pv?: NumericSummaryJSON;
}

/**
 * Version 2 (written): numeric summaries without their bin edges (the
 * layout's, from the reference) and with compact digests (means as base64
 * of their bytes, weights left out while all are 1): about half the text of
 * version 1, the same state.
 */
export interface PaneJSONV2 extends PaneJSONCommon {
  v: 2;
  /** Numeric summaries, in layout order. */
  num: CompactNumericSummaryJSON[];
  sc?: CompactNumericSummaryJSON;
  pv?: CompactNumericSummaryJSON;
}

/** Serialized {@link Pane}: the one form panes take in checkpoints and between processes. */
export type PaneJSON = PaneJSONV1 | PaneJSONV2;

/** True for a stored pane partial in a format this version reads (1 or 2, binned on a named reference). */
export function isPaneJson(v: unknown): v is PaneJSON {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as PaneJSON;
  return (p.v === 1 || p.v === 2) && typeof p.r === 'string';
}

/**
 * The summaries of one model over one pane `[paneStart, paneEnd)` of event
 * time, from one partition or merged from several: a {@link NumericSummary}
 * per numeric feature on the reference's bin edges, a
 * {@link CategoricalSummary} per categorical feature, the score and
 * prediction distributions, and counters for data quality. Panes merge
 * (summaries add) and round-trip through {@link toJSON}/{@link Pane.fromJSON}.
 */
export class Pane {
  count = 0;
  typeErrors = 0;
  modelVersion: string | null = null;
  readonly numeric: NumericSummary[];
  readonly outOfRange: Float64Array;
  readonly categorical: CategoricalSummary[];
  readonly score: NumericSummary | undefined;
  readonly predictionClass: CategoricalSummary | undefined;
  readonly predictionValue: NumericSummary | undefined;
  readonly reconstruction: ReconstructionSummary | undefined;
  readonly estimation: EstimationSummary | undefined;
  readonly segments: SegmentPanes<Pane> | undefined;
  readonly sources = new Set<string>();
  private readonly refMin: Float64Array;
  private readonly refMax: Float64Array;

  constructor(
    readonly layout: PaneLayout,
    readonly paneStart: number,
    readonly paneEnd: number,
  ) {
    this.numeric = layout.numericProfiles.map((p) => createSummary(p));
    this.outOfRange = new Float64Array(layout.numericNames.length);
    this.refMin = Float64Array.from(layout.numericProfiles, (p) => p.min);
    this.refMax = Float64Array.from(layout.numericProfiles, (p) => p.max);
    this.categorical = layout.categoricalProfiles.map((p) => createSummary(p));
    this.score = layout.score ? createSummary(layout.score) : undefined;
    const pred = layout.prediction;
    this.predictionClass = pred?.type === 'categorical' ? createSummary(pred) : undefined;
    this.predictionValue = pred?.type === 'numeric' ? createSummary(pred) : undefined;
    this.reconstruction = layout.reconstruction ? new ReconstructionSummary() : undefined;
    this.estimation = layout.estimation ? new EstimationSummary(layout.estimation) : undefined;
    this.segments = layout.segments ? new SegmentPanes<Pane>(layout.segments, (l) => new Pane(l, paneStart, paneEnd)) : undefined;
  }

  get modelId(): string {
    return this.layout.modelId;
  }

  get referenceId(): string {
    return this.layout.referenceId;
  }

  /** See {@link typeMismatchOf}. */
  typeMismatch(features: Readonly<Record<string, unknown>>): string | undefined {
    return typeMismatchOf(this.layout, features);
  }

  /** Counts one event (its types already checked with {@link typeMismatch}). */
  accept(features: Readonly<Record<string, unknown>>, score: number | null, prediction: number | string | null, modelVersion: string | null): void {
    this.count++;
    if (modelVersion !== null) this.modelVersion = modelVersion;
    const nn = this.layout.numericNames;
    for (let i = 0; i < nn.length; i++) {
      const v = features[nn[i]] as number | null | undefined;
      this.numeric[i].accept(v);
      if (typeof v === 'number' && (v < this.refMin[i] || v > this.refMax[i])) this.outOfRange[i]++;
    }
    const cn = this.layout.categoricalNames;
    for (let i = 0; i < cn.length; i++) this.categorical[i].accept(features[cn[i]] as string | number | boolean | null | undefined);
    if (this.score !== undefined) this.score.accept(score);
    if (this.predictionClass !== undefined) this.predictionClass.accept(prediction);
    else if (this.predictionValue !== undefined) this.predictionValue.accept(typeof prediction === 'number' ? prediction : null);
    if (this.reconstruction !== undefined) this.reconstruction.accept(this.layout.reconstruction!.errorOfRecord(nn, features));
    if (this.estimation !== undefined) this.estimation.accept(score, prediction);
  }

  /** Counts the event whose features {@link gatherFeatures} just read into the layout's scratch space. */
  acceptGathered(score: number | null, prediction: number | string | null, modelVersion: string | null): void {
    this.count++;
    if (modelVersion !== null) this.modelVersion = modelVersion;
    const num = this.layout.scratchNumeric;
    for (let i = 0; i < num.length; i++) {
      const v = num[i];
      // NaN (missing) counts as missing in the summary and is never out of range.
      this.numeric[i].accept(v);
      if (v < this.refMin[i] || v > this.refMax[i]) this.outOfRange[i]++;
    }
    const cat = this.layout.scratchCategorical;
    for (let i = 0; i < cat.length; i++) this.categorical[i].accept(cat[i] as string | number | boolean | null | undefined);
    if (this.score !== undefined) this.score.accept(score);
    if (this.predictionClass !== undefined) this.predictionClass.accept(prediction);
    else if (this.predictionValue !== undefined) this.predictionValue.accept(typeof prediction === 'number' ? prediction : null);
    if (this.reconstruction !== undefined) this.reconstruction.accept(this.layout.reconstruction!.error(num));
    if (this.estimation !== undefined) this.estimation.accept(score, prediction);
  }

  /** Counts an event rejected for a type contradiction (data quality). */
  countTypeError(): void {
    this.typeErrors++;
  }

  /** Adds `other` (same model, reference and layout) into this pane; `other` is unchanged. */
  merge(other: Pane): this {
    if (other.layout.referenceId !== this.layout.referenceId || other.layout.modelId !== this.layout.modelId) {
      throw new RangeError(`cannot merge a pane of ${other.modelId}@${other.referenceId} into ${this.modelId}@${this.referenceId}`);
    }
    this.count += other.count;
    this.typeErrors += other.typeErrors;
    if (other.modelVersion !== null) this.modelVersion = other.modelVersion;
    for (let i = 0; i < this.numeric.length; i++) {
      this.numeric[i].merge(other.numeric[i]);
      this.outOfRange[i] += other.outOfRange[i];
    }
    for (let i = 0; i < this.categorical.length; i++) this.categorical[i].merge(other.categorical[i]);
    if (this.score && other.score) this.score.merge(other.score);
    if (this.predictionClass && other.predictionClass) this.predictionClass.merge(other.predictionClass);
    if (this.predictionValue && other.predictionValue) this.predictionValue.merge(other.predictionValue);
    if (this.reconstruction && other.reconstruction) this.reconstruction.merge(other.reconstruction);
    if (this.estimation && other.estimation) this.estimation.merge(other.estimation);
    if (this.segments && other.segments) this.segments.merge(other.segments);
    for (const s of other.sources) this.sources.add(s);
    return this;
  }

  /**
   * Releases the spare room of the numeric summaries' digests (insert
   * buffers, unused centroid capacity, cached CDF knots) of a pane that is
   * kept but will not change or be queried soon. State is unchanged.
   */
  trim(): this {
    for (const s of this.numeric) s.digest.trim();
    this.score?.digest.trim();
    this.predictionValue?.digest.trim();
    for (const a of this.segments?.attributes ?? []) {
      for (const p of a.values.values()) p.trim();
      a.other?.trim();
    }
    return this;
  }

  /** Compact JSON form (version 2); round-trips through {@link Pane.fromJSON}. */
  toJSON(): PaneJSONV2 {
    const out: PaneJSONV2 = {
      v: 2,
      m: this.layout.modelId,
      r: this.layout.referenceId,
      s: this.paneStart,
      e: this.paneEnd,
      n: this.count,
      te: this.typeErrors,
      mv: this.modelVersion,
      src: [...this.sources],
      num: this.numeric.map((s) => s.toCompactJSON()),
      oor: Array.from(this.outOfRange),
      cat: this.categorical.map((s) => s.toJSON()),
    };
    if (this.score) out.sc = this.score.toCompactJSON();
    if (this.predictionClass) out.pc = this.predictionClass.toJSON();
    if (this.predictionValue) out.pv = this.predictionValue.toCompactJSON();
    if (this.reconstruction) out.re = this.reconstruction.toJSON();
    if (this.estimation) out.es = this.estimation.toJSON();
    if (this.segments) out.sg = this.segments.toJSON() as Record<string, Record<string, PaneJSON>>;
    return out;
  }

  /**
   * Restores a pane written by {@link toJSON} (or in version 1) onto
   * `layout` (the layout of model `json.m` on reference `json.r`). Throws
   * TypeError when the JSON does not match the layout.
   */
  static fromJSON(json: PaneJSON, layout: PaneLayout): Pane {
    if (!json || (json.v !== 1 && json.v !== 2)) throw new TypeError('pane: unsupported format');
    if (json.m !== layout.modelId || json.r !== layout.referenceId) throw new TypeError(`pane: layout is ${layout.modelId}@${layout.referenceId}, pane is ${json.m}@${json.r}`);
    if (json.num.length !== layout.numericNames.length || json.cat.length !== layout.categoricalNames.length) {
      throw new TypeError('pane: feature count does not match the layout');
    }
    const p = new Pane(layout, json.s, json.e);
    p.count = json.n;
    p.typeErrors = json.te;
    p.modelVersion = json.mv;
    for (const s of json.src) p.sources.add(s);
    // The empty summaries hold the layout's edges; restored ones share them.
    const numeric = (s: NumericSummaryJSON | CompactNumericSummaryJSON, empty: NumericSummary): NumericSummary =>
      json.v === 1 ? NumericSummary.fromJSON(s as NumericSummaryJSON, empty.edges) : NumericSummary.fromCompactJSON(s as CompactNumericSummaryJSON, empty.edges);
    const num = p.numeric as NumericSummary[];
    for (let i = 0; i < num.length; i++) num[i] = numeric(json.num[i], num[i]);
    p.outOfRange.set(json.oor);
    const cat = p.categorical as CategoricalSummary[];
    for (let i = 0; i < cat.length; i++) cat[i] = CategoricalSummary.fromJSON(json.cat[i]);
    const mutable = p as unknown as { score?: NumericSummary; predictionClass?: CategoricalSummary; predictionValue?: NumericSummary; reconstruction?: ReconstructionSummary; estimation?: EstimationSummary };
    if (json.sc && p.score) mutable.score = numeric(json.sc, p.score);
    if (json.pc && p.predictionClass) mutable.predictionClass = CategoricalSummary.fromJSON(json.pc);
    if (json.pv && p.predictionValue) mutable.predictionValue = numeric(json.pv, p.predictionValue);
    if (json.re && p.reconstruction) mutable.reconstruction = ReconstructionSummary.fromJSON(json.re);
    if (json.es && layout.estimation) mutable.estimation = EstimationSummary.fromJSON(json.es, layout.estimation);
    if (json.sg && p.segments) p.segments.restore(json.sg, (j, l) => Pane.fromJSON(j, l));
    return p;
  }

  /** An empty pane on the same layout spanning `[start, end)`, to merge panes into. */
  static empty(layout: PaneLayout, start: number, end: number): Pane {
    return new Pane(layout, start, end);
  }
}
