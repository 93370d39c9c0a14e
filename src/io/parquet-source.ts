import { openAsBlob } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';
import { ParquetFile } from 'parquet-wasm/node';
import { batchConverter, columnsOfSchema } from './arrow-columns.js';
import { limitRows, SampleReadError, type RowSource, type SampleRecord } from './row-source.js';

/** Rows per batch: large enough to amortise the trip through Arrow IPC, small enough to keep memory flat. */
const BATCH_ROWS = 64 * 1024;

function malformed(path: string, err: unknown): SampleReadError {
  const reason = err instanceof Error ? err.message : String(err);
  return new SampleReadError('SAMPLE_MALFORMED', path, `${path}: not a readable Parquet file (${reason})`, { cause: err });
}

async function openParquetFile(path: string): Promise<ParquetFile> {
  try {
    return await ParquetFile.fromFile(await openAsBlob(path));
  } catch (err) {
    throw malformed(path, err);
  }
}

/**
 * A Parquet file, read by parquet-wasm (the Rust arrow/parquet crates) one
 * row group slice at a time: only the column chunks of the row group being
 * read are in memory, so a file far larger than RAM streams through. Every
 * compression codec of the format (snappy, gzip, zstd, lz4, brotli) is read.
 */
export async function openParquetSource(path: string): Promise<RowSource> {
  const probe = await openParquetFile(path);
  let columns;
  try {
    columns = columnsOfSchema(path, tableFromIPC(probe.schema().intoIPCStream()).schema);
  } finally {
    probe.free();
  }
  const convert = batchConverter(path, columns);
  async function* batches(): AsyncGenerator<SampleRecord[]> {
    const file = await openParquetFile(path);
    let reader: ReadableStreamDefaultReader | undefined;
    try {
      // One row group at a time: concurrent fetches would hold several in memory.
      reader = (await file.stream({ batchSize: BATCH_ROWS, concurrency: 1 })).getReader();
      for (;;) {
        let next;
        try {
          next = await reader.read();
        } catch (err) {
          throw malformed(path, err);
        }
        if (next.done) return;
        const table = tableFromIPC((next.value as { intoIPCStream(): Uint8Array }).intoIPCStream());
        for (const batch of table.batches) yield convert(batch);
      }
    } finally {
      await reader?.cancel().catch(() => undefined);
      file.free();
    }
  }
  return { path, format: 'parquet', columns, batches: (o = {}) => limitRows(batches(), o.limit ?? Infinity) };
}
