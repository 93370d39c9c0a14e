import { createReadStream } from 'node:fs';
import { limitRows, recordsAsColumns, SampleReadError, type RowSource, type SampleRecord } from './row-source.js';

function parseLine(path: string, raw: string, lineNo: number): SampleRecord | null {
  const line = raw.trim();
  if (line.length === 0) return null;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}:${lineNo}: not valid JSON (${(err as Error).message})`, { line: lineNo, cause: err });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}:${lineNo}: each line must be a JSON object`, { line: lineNo });
  }
  const rec = value as Record<string, unknown>;
  for (const k in rec) {
    const v = rec[k];
    if (v !== null && typeof v === 'object') throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}:${lineNo}: field ${k} is not a scalar`, { line: lineNo });
  }
  return rec as SampleRecord;
}

async function* ndjsonBatches(path: string): AsyncGenerator<SampleRecord[]> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  let rest = '';
  let lineNo = 0;
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      const batch: SampleRecord[] = [];
      for (const line of lines) {
        const rec = parseLine(path, line, ++lineNo);
        if (rec !== null) batch.push(rec);
      }
      if (batch.length > 0) yield batch;
    }
    const tail = rest.length > 0 ? parseLine(path, rest, ++lineNo) : null;
    if (tail !== null) yield [tail];
  } finally {
    stream.destroy();
  }
}

/**
 * NDJSON: one JSON object of scalars per line, blank lines skipped. Its
 * columns are the keys its records hold, so the source names none up front.
 */
export function openNdjsonSource(path: string): RowSource {
  return {
    path,
    format: 'ndjson',
    columns: undefined,
    batches: (options = {}) => limitRows(ndjsonBatches(path), options.limit ?? Infinity),
    columnBatches: () => recordsAsColumns(ndjsonBatches(path)),
  };
}
