import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ModelConfig } from '../core/model/index.js';
import { hasControlCharacter } from '../core/has-control-character.js';
import { MAX_FEATURES_PER_MODEL, parseModelConfig } from '../core/model/index.js';
import { ColumnTypeInference } from '../core/profile/column-inference.js';
import type { ColumnType } from '../core/profile/reference-profile.js';
import { SampleProfileBuilder } from '../core/profile/sample-profile.js';
import { multivariateBuilderFor } from '../core/profile/multivariate-profile.js';
import { estimationBuilderFor } from '../core/profile/estimation-profile.js';
import { SegmentValueTally, segmentValueOfCell } from '../core/profile/segment-profiles.js';
import { performanceSpecOf } from '../core/performance/records.js';
import { DriftstreamError, ValidationError } from '../errors.js';
import { openRowSource, readColumns, type ColumnBatch, type RowSource, type SampleRecord } from '../io/sample-reader.js';
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
    if (typeof v === 'string') checkCell(k, v, row, limits);
  }
}

function checkCell(k: string, v: string, row: number, limits: UploadLimits): void {
  if (limits.maxCellBytes !== undefined && cellTooLarge(v, limits.maxCellBytes)) {
    throw new ValidationError(`row ${row}: column ${k.slice(0, 80)} holds a cell larger than ${limits.maxCellBytes} bytes`, { code: 'CELL_TOO_LARGE' });
  }
  if (hasControlCharacter(v)) invalid(`row ${row}: column ${JSON.stringify(k.slice(0, 80))} holds a control character`);
}

/** {@link checkRecord} for a batch of columns; `before` rows came before it. */
function checkBatch(batch: ColumnBatch, before: number, limits: UploadLimits): void {
  for (const k of batch.names) {
    const values = batch.column(k);
    for (let i = 0; i < batch.length; i++) {
      const v = values[i];
      if (typeof v === 'string') checkCell(k, v, before + i + 1, limits);
    }
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

/** Columns of a sample that are never features: the model's outputs, the label, ids and times. */
const NOT_FEATURES: ReadonlySet<string> = new Set(['score', 'prediction', 'label', 'eventId', 'timestamp']);

/**
 * The profile's columns: the model's features (or, when it declares none, the
 * sample's columns typed by {@link ColumnTypeInference}, a Parquet or Arrow
 * schema's types first) plus its output columns, typed by the prediction kind.
 */
function columnsOf(model: ModelConfig, inference: ColumnTypeInference, keys: ReadonlySet<string>): Record<string, ColumnType> {
  const columns: Record<string, ColumnType> = Object.keys(model.features).length > 0 ? { ...model.features } : inference.types();
  if (keys.has('score')) columns.score = 'numeric';
  if (keys.has('prediction')) columns.prediction = model.prediction === 'regression' ? 'numeric' : 'categorical';
  return columns;
}

/** The feature columns of a profile's columns (not the model's outputs). */
function featuresOnly(columns: Readonly<Record<string, ColumnType>>): Record<string, ColumnType> {
  return Object.fromEntries(Object.entries(columns).filter(([c]) => c !== 'score' && c !== 'prediction'));
}

/**
 * The sample's column names, for a model that declares no features its
 * column types, and for a model with segments the counts of each segment
 * attribute's values (its column's). A model with features and no segments
 * needs only the first `prefixRows` rows (which columns exist); inference and
 * segments read every row, so that a later text cell makes its column
 * categorical instead of failing the upload, and every row's segment counts.
 */
async function scanSample(
  source: RowSource,
  model: ModelConfig,
  limits: UploadLimits,
  prefixRows: number,
): Promise<{ keys: Set<string>; inference: ColumnTypeInference; segments: SegmentValueTally }> {
  const attributes = model.segments.attributes;
  const fixed = Object.fromEntries((source.columns ?? []).filter((c) => c.type !== undefined).map((c) => [c.name, c.type!]));
  // A segment attribute's column says which segment a row is in: it is not a feature.
  const inference = new ColumnTypeInference({ fixed, exclude: new Set([...NOT_FEATURES, ...attributes]) });
  const segments = new SegmentValueTally(attributes, model.segments.topK);
  const infer = Object.keys(model.features).length === 0;
  const keys = new Set<string>();
  let row = 0;
  for await (const batch of source.batches({ limit: infer || attributes.length > 0 ? Infinity : prefixRows })) {
    const known = keys.size;
    for (const rec of batch) {
      checkRecord(rec, ++row, limits);
      for (const k in rec) keys.add(k);
      if (infer) inference.observeRecord(rec);
      for (const a of attributes) segments.accept(a, segmentValueOfCell(rec[a]));
    }
    if (keys.size > known) checkColumns([...keys], limits);
  }
  if (row === 0) invalid('the sample holds no rows');
  return { keys, inference, segments };
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
      const source = await openRowSource(file, { format: input.format });
      const { keys, inference, segments } = await scanSample(source, model, limits, options.inferRows ?? 1000);
      const columns = columnsOf(model, inference, keys);
      const featureCount = Object.keys(columns).filter((c) => c !== 'score' && c !== 'prediction').length;
      if (featureCount > MAX_FEATURES_PER_MODEL) {
        throw new ValidationError(`the sample has ${featureCount} feature columns; a model may have at most ${MAX_FEATURES_PER_MODEL}`, { code: 'TOO_MANY_FEATURES' });
      }
      const absent = Object.keys(model.features).filter((f) => !keys.has(f));
      if (absent.length) invalid(`the sample has no column for feature${absent.length > 1 ? 's' : ''} ${absent.join(', ')}`);
      const noSegment = model.segments.attributes.filter((a) => !keys.has(a));
      if (noSegment.length) invalid(`the model has segments by ${noSegment.join(', ')}, and the sample has no column of that name`);
      if (Object.keys(columns).length === 0) invalid('the sample has no usable columns');

      const topK = limits.maxCategories === undefined ? model.topK : Math.min(model.topK, limits.maxCategories);
      // A label column gives the reference performance that PERFORMANCE alerts compare with.
      const builder = new SampleProfileBuilder({
        columns,
        bins: model.bins,
        topK,
        performance: performanceSpecOf(model),
        onText: (c, row, v) => invalid(`row ${row}: column ${c} is numeric but holds ${JSON.stringify(v).slice(0, 80)}`),
        multivariate: multivariateBuilderFor(featuresOnly(columns), { varianceShare: model.multivariate.varianceShare }),
        estimation: keys.has('label') ? estimationBuilderFor(model) : undefined,
        // A profile per segment: the rows grouped by the attribute's column, its top K values by traffic and __other__.
        ...(model.segments.attributes.length > 0 ? { segments: { kept: segments.kept() } } : {}),
      });
      for await (const batch of source.columnBatches()) {
        checkBatch(batch, builder.rows, limits);
        builder.acceptBatch(batch);
      }
      // Time and content: a re-upload of the same sample is a new version, yet ids stay traceable to their bytes.
      const referenceId = `${input.modelId}-${input.createdAt.toString(36)}-${digest}`;
      const profile = builder.build({ createdAt: input.createdAt, id: referenceId, modelId: input.modelId, version: input.nextVersion ?? 1 });
      return { referenceId, rows: builder.rows, profile };
    } catch (err) {
      throw withoutPath(err, file, dir);
    } finally {
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  };
}

