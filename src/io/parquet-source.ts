import { openAsBlob } from 'node:fs';
import { Table, tableFromIPC, type Vector } from 'apache-arrow';
import { ParquetFile } from 'parquet-wasm/node';
import { columnBatchOf, columnsOfSchema, recordsOf } from './arrow-columns.js';
import { recordFactory } from './record-factory.js';
import { limitRows, SampleReadError, type ColumnBatch, type RowSource, type SampleRecord } from './row-source.js';

/** Rows per batch handed on: small enough that the records of one batch stay a few MB. */
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

/** One column of one row group, decoded to Arrow. */
async function readColumnChunk(path: string, file: ParquetFile, group: number, name: string): Promise<Vector> {
  try {
    const stream = await file.stream({ rowGroups: [group], columns: [name], batchSize: 1 << 20, concurrency: 1 });
    const parts: Table[] = [];
    for await (const batch of stream as AsyncIterable<{ intoIPCStream(): Uint8Array }>) parts.push(tableFromIPC(batch.intoIPCStream()));
    const table = new Table(parts.flatMap((t) => t.batches));
    const vector = table.getChild(name);
    if (!vector) throw new Error(`row group ${group} has no column ${name}`);
    return vector;
  } catch (err) {
    throw malformed(path, err);
  }
}

/**
 * A Parquet file, read by parquet-wasm (the Rust arrow and parquet crates) one
 * row group at a time and, within it, one column chunk at a time: memory holds
 * the decoded columns of a single row group, whatever the file's size. Every
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
  const names = columns.map((c) => c.name);
  const make = recordFactory(names);
  // Slices of BATCH_ROWS rows over each row group, in order.
  async function* slices(): AsyncGenerator<{ vectors: Vector[]; start: number; end: number }> {
    const file = await openParquetFile(path);
    try {
      const groups = file.metadata().numRowGroups();
      for (let g = 0; g < groups; g++) {
        // Column by column: the decoder's buffers then hold one column chunk, not a whole row group.
        const vectors: Vector[] = [];
        for (const name of names) vectors.push(await readColumnChunk(path, file, g, name));
        const rows = vectors.length > 0 ? vectors[0].length : 0;
        for (let start = 0; start < rows; start += BATCH_ROWS) yield { vectors, start, end: Math.min(rows, start + BATCH_ROWS) };
      }
    } finally {
      file.free();
    }
  }
  async function* batches(): AsyncGenerator<SampleRecord[]> {
    for await (const s of slices()) yield recordsOf(names, s.vectors, s.start, s.end, make);
  }
  async function* columnBatches(): AsyncGenerator<ColumnBatch> {
    for await (const s of slices()) yield columnBatchOf(names, s.vectors, s.start, s.end);
  }
  return { path, format: 'parquet', columns, batches: (o = {}) => limitRows(batches(), o.limit ?? Infinity), columnBatches };
}
