import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { cellNumber } from '../io/cell-number.js';
import type { ModelConfig } from '../core/model/index.js';
import { hasControlCharacter } from '../core/has-control-character.js';
import { MAX_FEATURES_PER_MODEL, parseModelConfig } from '../core/model/index.js';
import { ReferenceProfileBuilder, type ColumnType } from '../core/profile/reference-profile.js';
import { multivariateBuilderFor, withMultivariate } from '../core/profile/multivariate-profile.js';
import { estimationBuilderFor, withEstimation } from '../core/profile/estimation-profile.js';
import { ReferencePerformanceBuilder } from '../core/performance/reference-performance.js';
import { DriftstreamError, ValidationError } from '../errors.js';
import { openRowSource, readColumns, type SampleColumn, type SampleRecord } from '../io/sample-reader.js';
import type { BuiltReference, ReferenceBuildInput, ReferenceBuilder, UploadLimits } from '../ports/reference-builder.js';

function invalid(message: string): never {
  throw new ValidationError(message, { code: 'REFERENCE_INVALID' });
}

/** Formats read line by line: one line bounds what the parser holds at once. */
const LINE_FORMATS: ReadonlySet<string> = new Set(['csv', 'ndjson']);
// Room per column for a JSON key, quotes and separators, beside the cell itself.
const COLUMN_OVERHEAD_BYTES = 300;

function cellTooLarge(value: string, max: number): boolean {
  // UTF-16 units never outnumber UTF-8 bytes, and one unit is at most 3 bytes: count only in between.
  if (value.length > max) return true;
  if (value.length * 3 <= max) return false;
  return Buffer.byteLength(value, 'utf8') > max;
}

/** Rejects a record with a cell over the size limit, or a control character in a value (PostgreSQL refuses NUL). */
function checkRecord(rec: SampleRecord, row: number, limits: UploadLimits): void {
  for (const k in rec) {
    const v = rec[k];
    if (typeof v !== 'string') continue;
    if (limits.maxCellBytes !== undefined && cellTooLarge(v, limits.maxCellBytes)) {
      throw new ValidationError(`row ${row}: column ${k.slice(0, 80)} holds a cell larger than ${limits.maxCellBytes} bytes`, { code: 'CELL_TOO_LARGE' });
    }
    if (hasControlCharacter(v)) invalid(`row ${row}: column ${JSON.stringify(k.slice(0, 80))} holds a control character`);
  }
}

function checkColumns(names: readonly string[], limits: UploadLimits): void {
  if (limits.maxColumns !== undefined && names.length > limits.maxColumns) {
    throw new ValidationError(`the sample has ${names.length} columns; at most ${limits.maxColumns} are accepted`, { code: 'TOO_MANY_COLUMNS' });
  }
  for (const name of names) {
    if (hasControlCharacter(name)) invalid(`column ${JSON.stringify(name.slice(0, 80))} has a control character in its name`);
    if (name === '__proto__') invalid('a column may not be named __proto__');
  }
}

/**
 * Fails the upload as soon as one line is longer than any row within the
 * limits can be (all columns at the largest cell), before the line parser
 * would have to hold it.
 */
function lineGuard(limits: UploadLimits): Transform {
  const maxLine = (limits.maxColumns ?? 0) * ((limits.maxCellBytes ?? 0) + COLUMN_OVERHEAD_BYTES);
  let current = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      let from = 0;
      for (let nl = chunk.indexOf(10, from); ; nl = chunk.indexOf(10, from)) {
        const end = nl === -1 ? chunk.length : nl;
        current += end - from;
        if (current > maxLine) {
          cb(new ValidationError(`a line of the sample is longer than ${maxLine} bytes: a cell is larger than ${limits.maxCellBytes} bytes or the row has more than ${limits.maxColumns} columns`, { code: 'CELL_TOO_LARGE' }));
          return;
        }
        if (nl === -1) break;
        current = 0;
        from = nl + 1;
      }
      cb(null, chunk);
    },
  });
}

/** The error with the temporary file's path taken out of its message: a client never sees server paths. */
function withoutPath(err: unknown, file: string, dir: string): unknown {
  if (!(err instanceof Error) || (!err.message.includes(file) && !err.message.includes(dir))) return err;
  const message = err.message.split(`${file}:`).join('line ').split(file).join('the sample').split(dir).join('');
  const code = err instanceof DriftstreamError ? err.code : 'REFERENCE_INVALID';
  return new ValidationError(message, { code, cause: err });
}

/** The profile's columns: the model's features plus its output column, typed by the prediction kind. */
function columnsOf(model: ModelConfig, first: SampleRecord[], schema: readonly SampleColumn[] | undefined): Record<string, ColumnType> {
  const columns: Record<string, ColumnType> = { ...model.features };
  if (Object.keys(columns).length === 0) {
    // No declared features: a Parquet or Arrow schema says, else infer from the
    // first rows, as auto-registration does from events.
    const typed = new Map((schema ?? []).filter((c) => c.type !== undefined).map((c) => [c.name, c.type!]));
    const seen = new Map<string, ColumnType | 'unknown'>(typed);
    for (const rec of first) {
      for (const k in rec) {
        if (k === 'score' || k === 'prediction' || k === 'label' || k === 'eventId' || k === 'timestamp') continue;
        if (typed.has(k)) continue;
        const n = cellNumber(rec[k]);
        if (seen.get(k) === 'categorical') continue;
        if (n === null) {
          if (!seen.has(k)) seen.set(k, 'unknown');
        } else seen.set(k, n === undefined ? 'categorical' : 'numeric');
      }
    }
    for (const [k, t] of seen) {
      if (k === 'score' || k === 'prediction' || k === 'label' || k === 'eventId' || k === 'timestamp') continue;
      columns[k] = t === 'unknown' ? 'numeric' : t;
    }
  }
  const keys = new Set(first.flatMap((r) => Object.keys(r)));
  if (keys.has('score')) columns.score = 'numeric';
  if (keys.has('prediction')) columns.prediction = model.prediction === 'regression' ? 'numeric' : 'categorical';
  return columns;
}

/**
 * Builds a reference profile from an uploaded sample (CSV, NDJSON, Parquet or
 * Arrow IPC). The body
 * is streamed to a temporary file (hashing it on the way: the profile id is
 * time plus the content hash),
 * then read with the sample reader in batches and profiled with the model's
 * bins and top K.
 */
export function createReferenceBuilder(options: { tmpDir?: string; inferRows?: number } = {}): ReferenceBuilder {
  return async (input: ReferenceBuildInput): Promise<BuiltReference> => {
    const model = parseModelConfig(input.model);
    const limits = input.limits ?? {};
    const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'driftstream-upload-'));
    const file = join(dir, `sample.${input.format}`);
    try {
      const hash = createHash('sha256');
      const tap = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hash.update(chunk);
          cb(null, chunk);
        },
      });
      const guarded = LINE_FORMATS.has(input.format) && limits.maxColumns !== undefined && limits.maxCellBytes !== undefined;
      if (guarded) await pipeline(input.body, lineGuard(limits), tap, createWriteStream(file));
      else await pipeline(input.body, tap, createWriteStream(file));
      const digest = hash.digest('hex').slice(0, 16);

      // The columns first (a CSV header, the first NDJSON record), before any rows are held.
      checkColumns(await readColumns(file, { format: input.format, peek: 1 }), limits);
      const first: SampleRecord[] = [];
      const source = await openRowSource(file, { format: input.format });
      for await (const batch of source.batches({ limit: options.inferRows ?? 1000 })) {
        for (const rec of batch) checkRecord(rec, first.length + 1, limits);
        first.push(...batch);
      }
      if (first.length === 0) invalid('the sample holds no rows');
      const keys = new Set(first.flatMap((r) => Object.keys(r)));
      checkColumns([...keys], limits);
      const columns = columnsOf(model, first, source.columns);
      const featureCount = Object.keys(columns).filter((c) => c !== 'score' && c !== 'prediction').length;
      if (featureCount > MAX_FEATURES_PER_MODEL) {
        throw new ValidationError(`the sample has ${featureCount} feature columns; a model may have at most ${MAX_FEATURES_PER_MODEL}`, { code: 'TOO_MANY_FEATURES' });
      }
      const absent = Object.keys(model.features).filter((f) => !keys.has(f));
      if (absent.length) invalid(`the sample has no column for feature${absent.length > 1 ? 's' : ''} ${absent.join(', ')}`);
      if (Object.keys(columns).length === 0) invalid('the sample has no usable columns');

      const topK = limits.maxCategories === undefined ? model.topK : Math.min(model.topK, limits.maxCategories);
      const builder = new ReferenceProfileBuilder(columns, { bins: model.bins, topK });
      const multivariate = multivariateBuilderFor(Object.fromEntries(Object.entries(columns).filter(([c]) => c !== 'score' && c !== 'prediction')), { varianceShare: model.multivariate.varianceShare });
      const numeric = Object.keys(columns).filter((c) => columns[c] === 'numeric');
      const categorical = Object.keys(columns).filter((c) => columns[c] === 'categorical');
      // A label column gives the reference performance that PERFORMANCE alerts compare with.
      const perf = keys.has('label')
        ? new ReferencePerformanceBuilder({ kind: model.prediction, positiveClass: model.positiveClass, decisionThreshold: model.performance.decisionThreshold })
        : undefined;
      const estimation = keys.has('label') ? estimationBuilderFor(model) : undefined;
      let row = 0;
      const cells: Record<string, unknown> = {};
      for await (const batch of source.batches()) {
        for (const rec of batch) {
          row++;
          checkRecord(rec, row, limits);
          perf?.accept(rec);
          estimation?.accept(cellNumber(rec.score) ?? null, rec.label);
          builder.countRow();
          for (const c of numeric) {
            const n = cellNumber(rec[c]);
            if (n === undefined) invalid(`row ${row}: column ${c} is numeric but holds ${JSON.stringify(rec[c]).slice(0, 80)}`);
            builder.acceptValue(c, n);
            cells[c] = n;
          }
          for (const c of categorical) builder.acceptValue(c, rec[c] ?? null);
          multivariate?.acceptRecord(cells);
        }
      }
      // Time and content: a re-upload of the same sample is a new version, yet ids stay traceable to their bytes.
      const referenceId = `${input.modelId}-${input.createdAt.toString(36)}-${digest}`;
      const built = withMultivariate(builder.build({ createdAt: input.createdAt, id: referenceId, modelId: input.modelId, version: input.nextVersion ?? 1 }), multivariate);
      const performance = perf?.build();
      const profile = withEstimation(performance ? Object.freeze({ ...built, performance }) : built, estimation);
      return { referenceId, rows: row, profile };
    } catch (err) {
      throw withoutPath(err, file, dir);
    } finally {
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  };
}

