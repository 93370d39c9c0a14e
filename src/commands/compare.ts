import { DriftstreamError } from '../errors.js';
import { openRowSource, SampleReadError, type RowSource, type RowSourceOptions } from '../io/sample-reader.js';
import { cellNumber } from '../core/profile/cell-number.js';
import { inferColumnTypes, type ColumnTypeInference } from '../core/profile/column-inference.js';
import { SampleProfileBuilder } from '../core/profile/sample-profile.js';
import type { ColumnBatch } from '../io/row-source.js';
import {
  createSummary,
  type ColumnType,
  type ReferenceProfile,
} from '../core/profile/reference-profile.js';
import { evaluateDataset, type FeatureEvaluation } from '../core/drift/severity.js';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../core/drift/thresholds.js';
import { judgeFeatures, type JudgeItem } from '../core/drift/judge.js';
import { DEFAULT_FALSE_ALARM_BUDGET } from '../core/drift/floors.js';
import type { SequentialState } from '../core/drift/sequential.js';
import type { FeatureVerdictSummary } from '../core/drift/types.js';
import type { CategoricalSummary } from '../core/stats/categorical-summary.js';
import type { NumericSummary } from '../core/stats/numeric-summary.js';

/** Options of `driftstream compare`, as parsed by the CLI. */
export interface CompareOptions {
  reference: string;
  /** One current file, or several compared in order (each a window, or cut into windows by `windowRows`). */
  current: string | readonly string[];
  format: 'json' | 'table';
  /** Declared column types; other columns are inferred. */
  types: Record<string, ColumnType>;
  /** Floors and minimum samples of the verdict; defaults of DESIGN.md section 4. */
  thresholds?: Thresholds;
  /** Cut each current file into consecutive windows of this many rows (the last one may be shorter). */
  windowRows?: number;
  /** False-alarm budget per window evaluation (default 0.001). */
  budget?: number;
  /** How to read CSV input (delimiter, encoding); other formats ignore it. */
  input?: RowSourceOptions;
}

/** One feature in the `compare` JSON output (fields that do not apply to the type are left out). */
export interface CompareFeature {
  type: ColumnType;
  nReference: number;
  nCurrent: number;
  missing: number;
  psi: number;
  ks?: { statistic: number; pValue: number; errorBound: number };
  wassersteinNormed?: number;
  jensenShannon: number;
  hellinger: number;
  chiSquare?: { statistic: number; pValue: number; dof: number };
  newCategories?: string[];
  drift: boolean;
  severity: 'NONE' | 'WARNING' | 'CRITICAL';
  /** The verdict and its evidence (docs/detector.md). */
  verdict?: FeatureVerdictSummary;
}

/** The `compare` JSON output (one per window with several windows). */
export interface CompareReport {
  /** Which rows of which current file, when there are several windows. */
  window?: { index: number; file: string; firstRow: number; rows: number };
  features: Record<string, CompareFeature>;
  dataset: { driftShare: number; drift: boolean };
}

/** Bad input to `compare` (no common columns, a column numeric in one file and text in the other). */
export class CompareInputError extends DriftstreamError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('COMPARE_INPUT_INVALID', message, { retriable: false, cause: options.cause });
  }
}

/** Exit codes of {@link compareCommand}. */
export const COMPARE_EXIT = Object.freeze({ ok: 0, failure: 1, badInput: 2 });


/**
 * Parses repeated `--type NAME=numeric|categorical` options. Throws
 * {@link CompareInputError} on a malformed one.
 */
export function parseTypeOptions(specs: readonly string[]): Record<string, ColumnType> {
  const out: Record<string, ColumnType> = {};
  for (const spec of specs) {
    const eq = spec.lastIndexOf('=');
    const name = spec.slice(0, eq).trim();
    const type = spec.slice(eq + 1).trim();
    if (eq <= 0 || name === '' || (type !== 'numeric' && type !== 'categorical')) {
      throw new CompareInputError(`--type ${spec}: expected NAME=numeric or NAME=categorical`);
    }
    out[name] = type;
  }
  return out;
}

class RestartWithFullInference extends Error {}

/**
 * The reference's column types by the one inference rule, from its first
 * `limit` records; a header or schema names every column, even an empty one,
 * and a schema's types need no inference.
 */
async function inferTypes(source: RowSource, limit: number): Promise<ColumnTypeInference> {
  const fixed: Record<string, ColumnType> = Object.fromEntries((source.columns ?? []).filter((c) => c.type !== undefined).map((c) => [c.name, c.type!]));
  const columns = (source.columns ?? []).map((c) => c.name);
  const allTyped = source.columns !== undefined && source.columns.every((c) => c.type !== undefined);
  return inferColumnTypes(allTyped ? emptyBatches() : source.batches({ limit }), { fixed, columns });
}

async function* emptyBatches(): AsyncIterable<readonly Record<string, unknown>[]> {}

interface BuiltReference {
  profile: ReferenceProfile;
  columns: string[];
  declared: Set<string>;
  /** Inferred-categorical columns that held text (not just numbers) in the reference. */
  textColumns: Set<string>;
}

async function buildReference(opts: CompareOptions, source: RowSource, inferred: ColumnTypeInference, strict: boolean): Promise<BuiltReference> {
  const declared = new Set(Object.keys(opts.types));
  const types = inferred.types();
  // --type overrides what the reference's values imply, for the columns it has.
  for (const k of declared) if (types[k] !== undefined) types[k] = opts.types[k];
  const columns = Object.keys(types);
  const builder = new SampleProfileBuilder({
    columns: types,
    onText: (c, row, v) => {
      if (declared.has(c)) throw new CompareInputError(`${opts.reference}: column ${c} is declared numeric but record ${row} holds ${JSON.stringify(v)}`);
      if (!strict) throw new RestartWithFullInference();
      throw new Error(`internal: column ${c} inferred numeric but holds text`);
    },
  });
  // Column by column over each batch: Parquet and Arrow then never build a record per row.
  for await (const batch of source.columnBatches()) {
    builder.acceptBatch(batch);
    if (!strict && source.columns === undefined) {
      for (const k of batch.names) if (types[k] === undefined && batch.column(k).some((v) => v !== null && v !== undefined)) throw new RestartWithFullInference();
    }
  }
  return { profile: builder.build({ createdAt: Date.now(), id: 'compare-reference' }), columns, declared, textColumns: new Set(builder.textColumns) };
}

/** One compared window: its report and the per-feature evaluations behind it. */
export interface CompareWindowResult {
  report: CompareReport;
  evaluations: Record<string, FeatureEvaluation>;
  onlyInReference: string[];
  onlyInCurrent: string[];
  /** Columns given a type that the reference does not have. */
  unknownTypes: string[];
}

/** The reference side of a comparison, with types inferred from a prefix and, if that proves wrong, from every row. */
async function openReference(opts: CompareOptions): Promise<BuiltReference> {
  const refSource = await openRowSource(opts.reference, opts.input);
  try {
    return await buildReference(opts, refSource, await inferTypes(refSource, 1000), false);
  } catch (err) {
    if (!(err instanceof RestartWithFullInference)) throw err;
    return buildReference(opts, refSource, await inferTypes(refSource, Infinity), true);
  }
}

/** What every window of one comparison shares. */
interface CompareContext {
  readonly opts: CompareOptions;
  readonly ref: BuiltReference;
  readonly numericCols: readonly string[];
  readonly categoricalCols: readonly string[];
  readonly thresholds: Thresholds;
  readonly budget: number;
  /** Sequential state carried across consecutive windows; absent with a single window. */
  readonly sequential?: Record<string, SequentialState>;
  /** Index of the next window. */
  index: number;
}

/** The window of a current file being summarised, judged against the reference when it ends. */
class CurrentWindow {
  summaries = new Map<string, NumericSummary | CategoricalSummary>();
  currentColumns: Set<string>;
  curHasText = new Set<string>();
  curHasValue = new Set<string>();
  firstRow = 1;
  rows = 0;

  constructor(
    private readonly ctx: CompareContext,
    private readonly file: string,
    private readonly headerColumns: ReadonlySet<string>,
  ) {
    this.currentColumns = new Set(headerColumns);
    this.reset();
  }

  reset(): void {
    const { columns, profile } = this.ctx.ref;
    this.summaries = new Map();
    for (const c of columns) this.summaries.set(c, createSummary(profile.features[c]));
    this.currentColumns = new Set(this.headerColumns);
    this.curHasText = new Set();
    this.curHasValue = new Set();
    this.rows = 0;
  }

  /** Rows [s, e) of a batch, one column's cells at a time, so they can go before the next column's are made; `row` counts the file's rows before s. */
  accept(batch: ColumnBatch, s: number, e: number, row: number): void {
    const { opts, ref } = this.ctx;
    for (const c of this.ctx.numericCols) {
      const values = batch.column(c);
      const summary = this.summaries.get(c) as NumericSummary;
      for (let i = s; i < e; i++) {
        const v = values[i];
        const x = cellNumber(v);
        if (x === undefined) {
          const at = row + (i - s) + 1;
          throw new CompareInputError(
            ref.declared.has(c)
              ? `${this.file}: column ${c} is declared numeric but record ${at} holds ${JSON.stringify(v)}`
              : `column ${c} is numeric in ${opts.reference} but text in ${this.file} (record ${at} holds ${JSON.stringify(v)}); declare its type with --type ${c}=categorical`,
          );
        }
        summary.accept(x);
      }
    }
    for (const c of this.ctx.categoricalCols) this.acceptCategorical(c, batch.column(c), s, e);
  }

  private acceptCategorical(c: string, values: ReturnType<ColumnBatch['column']>, s: number, e: number): void {
    const summary = this.summaries.get(c) as CategoricalSummary;
    let text = this.curHasText.has(c);
    for (let i = s; i < e; i++) {
      const v = values[i];
      summary.accept(v);
      if (v !== null && v !== undefined) {
        this.curHasValue.add(c);
        if (!text && cellNumber(v) === undefined) {
          this.curHasText.add(c);
          text = true;
        }
      }
    }
  }

  /** Judges the window by the detector's rule. */
  finish(): CompareWindowResult {
    const { opts, ref, thresholds, budget, sequential } = this.ctx;
    const { columns, profile, declared, textColumns } = ref;
    const file = this.file;
    const common = columns.filter((c) => this.currentColumns.has(c));
    if (common.length === 0) throw noCommonColumns({ ...opts, current: file }, columns, this.currentColumns);
    for (const c of common) {
      if (!declared.has(c) && textColumns.has(c) && this.curHasValue.has(c) && !this.curHasText.has(c)) {
        throw new CompareInputError(`column ${c} is text in ${opts.reference} but numeric in ${file}; declare its type with --type ${c}=categorical`);
      }
    }
    const items: Record<string, JudgeItem> = {};
    for (const c of common) items[c] = { reference: profile.features[c], current: this.summaries.get(c)!, floors: thresholds.floor, minSamples: thresholds.minSamples };
    const evaluations = judgeFeatures(items, { budget, ...(sequential ? { sequential } : {}) });
    const features: Record<string, CompareFeature> = {};
    for (const c of common) features[c] = toCompareFeature(evaluations[c]);
    const dataset = evaluateDataset(evaluations);
    const report: CompareReport = {
      ...(sequential ? { window: { index: this.ctx.index, file, firstRow: this.firstRow, rows: this.rows } } : {}),
      features,
      dataset: { driftShare: dataset.driftShare, drift: dataset.drift },
    };
    this.ctx.index++;
    return {
      report,
      evaluations,
      onlyInReference: columns.filter((c) => !this.currentColumns.has(c)),
      onlyInCurrent: [...this.currentColumns].filter((c) => profile.features[c] === undefined),
      unknownTypes: [...declared].filter((c) => profile.features[c] === undefined),
    };
  }
}

/** The windows of one current file. */
async function* compareFile(ctx: CompareContext, file: string): AsyncGenerator<CompareWindowResult> {
  const { opts } = ctx;
  const curSource = await openRowSource(file, opts.input);
  // CSV, Parquet and Arrow name their columns up front; NDJSON's come from its records.
  const namedColumns = curSource.columns !== undefined;
  const headerColumns = new Set<string>((curSource.columns ?? []).map((c) => c.name));
  if (namedColumns && !ctx.ref.columns.some((c) => headerColumns.has(c))) throw noCommonColumns({ ...opts, current: file }, ctx.ref.columns, headerColumns);
  const window = new CurrentWindow(ctx, file, headerColumns);
  let row = 0;
  // Column by column over each batch (Parquet and Arrow then never build a
  // record per row), in segments that end where a window ends.
  for await (const batch of curSource.columnBatches()) {
    const n = batch.length;
    for (let s = 0; s < n; ) {
      const e = opts.windowRows === undefined ? n : Math.min(n, s + (opts.windowRows - window.rows));
      if (!namedColumns) for (const k of batch.names) window.currentColumns.add(k);
      window.accept(batch, s, e, row);
      row += e - s;
      window.rows += e - s;
      s = e;
      if (opts.windowRows !== undefined && window.rows === opts.windowRows) {
        yield window.finish();
        window.firstRow = row + 1;
        window.reset();
      }
    }
  }
  // The rest of the file is one more (shorter) window; an empty file is one empty window.
  if (window.rows > 0 || opts.windowRows === undefined || row === 0) yield window.finish();
}

/**
 * Compares sample files window by window: the reference becomes a
 * {@link ReferenceProfile}; each current file (in order) is streamed through
 * the same window summaries the detector uses, cut into windows of
 * `windowRows` rows when given, and every window is judged by the detector's
 * rule ({@link judgeFeatures}). With more than one window the windows are
 * consecutive, so the sequential statistic runs across them as in the
 * stream. Throws {@link SampleReadError} or {@link CompareInputError} on bad
 * input.
 */
export async function* compareWindows(opts: CompareOptions): AsyncGenerator<CompareWindowResult> {
  const currents = typeof opts.current === 'string' ? [opts.current] : [...opts.current];
  if (currents.length === 0) throw new CompareInputError('at least one --current file is needed');
  if (opts.windowRows !== undefined && !(Number.isInteger(opts.windowRows) && opts.windowRows >= 1)) {
    throw new CompareInputError(`--window-rows ${String(opts.windowRows)}: expected a whole number of rows, at least 1`);
  }
  const ref = await openReference(opts);
  const ctx: CompareContext = {
    opts,
    ref,
    numericCols: ref.columns.filter((c) => ref.profile.features[c].type === 'numeric'),
    categoricalCols: ref.columns.filter((c) => ref.profile.features[c].type === 'categorical'),
    thresholds: opts.thresholds ?? DEFAULT_THRESHOLDS,
    budget: opts.budget ?? DEFAULT_FALSE_ALARM_BUDGET,
    sequential: currents.length > 1 || opts.windowRows !== undefined ? {} : undefined,
    index: 0,
  };
  for (const file of currents) yield* compareFile(ctx, file);
}

/**
 * Compares two sample files (one window): see {@link compareWindows}. Throws
 * {@link SampleReadError} or {@link CompareInputError} on bad input.
 */
export async function compareFiles(opts: CompareOptions): Promise<CompareWindowResult> {
  for await (const w of compareWindows({ ...opts, windowRows: undefined, current: typeof opts.current === 'string' ? opts.current : opts.current[0] })) return w;
  throw new CompareInputError('nothing to compare');
}

function noCommonColumns(opts: CompareOptions, reference: readonly string[], current: ReadonlySet<string>): CompareInputError {
  return new CompareInputError(`no common columns: ${opts.reference} has [${reference.join(', ')}], ${opts.current} has [${[...current].join(', ')}]`);
}

function toCompareFeature(e: FeatureEvaluation): CompareFeature {
  const base = { type: e.type, nReference: e.nReference, nCurrent: e.nCurrent, missing: e.missing, psi: e.psi! };
  if (e.type === 'numeric') {
    return {
      ...base,
      ks: { statistic: e.ks!.statistic, pValue: e.ks!.pValue, errorBound: e.ks!.errorBound },
      wassersteinNormed: e.wassersteinNormed!,
      jensenShannon: e.jensenShannon!,
      hellinger: e.hellinger!,
      drift: e.drift,
      severity: e.severity,
      ...(e.verdict ? { verdict: e.verdict } : {}),
    };
  }
  return {
    ...base,
    chiSquare: { statistic: e.chiSquare!.statistic, pValue: e.chiSquare!.pValue, dof: e.chiSquare!.dof },
    jensenShannon: e.jensenShannon!,
    hellinger: e.hellinger!,
    newCategories: e.newCategories ?? [],
    drift: e.drift,
    severity: e.severity,
    ...(e.verdict ? { verdict: e.verdict } : {}),
  };
}

/**
 * `driftstream compare`: writes the report to `out` (JSON, or a table for
 * people) and returns the exit code: 0 when the comparison ran (whatever the
 * verdict), 2 on bad input (message on `err`), 1 on an unexpected failure.
 * With several windows (several current files, or `windowRows`) JSON comes
 * as JSON lines, one evaluation per window, and tables come one per window.
 */
export async function compareCommand(
  opts: CompareOptions,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  try {
    const many = (typeof opts.current !== 'string' && opts.current.length > 1) || opts.windowRows !== undefined;
    let noted = false;
    for await (const w of compareWindows(opts)) {
      const { report, onlyInReference, onlyInCurrent, unknownTypes } = w;
      if (!noted) {
        if (unknownTypes.length > 0) err.write(`note: --type names columns the reference does not have: ${unknownTypes.join(', ')}\n`);
        if (opts.format === 'table') {
          if (onlyInReference.length > 0) err.write(`note: only in the reference, not compared: ${onlyInReference.join(', ')}\n`);
          if (onlyInCurrent.length > 0) err.write(`note: only in the current file, not compared: ${onlyInCurrent.join(', ')}\n`);
        }
        noted = true;
      }
      if (opts.format === 'table') {
        if (report.window) out.write(`${report.window.index > 0 ? '\n' : ''}window ${report.window.index}: ${report.window.file} rows ${report.window.firstRow}-${report.window.firstRow + report.window.rows - 1}\n`);
        out.write(formatTable(report));
      } else out.write(many ? JSON.stringify(report) + '\n' : JSON.stringify(report, null, 2) + '\n');
    }
    return COMPARE_EXIT.ok;
  } catch (e) {
    if (e instanceof SampleReadError || e instanceof CompareInputError) {
      err.write(`driftstream compare: ${e.message}\n`);
      return COMPARE_EXIT.badInput;
    }
    err.write(`driftstream compare: ${(e as Error).stack ?? String(e)}\n`);
    return COMPARE_EXIT.failure;
  }
}

/** {@link compareCommand} with its streams bundled: `runCompare(args, { out, err })`. */
export function runCompare(args: CompareOptions, io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream }): Promise<number> {
  return compareCommand(args, io.out, io.err);
}

/** The report as an aligned text table, one feature per row, then the dataset verdict. */
export function formatTable(report: CompareReport): string {
  const head = ['feature', 'type', 'n ref', 'n cur', 'missing', 'psi', 'ks D', 'ks p', 'wass', 'js', 'hellinger', 'chi2', 'chi2 p', 'effect', 'mde', 'test', 'p', 'new', 'verdict'];
  const rows: string[][] = [head];
  for (const [name, f] of Object.entries(report.features)) {
    rows.push([
      name,
      f.type,
      String(f.nReference),
      String(f.nCurrent),
      String(f.missing),
      num(f.psi),
      f.ks ? num(f.ks.statistic) : '',
      f.ks ? pval(f.ks.pValue) : '',
      f.wassersteinNormed !== undefined ? num(f.wassersteinNormed) : '',
      num(f.jensenShannon),
      num(f.hellinger),
      f.chiSquare ? num(f.chiSquare.statistic, 2) : '',
      f.chiSquare ? pval(f.chiSquare.pValue) : '',
      f.verdict ? num(f.verdict.effect) : '',
      f.verdict ? (f.verdict.mde === null ? 'inf' : num(f.verdict.mde)) : '',
      f.verdict?.test ?? '',
      f.verdict ? (f.verdict.pValue === null ? '-' : pval(f.verdict.pValue)) : '',
      f.newCategories ? f.newCategories.join(' ') : '',
      f.drift ? `${f.severity} (drift)` : (f.verdict?.verdict ?? f.severity),
    ]);
  }
  const widths = head.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) => r.map((cell, i) => (i <= 1 || i === 15 || i >= 17 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd());
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const n = Object.keys(report.features).length;
  const k = Object.values(report.features).filter((f) => f.drift).length;
  lines.push('');
  lines.push(`dataset drift: ${report.dataset.drift ? 'YES' : 'no'} (${k} of ${n} features, share ${report.dataset.driftShare.toFixed(2)})`);
  return lines.join('\n') + '\n';
}

function num(v: number, digits = 4): string {
  if (v === Infinity) return 'inf';
  return Number.isNaN(v) || v === null ? '-' : v.toFixed(digits);
}

function pval(v: number): string {
  if (Number.isNaN(v) || v === null) return '-';
  return v < 1e-4 ? v.toExponential(1) : v.toFixed(4);
}
