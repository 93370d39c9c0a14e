import { open } from 'node:fs/promises';
import { RecordBatchReader } from 'apache-arrow';
import { columnBatchOf, columnsOfSchema, recordsOf, vectorsOf } from './arrow-columns.js';
import { recordFactory } from './record-factory.js';
import type { RecordBatch } from 'apache-arrow';
import { limitRows, SampleReadError, type ColumnBatch, type RowSource, type SampleRecord } from './row-source.js';

function malformed(path: string, err: unknown): SampleReadError {
  const reason = err instanceof Error ? err.message : String(err);
  return new SampleReadError('SAMPLE_MALFORMED', path, `${path}: not a readable Arrow IPC file or stream (${reason})`, { cause: err });
}

async function openReader(path: string) {
  const fh = await open(path, 'r');
  try {
    const reader = await RecordBatchReader.from(fh);
    await reader.open();
    if (reader.schema === undefined || reader.schema === null) throw new Error('no schema message');
    return { fh, reader };
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw malformed(path, err);
  }
}

/**
 * An Arrow IPC file (Feather v2) or stream, read one record batch at a time
 * through a file handle: the file format's batches are located through its
 * footer, the stream's read in order, neither loaded whole.
 */
export async function openArrowSource(path: string): Promise<RowSource> {
  const probe = await openReader(path);
  let columns;
  try {
    columns = columnsOfSchema(path, probe.reader.schema);
  } finally {
    await probe.reader.cancel().catch(() => undefined);
    await probe.fh.close().catch(() => undefined);
  }
  const names = columns.map((c) => c.name);
  const make = recordFactory(names);
  async function* recordBatches(): AsyncGenerator<RecordBatch> {
    const { fh, reader } = await openReader(path);
    try {
      const it = reader[Symbol.asyncIterator]();
      for (;;) {
        let next;
        try {
          next = await it.next();
        } catch (err) {
          throw malformed(path, err);
        }
        if (next.done) return;
        yield next.value;
      }
    } finally {
      await reader.cancel().catch(() => undefined);
      await fh.close().catch(() => undefined);
    }
  }
  async function* batches(): AsyncGenerator<SampleRecord[]> {
    for await (const b of recordBatches()) yield recordsOf(names, vectorsOf(path, names, b), 0, b.numRows, make);
  }
  async function* columnBatches(): AsyncGenerator<ColumnBatch> {
    for await (const b of recordBatches()) yield columnBatchOf(names, vectorsOf(path, names, b), 0, b.numRows);
  }
  return { path, format: 'arrow', columns, batches: (o = {}) => limitRows(batches(), o.limit ?? Infinity), columnBatches };
}
