import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { DriftstreamError } from '../errors.js';

/** File formats a sample file can have. */
export type SampleFormat = 'csv' | 'ndjson';

/** One cell: CSV gives strings (or null when missing); NDJSON gives JSON scalars. */
export type SampleValue = string | number | boolean | null;

/** One sample record, keyed by column name. */
export type SampleRecord = Record<string, SampleValue>;

/**
 * A sample file cannot be read: missing (`SAMPLE_NOT_FOUND`), or malformed
 * (`SAMPLE_MALFORMED`: ragged CSV row, bad JSON line, no header). `line` is
 * the 1-based line where the problem was found, when known.
 */
export class SampleReadError extends DriftstreamError {
  readonly path: string;
  readonly line: number | undefined;
  constructor(code: 'SAMPLE_NOT_FOUND' | 'SAMPLE_MALFORMED', path: string, message: string, options: { line?: number; cause?: unknown } = {}) {
    super(code, message, { retriable: false, cause: options.cause });
    this.path = path;
    this.line = options.line;
  }
}

/** Options of {@link readSampleBatches} and {@link readSamples}. */
export interface SampleReaderOptions {
  /** Format; by default from the extension (.csv, .ndjson, .jsonl, .json), else from the first byte. */
  format?: SampleFormat;
  /** Stop after this many records (for peeking). */
  limit?: number;
}

/**
 * CSV cells read as missing: the empty cell, and the spellings of "no value"
 * that pandas and R write by default.
 */
export const CSV_MISSING_TOKENS: ReadonlySet<string> = new Set(['', 'NA', 'NaN', 'nan', 'null', 'NULL']);

/** Format of a sample file, from its extension or, failing that, its first non-blank byte. */
export async function detectFormat(path: string): Promise<SampleFormat> {
  const lower = path.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.ndjson') || lower.endsWith('.jsonl') || lower.endsWith('.json')) return 'ndjson';
  await ensureReadable(path);
  const fh = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await fh.read({ buffer: Buffer.alloc(512), position: 0 });
    const head = buffer.subarray(0, bytesRead).toString('utf8').trimStart();
    return head.startsWith('{') ? 'ndjson' : 'csv';
  } finally {
    await fh.close();
  }
}

async function ensureReadable(path: string): Promise<void> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new SampleReadError('SAMPLE_NOT_FOUND', path, `${path}: not a file`);
  } catch (err) {
    if (err instanceof SampleReadError) throw err;
    throw new SampleReadError('SAMPLE_NOT_FOUND', path, `${path}: cannot read file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
}

/**
 * Streams a CSV (header row, RFC 4180 quoting) or NDJSON (one object per line)
 * file as batches of records, without loading it whole. Blank lines are
 * skipped. CSV cells in {@link CSV_MISSING_TOKENS} become null; NDJSON values
 * that are objects or arrays are rejected. Throws {@link SampleReadError}.
 * Batches avoid one promise per record on large files.
 */
export async function* readSampleBatches(path: string, options: SampleReaderOptions = {}): AsyncGenerator<SampleRecord[]> {
  await ensureReadable(path);
  const format = options.format ?? (await detectFormat(path));
  const limit = options.limit ?? Infinity;
  let emitted = 0;
  const parse = format === 'csv' ? csvParser(path) : ndjsonParser(path);
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  let rest = '';
  let lineNo = 0;
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      const text = rest + chunk;
      const lines = text.split('\n');
      rest = lines.pop()!;
      const batch: SampleRecord[] = [];
      for (const line of lines) {
        lineNo++;
        const rec = parse(line, lineNo);
        if (rec !== null) batch.push(rec);
      }
      if (emitted + batch.length >= limit) {
        yield batch.slice(0, limit - emitted);
        return;
      }
      emitted += batch.length;
      if (batch.length > 0) yield batch;
    }
    const batch: SampleRecord[] = [];
    if (rest.length > 0) {
      const rec = parse(rest, ++lineNo);
      if (rec !== null) batch.push(rec);
    }
    const tail = parse(null, lineNo);
    if (tail !== null) batch.push(tail);
    if (batch.length > 0) yield batch.slice(0, Math.max(0, limit - emitted));
  } finally {
    stream.destroy();
  }
}

/** {@link readSampleBatches} one record at a time. */
export async function* readSamples(path: string, options: SampleReaderOptions = {}): AsyncGenerator<SampleRecord> {
  for await (const batch of readSampleBatches(path, options)) yield* batch;
}

/** Column names of a CSV file (its header) or, for NDJSON, the keys of the first `peek` records. */
export async function readColumns(path: string, options: { format?: SampleFormat; peek?: number } = {}): Promise<string[]> {
  const format = options.format ?? (await detectFormat(path));
  if (format === 'csv') return readCsvHeader(path);
  const names = new Set<string>();
  for await (const batch of readSampleBatches(path, { format: options.format, limit: options.peek ?? 1000 })) {
    for (const r of batch) for (const k of Object.keys(r)) names.add(k);
  }
  return [...names];
}

/** The header row of a CSV file (works on a file without data rows too). */
export async function readCsvHeader(path: string): Promise<string[]> {
  await ensureReadable(path);
  const parse = csvParser(path);
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 64 * 1024 });
  let rest = '';
  let lineNo = 0;
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        parse(line, ++lineNo);
        if (parse.header) return [...parse.header];
      }
    }
    if (rest.length > 0) parse(rest, ++lineNo);
    if (parse.header) return [...parse.header];
    parse(null, lineNo); // throws: no header
    return [];
  } finally {
    stream.destroy();
  }
}

type LineParser = (line: string | null, lineNo: number) => SampleRecord | null;

function csvParser(path: string): LineParser & { header?: readonly string[] } {
  let header: string[] | null = null;
  let pending: string | null = null; // a quoted field spanning lines
  let pendingStart = 0;
  let makeRecord: ((cells: readonly (string | null)[]) => SampleRecord) | null = null;
  const parser: LineParser & { header?: readonly string[] } = (raw, lineNo) => {
    if (raw === null) {
      if (pending !== null) throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}:${pendingStart}: unterminated quoted field`, { line: pendingStart });
      if (header === null) throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}: empty file, a header row is required`);
      return null;
    }
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (pending !== null) {
      line = pending + '\n' + line;
      pending = null;
    } else pendingStart = lineNo;
    if (line.includes('"') && !quotesBalanced(line)) {
      pending = line;
      return null;
    }
    if (line.length === 0 || (header !== null && line.trim().length === 0)) return null;
    const cells = line.includes('"') ? splitQuoted(line, path, pendingStart) : line.split(',');
    if (header === null) {
      header = cells.map((c, i) => (i === 0 ? c.replace(/^\uFEFF/, '') : c).trim());
      const seen = new Set<string>();
      for (const h of header) {
        if (h === '') throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}:${lineNo}: empty column name in the header`, { line: lineNo });
        if (seen.has(h)) throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}:${lineNo}: duplicate column ${h} in the header`, { line: lineNo });
        seen.add(h);
      }
      makeRecord = recordFactory(header);
      parser.header = header;
      return null;
    }
    if (cells.length !== header.length) {
      throw new SampleReadError(
        'SAMPLE_MALFORMED',
        path,
        `${path}:${pendingStart}: ragged row, ${cells.length} cells where the header has ${header.length}`,
        { line: pendingStart },
      );
    }
    for (let i = 0; i < cells.length; i++) {
      const c = cells[i];
      if (c.length <= 4 && CSV_MISSING_TOKENS.has(c)) (cells as (string | null)[])[i] = null;
    }
    return makeRecord!(cells);
  };
  return parser;
}

/**
 * A function that builds a record from the cells of one row. It is compiled
 * from an object literal over the header so every record shares one hidden
 * class, which is markedly faster than assigning keys one by one on wide,
 * long files. Keys go in through JSON.stringify, so any header text is safe.
 */
function recordFactory(header: readonly string[]): (cells: readonly (string | null)[]) => SampleRecord {
  if (header.length > 1000 || header.includes('__proto__')) {
    return (cells) => {
      const rec: SampleRecord = {};
      for (let i = 0; i < header.length; i++) {
        Object.defineProperty(rec, header[i], { value: cells[i], enumerable: true, writable: true, configurable: true });
      }
      return rec;
    };
  }
  const body = `return {${header.map((h, i) => `${JSON.stringify(h)}: c[${i}]`).join(', ')}};`;
  return new Function('c', body) as (cells: readonly (string | null)[]) => SampleRecord;
}

function quotesBalanced(line: string): boolean {
  let n = 0;
  for (let i = line.indexOf('"'); i !== -1; i = line.indexOf('"', i + 1)) n++;
  return n % 2 === 0;
}

function splitQuoted(line: string, path: string, lineNo: number): string[] {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    if (line[i] === '"') {
      let cell = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q === -1) throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}:${lineNo}: unterminated quoted field`, { line: lineNo });
        cell += line.slice(i, q);
        if (line[q + 1] === '"') {
          cell += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      if (i < n && line[i] !== ',') throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}:${lineNo}: text after a closing quote`, { line: lineNo });
      out.push(cell);
    } else {
      const c = line.indexOf(',', i);
      const end = c === -1 ? n : c;
      out.push(line.slice(i, end));
      i = end;
    }
    if (i >= n) break;
    i++; // the comma
    if (i === n) {
      out.push('');
      break;
    }
  }
  return out;
}

function ndjsonParser(path: string): LineParser {
  return (raw, lineNo) => {
    if (raw === null) return null;
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
    for (const [k, v] of Object.entries(rec)) {
      if (v !== null && typeof v === 'object') {
        throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}:${lineNo}: field ${k} is not a scalar`, { line: lineNo });
      }
    }
    return rec as SampleRecord;
  };
}
