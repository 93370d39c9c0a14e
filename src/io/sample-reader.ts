import { openRowSource, type RowSourceOptions } from './row-source.js';
import type { SampleRecord } from './row-source.js';

export { CSV_MISSING_TOKENS } from './csv-source.js';
export {
  detectFormat,
  openRowSource,
  SampleReadError,
  SAMPLE_FORMATS,
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
