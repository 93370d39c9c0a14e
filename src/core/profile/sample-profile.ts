import { ReferencePerformanceBuilder, type ReferencePerformance } from '../performance/reference-performance.js';
import type { PerformanceSpec } from '../performance/records.js';
import { cellNumber, numberOf, type CellValue } from './cell-number.js';
import { ReferenceProfileBuilder, type ColumnType, type ProfileMeta, type ReferenceProfile } from './reference-profile.js';
import { withMultivariate, type MultivariateProfileBuilder } from './multivariate-profile.js';
import { withEstimation, type EstimationProfileBuilder } from './estimation-profile.js';

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

  constructor(private readonly options: SampleProfileOptions) {
    const { columns } = options;
    this.builder = new ReferenceProfileBuilder({ ...columns }, { bins: options.bins, topK: options.topK });
    this.numeric = Object.keys(columns).filter((c) => columns[c] === 'numeric');
    this.categorical = Object.keys(columns).filter((c) => columns[c] === 'categorical');
    this.performance = options.performance ? new ReferencePerformanceBuilder(options.performance) : undefined;
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
    this.rowCount += n;
  }

  /** The profile, with the sample's performance when it had labels. */
  build(meta: ProfileMeta): ReferenceProfile & { performance?: ReferencePerformance } {
    const built = withMultivariate(this.builder.build(meta), this.options.multivariate);
    const performance = this.performance?.build();
    return withEstimation(performance ? Object.freeze({ ...built, performance }) : built, this.options.estimation);
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
