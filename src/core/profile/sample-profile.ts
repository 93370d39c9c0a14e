import { ReferencePerformanceBuilder, type ReferencePerformance } from '../performance/reference-performance.js';
import type { PerformanceSpec } from '../performance/records.js';
import { cellNumber, numberOf, type CellValue } from './cell-number.js';
import { ReferenceProfileBuilder, type ColumnType, type ProfileMeta, type ReferenceProfile } from './reference-profile.js';
import { withMultivariate, type MultivariateProfileBuilder } from './multivariate-profile.js';
import { withEstimation, type EstimationProfileBuilder } from './estimation-profile.js';
import { OTHER_SEGMENT, segmentValueOfCell, type SegmentAttributeProfile } from './segment-profiles.js';

/**
 * Rows `[0, length)` of a sample, column by column: `column(name)` holds one
 * value per row (undefined where a row lacks it). The sample readers' column
 * batches have this shape; {@link rowsAsBatch} makes one from records.
 */
export interface ValueBatch {
  readonly length: number;
  readonly names: readonly string[];
  column(name: string): readonly unknown[];
}

/** The columns of a sample that give its reference performance. */
export const OUTCOME_COLUMNS = Object.freeze({ score: 'score', prediction: 'prediction', label: 'label' });

export interface SampleProfileOptions {
  /** The columns to profile and their types (declared, or from {@link ColumnTypeInference}). */
  readonly columns: Readonly<Record<string, ColumnType>>;
  readonly bins?: number;
  readonly topK?: number;
  /** How predictions are scored against a `label` column; without it no performance is kept. */
  readonly performance?: PerformanceSpec;
  /**
   * Called for a value of a numeric column that is not a number (`row` counts
   * from 1); it throws the caller's error, or returns and the value counts as
   * missing.
   */
  readonly onText?: (column: string, row: number, value: unknown) => void;
  /** Fits the multivariate reconstruction on the rows of its features (numbers read as numeric columns are). */
  readonly multivariate?: MultivariateProfileBuilder;
  /** Calibrates scores against the `label` column for estimated performance. */
  readonly estimation?: EstimationProfileBuilder;
  /** Builds a profile per segment too (model `segments`); see {@link SampleSegmentsOptions}. */
  readonly segments?: SampleSegmentsOptions;
}

/**
 * The segments of a sample: per attribute, the values that get a profile of
 * their own (the attribute's top K by traffic, from a first pass such as
 * {@link SegmentValueTally}); rows of every other value, and rows without
 * the attribute, go to `__other__`.
 */
export interface SampleSegmentsOptions {
  readonly kept: Readonly<Record<string, readonly string[]>>;
  /** The column holding an attribute's value. Default: the attribute's name. */
  readonly columnOf?: (attribute: string) => string;
}

/** The rows `index` of a batch, as a batch. */
function rowsOf(batch: ValueBatch, index: readonly number[]): ValueBatch {
  return {
    length: index.length,
    names: batch.names,
    column(name: string): readonly unknown[] {
      const col = batch.column(name);
      return index.map((i) => col[i]);
    },
  };
}

/**
 * The one way a sample becomes a reference profile, whatever it comes from
 * (an upload, `reference build`, `compare`, a model's first events): batches
 * of columns in, the profile (with the sample's performance when it has a
 * `label` column) out. Numeric columns read text cells that hold numbers;
 * categorical ones keep values as they are and remember which held text.
 */
export class SampleProfileBuilder {
  private readonly builder: ReferenceProfileBuilder;
  private readonly numeric: string[];
  private readonly categorical: string[];
  private readonly performance: ReferencePerformanceBuilder | undefined;
  private readonly text = new Set<string>();
  private rowCount = 0;
  /** Per segment attribute, a builder (features and outputs only) per kept value and `__other__`. */
  private readonly segmentBuilders: { attribute: string; column: string; values: Map<string, SampleProfileBuilder> }[];

  constructor(private readonly options: SampleProfileOptions) {
    const { columns } = options;
    this.builder = new ReferenceProfileBuilder({ ...columns }, { bins: options.bins, topK: options.topK });
    this.numeric = Object.keys(columns).filter((c) => columns[c] === 'numeric');
    this.categorical = Object.keys(columns).filter((c) => columns[c] === 'categorical');
    this.performance = options.performance ? new ReferencePerformanceBuilder(options.performance) : undefined;
    const segments = options.segments;
    this.segmentBuilders = Object.entries(segments?.kept ?? {}).map(([attribute, kept]) => ({
      attribute,
      column: segments?.columnOf?.(attribute) ?? attribute,
      values: new Map([...kept, OTHER_SEGMENT].map((v) => [v, new SampleProfileBuilder({ columns, bins: options.bins, topK: options.topK })])),
    }));
  }

  /** Rows accepted so far. */
  get rows(): number {
    return this.rowCount;
  }

  /** Categorical columns that held text, not only numbers. */
  get textColumns(): ReadonlySet<string> {
    return this.text;
  }

  acceptBatch(batch: ValueBatch): void {
    const n = batch.length;
    for (const c of this.numeric) this.acceptNumeric(c, batch.column(c), n);
    for (const c of this.categorical) this.acceptCategorical(c, batch.column(c), n);
    if (this.performance !== undefined && batch.names.includes(OUTCOME_COLUMNS.label)) this.acceptOutcomes(batch, n);
    if (this.options.estimation !== undefined && batch.names.includes(OUTCOME_COLUMNS.label)) this.acceptEstimation(batch, n);
    if (this.options.multivariate !== undefined) this.acceptMultivariate(this.options.multivariate, batch, n);
    for (let i = 0; i < n; i++) this.builder.countRow();
    for (const s of this.segmentBuilders) this.acceptSegments(s, batch, n);
    this.rowCount += n;
  }

  /**
   * The profile, with the sample's performance when it had labels, and with
   * a profile per kept segment value and `__other__` (each of features and
   * outputs only: no performance, multivariate fit or calibration).
   */
  build(meta: ProfileMeta): ReferenceProfile & { performance?: ReferencePerformance } {
    const built = withMultivariate(this.builder.build(meta), this.options.multivariate);
    const performance = this.performance?.build();
    const profile = withEstimation(performance ? Object.freeze({ ...built, performance }) : built, this.options.estimation);
    if (this.segmentBuilders.length === 0) return profile;
    const segments: Record<string, SegmentAttributeProfile<ReferenceProfile>> = {};
    for (const { attribute, values } of this.segmentBuilders) {
      const counts: Record<string, number> = {};
      const profiles: Record<string, ReferenceProfile> = {};
      for (const [v, b] of values) {
        counts[v] = b.rows;
        profiles[v] = b.build({ ...meta, id: `${meta.id}#${attribute}=${v}` });
      }
      segments[attribute] = Object.freeze({ counts: Object.freeze(counts), profiles: Object.freeze(profiles) });
    }
    return Object.freeze({ ...profile, segments: Object.freeze(segments) });
  }

  /** Hands each row of the batch to its segment's builder. */
  private acceptSegments(s: (typeof this.segmentBuilders)[number], batch: ValueBatch, n: number): void {
    const cells = batch.names.includes(s.column) ? batch.column(s.column) : [];
    const groups = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const v = segmentValueOfCell(cells[i]);
      const key = v !== null && v !== OTHER_SEGMENT && s.values.has(v) ? v : OTHER_SEGMENT;
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = []));
      g.push(i);
    }
    for (const [key, index] of groups) s.values.get(key)!.acceptBatch(index.length === n ? batch : rowsOf(batch, index));
  }

  private acceptNumeric(c: string, values: readonly unknown[], n: number): void {
    for (let i = 0; i < n; i++) {
      const v = values[i];
      const x = typeof v === 'number' ? (v - v === 0 ? v : null) : cellNumber(v as CellValue);
      if (x === undefined) this.options.onText?.(c, this.rowCount + i + 1, v);
      this.builder.acceptValue(c, x ?? null);
    }
  }

  private acceptCategorical(c: string, values: readonly unknown[], n: number): void {
    let text = this.text.has(c);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      this.builder.acceptValue(c, v ?? null);
      if (!text && v !== null && v !== undefined && cellNumber(v as CellValue) === undefined) {
        this.text.add(c);
        text = true;
      }
    }
  }

  private acceptEstimation(batch: ValueBatch, n: number): void {
    const label = batch.column(OUTCOME_COLUMNS.label);
    const score = batch.names.includes(OUTCOME_COLUMNS.score) ? batch.column(OUTCOME_COLUMNS.score) : [];
    const prediction = batch.names.includes(OUTCOME_COLUMNS.prediction) ? batch.column(OUTCOME_COLUMNS.prediction) : [];
    for (let i = 0; i < n; i++) this.options.estimation!.accept(numberOf(score[i]), label[i], prediction[i]);
  }

  private acceptMultivariate(mv: MultivariateProfileBuilder, batch: ValueBatch, n: number): void {
    const columns = mv.features.map((f) => batch.column(f));
    const row = new Array<number | null>(columns.length);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < columns.length; j++) row[j] = numberOf(columns[j][i]);
      mv.accept(row);
    }
  }

  private acceptOutcomes(batch: ValueBatch, n: number): void {
    const label = batch.column(OUTCOME_COLUMNS.label);
    const score = batch.names.includes(OUTCOME_COLUMNS.score) ? batch.column(OUTCOME_COLUMNS.score) : [];
    const prediction = batch.names.includes(OUTCOME_COLUMNS.prediction) ? batch.column(OUTCOME_COLUMNS.prediction) : [];
    for (let i = 0; i < n; i++) this.performance!.accept({ label: label[i], score: score[i], prediction: prediction[i] });
  }
}

/** Records as one {@link ValueBatch} (for samples held as rows, such as a model's first events). */
export function rowsAsBatch(rows: readonly Readonly<Record<string, unknown>>[]): ValueBatch {
  const names = new Set<string>();
  for (const r of rows) for (const k in r) names.add(k);
  const cache = new Map<string, unknown[]>();
  return {
    length: rows.length,
    names: [...names],
    column(name: string): readonly unknown[] {
      let col = cache.get(name);
      if (col === undefined) cache.set(name, (col = rows.map((r) => r[name])));
      return col;
    },
  };
}
