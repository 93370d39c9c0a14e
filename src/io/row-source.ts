import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { DriftstreamError } from '../errors.js';

/** File formats a sample can have. */
export type SampleFormat = 'csv' | 'ndjson' | 'parquet' | 'arrow';

/** Every {@link SampleFormat}, in the order help texts list them. */
export const SAMPLE_FORMATS: readonly SampleFormat[] = Object.freeze(['csv', 'ndjson', 'parquet', 'arrow']);

/** One cell: CSV gives strings (or null when missing); NDJSON, Parquet and Arrow give scalars. */
export type SampleValue = string | number | boolean | null;

/** One sample record, keyed by column name. */
export type SampleRecord = Record<string, SampleValue>;

/** How a column is summarised: the two feature types of DESIGN.md section 3. */
export type SampleColumnType = 'numeric' | 'categorical';

/**
 * A column of a sample. `type` is set when the file declares it (Parquet and
 * Arrow schemas); CSV headers and NDJSON keys carry names only, and their
 * types are inferred from the values by the caller.
 */
export interface SampleColumn {
  readonly name: string;
  readonly type?: SampleColumnType;
}

/**
 * Rows `[0, length)` of a sample, column by column: `column(name)` holds one
 * cell per row (undefined where a record lacks the key), `names` the columns
 * present. Columnar files hand these on without building a record per row.
 */
export interface ColumnBatch {
  readonly length: number;
  readonly names: readonly string[];
  column(name: string): readonly (SampleValue | undefined)[];
}

/**
 * A sample file opened for reading: its format, its columns where the file
 * names them up front, and its rows as async batches. Reading streams: at most
 * one batch (a CSV chunk, a Parquet row group slice, an Arrow record batch)
 * is held at a time, so a file larger than memory can be read.
 */
export interface RowSource {
  readonly path: string;
  readonly format: SampleFormat;
  /**
   * Columns in file order: CSV (its header), Parquet and Arrow (their schema,
   * typed). Undefined for NDJSON, whose keys are only known from its records.
   */
  readonly columns: readonly SampleColumn[] | undefined;
  /** Rows in batches; every call starts again at the first row. Throws {@link SampleReadError}. */
  batches(options?: { limit?: number }): AsyncGenerator<SampleRecord[]>;
  /** The same rows as column batches; every call starts again at the first row. */
  columnBatches(): AsyncGenerator<ColumnBatch>;
}

/** Options of {@link openRowSource}. */
export interface RowSourceOptions {
  /** Format; by default from the extension, else from the file's first bytes. */
  format?: SampleFormat;
  /** CSV field delimiter; by default the one of `, ; TAB |` the header row holds most of. */
  delimiter?: string;
  /** CSV text encoding (a WHATWG label such as `utf-8`, `utf-16le`, `windows-1252`); by default from a byte order mark, else UTF-8. */
  encoding?: string;
}

/**
 * A sample file cannot be read: missing (`SAMPLE_NOT_FOUND`), malformed
 * (`SAMPLE_MALFORMED`: ragged CSV row, bad JSON line, no header, a damaged
 * Parquet or Arrow file), or holding columns that cannot be summarised
 * (`SAMPLE_UNSUPPORTED_COLUMN`: nested or binary Parquet/Arrow columns).
 * `line` is the 1-based line where the problem was found, when known.
 */
export class SampleReadError extends DriftstreamError {
  readonly path: string;
  readonly line: number | undefined;
  constructor(
    code: 'SAMPLE_NOT_FOUND' | 'SAMPLE_MALFORMED' | 'SAMPLE_UNSUPPORTED_COLUMN',
    path: string,
    message: string,
    options: { line?: number; cause?: unknown } = {},
  ) {
    super(code, message, { retriable: false, cause: options.cause });
    this.path = path;
    this.line = options.line;
  }
}

const EXTENSIONS: Record<string, SampleFormat> = {
  '.csv': 'csv',
  '.tsv': 'csv',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.json': 'ndjson',
  '.parquet': 'parquet',
  '.pq': 'parquet',
  '.arrow': 'arrow',
  '.arrows': 'arrow',
  '.feather': 'arrow',
  '.ipc': 'arrow',
};

/** The format a file's first bytes announce: Parquet and Arrow by their magic, NDJSON by a leading `{`, else CSV. */
export function formatFromBytes(head: Uint8Array): SampleFormat {
  const ascii = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (ascii.subarray(0, 4).toString('latin1') === 'PAR1') return 'parquet';
  if (ascii.subarray(0, 6).toString('latin1') === 'ARROW1') return 'arrow';
  // An Arrow IPC stream starts with the continuation marker of its schema message.
  if (ascii.length >= 8 && ascii.readUInt32LE(0) === 0xffffffff) return 'arrow';
  const text = ascii.toString('utf8').replace(/^\uFEFF/, '').trimStart();
  return text.startsWith('{') ? 'ndjson' : 'csv';
}

/** Format of a sample file, from its extension or, failing that, its first bytes. */
export async function detectFormat(path: string): Promise<SampleFormat> {
  const byExtension = EXTENSIONS[extname(path).toLowerCase()];
  if (byExtension) return byExtension;
  await ensureReadable(path);
  const fh = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await fh.read({ buffer: Buffer.alloc(512), position: 0 });
    return formatFromBytes(buffer.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

/** Throws {@link SampleReadError} (`SAMPLE_NOT_FOUND`) unless `path` is a readable file. */
export async function ensureReadable(path: string): Promise<void> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new SampleReadError('SAMPLE_NOT_FOUND', path, `${path}: not a file`);
  } catch (err) {
    if (err instanceof SampleReadError) throw err;
    throw new SampleReadError('SAMPLE_NOT_FOUND', path, `${path}: cannot read file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
}

/** Parses a `--format` value; throws a plain Error naming the accepted ones. */
export function parseSampleFormat(value: string): SampleFormat {
  const v = value.trim().toLowerCase();
  if ((SAMPLE_FORMATS as readonly string[]).includes(v)) return v as SampleFormat;
  throw new Error(`expected one of ${SAMPLE_FORMATS.join(', ')}, got ${JSON.stringify(value)}`);
}

/**
 * Column batches over record batches: each column is gathered when asked
 * for, and `names` are the keys of the batch's records (every record's, so
 * NDJSON keys that appear late are seen).
 */
export async function* recordsAsColumns(batches: AsyncIterable<SampleRecord[]>, fixedNames?: readonly string[]): AsyncGenerator<ColumnBatch> {
  for await (const records of batches) {
    let names = fixedNames;
    if (!names) {
      const seen = new Set<string>();
      for (const r of records) for (const k in r) seen.add(k);
      names = [...seen];
    }
    yield {
      length: records.length,
      names,
      column: (name) => {
        const out = new Array<SampleValue | undefined>(records.length);
        for (let i = 0; i < records.length; i++) out[i] = records[i][name];
        return out;
      },
    };
  }
}

/** A generator over `source`'s batches that stops after `limit` rows. */
export async function* limitRows(source: AsyncIterable<SampleRecord[]>, limit: number): AsyncGenerator<SampleRecord[]> {
  if (limit <= 0) return;
  let emitted = 0;
  for await (const batch of source) {
    if (emitted + batch.length >= limit) {
      yield batch.length === limit - emitted ? batch : batch.slice(0, limit - emitted);
      return;
    }
    emitted += batch.length;
    if (batch.length > 0) yield batch;
  }
}
