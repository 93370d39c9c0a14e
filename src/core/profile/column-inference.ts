import { cellNumber } from './cell-number.js';
import type { ColumnType } from './reference-profile.js';

/**
 * What one value says of its column's type.
 * - `number`: a number, or (for text samples) a cell that reads as one;
 * - `text`: a string that is not a number, or a boolean;
 * - `missing`: null, undefined, an empty cell, a non-finite number.
 *
 * Typed values (inference events, Parquet, Arrow) keep their type: the string
 * "3" in a JSON event is a category. Text samples (CSV cells) have no types,
 * so a cell that reads as a number counts as one.
 */
export type ValueKind = 'number' | 'text' | 'missing';

export function valueKind(value: unknown, options: { textNumbers: boolean }): ValueKind {
  if (value === null || value === undefined) return 'missing';
  if (typeof value === 'number') return Number.isFinite(value) ? 'number' : 'missing';
  if (typeof value === 'boolean') return 'text';
  if (typeof value !== 'string') return 'text';
  if (!options.textNumbers) return 'text';
  const n = cellNumber(value);
  return n === undefined ? 'text' : n === null ? 'missing' : 'number';
}

export interface ColumnInferenceOptions {
  /** Types known beforehand (a Parquet or Arrow schema, `--type`): they win over the values. */
  readonly fixed?: Readonly<Record<string, ColumnType>>;
  /** Columns that are not features (the model's outputs, the label, ids): never typed. */
  readonly exclude?: ReadonlySet<string>;
  /** Whether a string that reads as a number counts as one (text samples); default true. */
  readonly textNumbers?: boolean;
}

/**
 * The one rule by which driftstream types the columns of a sample or the
 * features of a model that declares none, wherever the sample comes from
 * (an upload, `driftstream compare`, `driftstream reference`, the first events
 * of a model): a column is categorical when any of its values is text,
 * numeric otherwise, and a column with no values at all is numeric. Types
 * given beforehand are kept as given.
 */
export class ColumnTypeInference {
  private readonly seen = new Map<string, ValueKind>();
  private readonly fixed: Readonly<Record<string, ColumnType>>;
  private readonly exclude: ReadonlySet<string>;
  private readonly kindOptions: { textNumbers: boolean };

  constructor(options: ColumnInferenceOptions = {}) {
    this.fixed = options.fixed ?? {};
    this.exclude = options.exclude ?? new Set();
    this.kindOptions = { textNumbers: options.textNumbers ?? true };
  }

  /** Notes a column that exists (a header names it) whether or not it holds values. */
  declare(name: string): void {
    if (!this.seen.has(name) && !this.ignored(name)) this.seen.set(name, 'missing');
  }

  /** Notes one value of a column. */
  observe(name: string, value: unknown): void {
    if (this.ignored(name)) return;
    const prev = this.seen.get(name);
    if (prev === 'text') return;
    const kind = valueKind(value, this.kindOptions);
    if (prev === undefined || kind !== 'missing') this.seen.set(name, kind === 'missing' ? (prev ?? 'missing') : kind);
  }

  /** Notes every value of a record. */
  observeRecord(record: Readonly<Record<string, unknown>>): void {
    for (const name in record) this.observe(name, record[name]);
  }

  /** Whether a value contradicts the type inferred so far (a number column meeting text). */
  contradicts(name: string, value: unknown): boolean {
    if (this.ignored(name)) return false;
    const prev = this.seen.get(name);
    return prev === 'number' && valueKind(value, this.kindOptions) === 'text';
  }

  /** Whether the column has held text (not only numbers and blanks). */
  heldText(name: string): boolean {
    return this.seen.get(name) === 'text';
  }

  /** The inferred types: the fixed ones, then every other column seen. */
  types(): Record<string, ColumnType> {
    const out: Record<string, ColumnType> = {};
    for (const [name, kind] of this.seen) out[name] = kind === 'text' ? 'categorical' : 'numeric';
    for (const name in this.fixed) if (!this.exclude.has(name)) out[name] = this.fixed[name];
    return out;
  }

  private ignored(name: string): boolean {
    return this.exclude.has(name) || Object.hasOwn(this.fixed, name);
  }
}

/**
 * Infers column types from batches of records (at most `limit` records).
 * Columns a header names (`columns`) are included even when empty.
 */
export async function inferColumnTypes(
  batches: AsyncIterable<readonly Readonly<Record<string, unknown>>[]>,
  options: ColumnInferenceOptions & { columns?: readonly string[] } = {},
): Promise<ColumnTypeInference> {
  const inference = new ColumnTypeInference(options);
  for (const name of options.columns ?? []) inference.declare(name);
  for await (const batch of batches) for (const rec of batch) inference.observeRecord(rec);
  return inference;
}
