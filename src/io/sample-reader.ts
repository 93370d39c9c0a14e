import { detectFormat, ensureReadable, type RowSource, type RowSourceOptions, type SampleRecord } from './row-source.js';

export { CSV_MISSING_TOKENS } from './csv-source.js';
export {
  detectFormat,
  SampleReadError,
  SAMPLE_FORMATS,
  type ColumnBatch,
  type RowSource,
  type RowSourceOptions,
  type SampleColumn,
  type SampleColumnType,
  type SampleFormat,
  type SampleRecord,
  type SampleValue,
} from './row-source.js';

/** Options of {@link readSampleBatches} and {@link readSamples}. */
export interface SampleReaderOptions extends RowSourceOptions {
  /** Stop after this many records (for peeking). */
  limit?: number;
}

/**
 * Streams a sample file of any format (CSV, NDJSON, Parquet, Arrow IPC) as
 * batches of records, without loading it whole: {@link openRowSource} and
 * its batches in one call. Throws {@link SampleReadError}.
 */
export async function* readSampleBatches(path: string, options: SampleReaderOptions = {}): AsyncGenerator<SampleRecord[]> {
  const source = await openRowSource(path, options);
  yield* source.batches({ limit: options.limit });
}

/** {@link readSampleBatches} one record at a time. */
export async function* readSamples(path: string, options: SampleReaderOptions = {}): AsyncGenerator<SampleRecord> {
  for await (const batch of readSampleBatches(path, options)) yield* batch;
}

/** Column names of a sample: its header or schema, or for NDJSON the keys of the first `peek` records. */
export async function readColumns(path: string, options: RowSourceOptions & { peek?: number } = {}): Promise<string[]> {
  const source = await openRowSource(path, options);
  if (source.columns) return source.columns.map((c) => c.name);
  const names = new Set<string>();
  for await (const batch of source.batches({ limit: options.peek ?? 1000 })) {
    for (const r of batch) for (const k of Object.keys(r)) names.add(k);
  }
  return [...names];
}

/**
 * Opens a sample file of any {@link SampleFormat}: CSV (a header row; quoting,
 * CRLF, a byte order mark, `;`/tab/`|` delimiters), NDJSON (one object per
 * line), Parquet (any compression the format allows) or Arrow IPC (file or
 * stream). Parquet and Arrow columns take their types from the schema;
 * nested and binary columns are refused here, by name. Throws
 * {@link SampleReadError}.
 */
export async function openRowSource(path: string, options: RowSourceOptions = {}): Promise<RowSource> {
  await ensureReadable(path);
  const format = options.format ?? (await detectFormat(path));
  switch (format) {
    case 'csv':
      return (await import('./csv-source.js')).openCsvSource(path, options);
    case 'ndjson':
      return (await import('./ndjson-source.js')).openNdjsonSource(path);
    case 'parquet':
      return (await import('./parquet-source.js')).openParquetSource(path);
    case 'arrow':
      return (await import('./arrow-source.js')).openArrowSource(path);
  }
}
