import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import Papa from 'papaparse';
import { recordFactory } from './record-factory.js';
import { limitRows, SampleReadError, type ColumnBatch, type RowSource, type RowSourceOptions, type SampleColumn, type SampleRecord, type SampleValue } from './row-source.js';

/**
 * CSV cells read as missing: the empty cell, and the spellings of "no value"
 * that pandas and R write by default.
 */
export const CSV_MISSING_TOKENS: ReadonlySet<string> = new Set(['', 'NA', 'NaN', 'nan', 'null', 'NULL']);

const DELIMITERS = [',', ';', '\t', '|'];

/** Counts the bytes EF BF BD (U+FFFD written out in UTF-8) in a buffer. */
function replacementCharacters(bytes: Buffer): number {
  let n = 0;
  for (let i = bytes.indexOf(0xef); i !== -1 && i + 2 < bytes.length; i = bytes.indexOf(0xef, i + 1)) {
    if (bytes[i + 1] === 0xbf && bytes[i + 2] === 0xbd) n++;
  }
  return n;
}

/** Decodes chunk by chunk; a character split across chunks is held over to the next. */
interface ChunkDecoder {
  readonly encoding: string;
  decode(bytes: Buffer): string;
  end(): string;
}

/**
 * UTF-8 through Node's StringDecoder, several times faster than TextDecoder
 * on large files; it replaces invalid bytes with U+FFFD, so a chunk whose
 * text holds more of those than its bytes spelled out is not UTF-8.
 */
function utf8Decoder(): ChunkDecoder {
  const d = new StringDecoder('utf8');
  let held: Buffer = Buffer.alloc(0);
  const check = (bytes: Buffer, text: string): string => {
    if (text.includes('\uFFFD')) {
      const found = text.split('\uFFFD').length - 1;
      if (found > replacementCharacters(Buffer.concat([held, bytes]))) throw new TypeError('invalid UTF-8');
    }
    return text;
  };
  return {
    encoding: 'utf-8',
    decode(bytes) {
      const text = check(bytes, d.write(bytes));
      // Keep the tail of an incomplete character, so the check sees it whole next time.
      held = bytes.subarray(Math.max(0, bytes.length - 3));
      return text;
    },
    end() {
      return check(Buffer.alloc(0), d.end());
    },
  };
}

function textDecoder(label: string): ChunkDecoder {
  const d = new TextDecoder(label, { fatal: true });
  return {
    encoding: d.encoding,
    decode: (bytes) => d.decode(bytes, { stream: true }),
    end: () => d.decode(),
  };
}

/** The text a CSV file's bytes decode to, chunk by chunk. */
async function* decodedChunks(path: string, encoding: string | undefined): AsyncGenerator<string> {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  let decoder: ChunkDecoder | undefined;
  let offset = 0;
  try {
    for await (const read of stream as AsyncIterable<Buffer>) {
      let chunk = read;
      if (!decoder) {
        // A byte order mark names the encoding, and is no part of the text.
        const utf8Bom = chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf;
        const bom = utf8Bom ? 'utf-8' : chunk[0] === 0xff && chunk[1] === 0xfe ? 'utf-16le' : chunk[0] === 0xfe && chunk[1] === 0xff ? 'utf-16be' : undefined;
        const label = (bom ?? encoding ?? 'utf-8').toLowerCase();
        if (utf8Bom) chunk = chunk.subarray(3);
        try {
          decoder = label === 'utf-8' || label === 'utf8' ? utf8Decoder() : textDecoder(label);
        } catch (err) {
          throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}: unknown text encoding ${JSON.stringify(label)}`, { cause: err });
        }
      }
      try {
        yield decoder.decode(chunk);
      } catch (err) {
        throw new SampleReadError(
          'SAMPLE_MALFORMED',
          path,
          `${path}: not valid ${decoder.encoding} text within bytes ${offset}-${offset + read.length}; give the file's encoding (--csv-encoding, e.g. windows-1252)`,
          { cause: err },
        );
      }
      offset += read.length;
    }
    if (decoder) {
      let tail: string;
      try {
        tail = decoder.end();
      } catch (err) {
        throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}: the file ends inside a ${decoder.encoding} character`, { cause: err });
      }
      if (tail.length > 0) yield tail;
    }
  } finally {
    stream.destroy();
  }
}

/** The delimiter a header row uses most, outside quotes: one of `, ; TAB |`, comma when none appears. */
export function detectDelimiter(headerLine: string): string {
  const counts = new Map<string, number>();
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && DELIMITERS.includes(ch)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  }
  let best = ',';
  for (const d of DELIMITERS) if ((counts.get(d) ?? 0) > (counts.get(best) ?? 0)) best = d;
  return best;
}

interface Dialect {
  delimiter: string;
  newline: '\n' | '\r\n' | '\r';
}

function dialectOf(firstText: string, path: string, options: RowSourceOptions): Dialect {
  const lf = firstText.indexOf('\n');
  const cr = firstText.indexOf('\r');
  const newline = cr !== -1 && (lf === -1 || cr < lf) ? (firstText[cr + 1] === '\n' ? '\r\n' : '\r') : '\n';
  const end = lf === -1 && cr === -1 ? firstText.length : Math.min(...[lf, cr].filter((i) => i !== -1));
  const delimiter = options.delimiter ?? (path.toLowerCase().endsWith('.tsv') ? '\t' : detectDelimiter(firstText.slice(0, end)));
  return { delimiter, newline };
}

interface ParsedChunk {
  data: string[][];
  errors: Papa.ParseError[];
}

/**
 * Papa Parse's chunks as an async generator: the parser is paused after each
 * chunk until the consumer asks for the next, so at most one chunk of rows is
 * held, whatever the file's size.
 */
async function* papaChunks(text: AsyncIterable<string>, dialect: Dialect): AsyncGenerator<ParsedChunk> {
  const input = Readable.from(text, { objectMode: true });
  const ready: ParsedChunk[] = [];
  let parser: Papa.Parser | undefined;
  let done = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const signal = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  // Read errors (decoding) reach the parser's error callback through the stream.
  Papa.parse(input as unknown as Papa.LocalFile, {
    delimiter: dialect.delimiter,
    newline: dialect.newline,
    quoteChar: '"',
    escapeChar: '"',
    header: false,
    dynamicTyping: false,
    skipEmptyLines: false,
    chunk: (results: Papa.ParseResult<string[]>, p: Papa.Parser) => {
      ready.push({ data: results.data, errors: results.errors });
      parser = p;
      p.pause();
      signal();
    },
    complete: () => {
      done = true;
      signal();
    },
    error: (err: Error) => {
      failure = err;
      done = true;
      signal();
    },
  });
  try {
    for (;;) {
      const next = ready.shift();
      if (next) {
        yield next;
        if (ready.length === 0 && !done) parser?.resume();
        continue;
      }
      if (failure !== undefined) throw failure;
      if (done) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    if (!done) parser?.abort();
    input.destroy();
  }
}

function countNewlines(cells: readonly string[], newline: string): number {
  const nl = newline === '\r' ? '\r' : '\n';
  let n = 0;
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i];
    for (let j = c.indexOf(nl); j !== -1; j = c.indexOf(nl, j + 1)) n++;
  }
  return n;
}

/** What one pass over a CSV file found, shared with the caller that asked for the header only. */
interface CsvPass {
  header?: readonly string[];
}

/** The rows of a CSV file as arrays of cells (missing ones null), a chunk at a time; the header goes to `pass`. */
async function* csvRows(path: string, options: RowSourceOptions, pass: CsvPass): AsyncGenerator<SampleValue[][]> {
  const text = decodedChunks(path, options.encoding);
  // The first chunk of text fixes the delimiter and the line ending.
  const first = await text.next();
  if (first.done || first.value.trim().length === 0) {
    throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}: empty file, a header row is required`);
  }
  const dialect = dialectOf(first.value, path, options);
  // Newlines inside cells come only from quoted fields: until a quote shows up
  // in the text, rows need no scan for them.
  let quotes = first.value.includes('"');
  async function* all(): AsyncGenerator<string> {
    yield first.value as string;
    for await (const t of text) {
      if (!quotes && t.includes('"')) quotes = true;
      yield t;
    }
  }
  let header: string[] | null = null;
  let line = 1; // the line the next row starts on
  for await (const chunk of papaChunks(all(), dialect)) {
    const quoteError = chunk.errors.find((e) => e.type === 'Quotes');
    const failAt = quoteError ? Math.min(quoteError.row ?? 0, chunk.data.length) : chunk.data.length;
    const batch: SampleValue[][] = [];
    for (let r = 0; r < failAt; r++) {
      const cells = chunk.data[r];
      const start = line;
      line += quotes ? 1 + countNewlines(cells, dialect.newline) : 1;
      if (cells.length === 1 && cells[0].trim().length === 0) continue; // a blank line
      if (dialect.newline === '\n') {
        // A stray CRLF in a file that mostly ends its lines with LF.
        const last = cells[cells.length - 1];
        if (last.charCodeAt(last.length - 1) === 13) cells[cells.length - 1] = last.slice(0, -1);
      }
      if (header === null) {
        header = cells.map((c) => c.trim());
        const seen = new Set<string>();
        for (const h of header) {
          if (h === '') throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}:${start}: empty column name in the header`, { line: start });
          if (seen.has(h)) throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}:${start}: duplicate column ${h} in the header`, { line: start });
          seen.add(h);
        }
        pass.header = header;
        continue;
      }
      if (cells.length !== header.length) {
        throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}:${start}: ragged row, ${cells.length} cells where the header has ${header.length}`, {
          line: start,
        });
      }
      const values = cells as SampleValue[];
      for (let i = 0; i < cells.length; i++) {
        const c = cells[i];
        if (c.length <= 4 && CSV_MISSING_TOKENS.has(c)) values[i] = null;
      }
      batch.push(values);
    }
    if (quoteError) {
      const what = quoteError.code === 'MissingQuotes' ? 'unterminated quoted field' : 'text after a closing quote';
      throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}:${line}: ${what}`, { line });
    }
    if (batch.length > 0) yield batch;
  }
  if (header === null) throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}: empty file, a header row is required`);
}

async function* csvBatches(path: string, options: RowSourceOptions): AsyncGenerator<SampleRecord[]> {
  const pass: CsvPass = {};
  let make: ((cells: readonly SampleValue[]) => SampleRecord) | undefined;
  for await (const rows of csvRows(path, options, pass)) {
    make ??= recordFactory(pass.header!);
    yield rows.map(make);
  }
}

// Columns straight from the parsed rows: no record per row is built.
async function* csvColumnBatches(path: string, options: RowSourceOptions): AsyncGenerator<ColumnBatch> {
  const pass: CsvPass = {};
  let index: Map<string, number> | undefined;
  for await (const rows of csvRows(path, options, pass)) {
    const names = pass.header!;
    index ??= new Map(names.map((n, i) => [n, i]));
    const at = index;
    yield {
      length: rows.length,
      names,
      column: (name) => {
        const i = at.get(name);
        const out = new Array<SampleValue | undefined>(rows.length);
        if (i !== undefined) for (let r = 0; r < rows.length; r++) out[r] = rows[r][i];
        return out;
      },
    };
  }
}

/**
 * A CSV file: a header row, then one record per row (RFC 4180 quoting,
 * quoted fields may span lines). Cells stay strings; those in
 * {@link CSV_MISSING_TOKENS} become null. Errors name the line they were
 * found on.
 */
export async function openCsvSource(path: string, options: RowSourceOptions = {}): Promise<RowSource> {
  const pass: CsvPass = {};
  const probe = csvRows(path, options, pass);
  try {
    while (pass.header === undefined && !(await probe.next()).done);
  } finally {
    await probe.return(undefined);
  }
  const columns: SampleColumn[] = (pass.header ?? []).map((name) => ({ name }));
  return {
    path,
    format: 'csv',
    columns,
    batches: (o = {}) => limitRows(csvBatches(path, options), o.limit ?? Infinity),
    columnBatches: () => csvColumnBatches(path, options),
  };
}
