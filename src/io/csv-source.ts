import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import Papa from 'papaparse';
import { recordFactory } from './record-factory.js';
import { limitRows, SampleReadError, type RowSource, type RowSourceOptions, type SampleColumn, type SampleRecord, type SampleValue } from './row-source.js';

/**
 * CSV cells read as missing: the empty cell, and the spellings of "no value"
 * that pandas and R write by default.
 */
export const CSV_MISSING_TOKENS: ReadonlySet<string> = new Set(['', 'NA', 'NaN', 'nan', 'null', 'NULL']);

const DELIMITERS = [',', ';', '\t', '|'];

/** The text a CSV file's bytes decode to, chunk by chunk, and the encoding used. */
async function* decodedChunks(path: string, encoding: string | undefined): AsyncGenerator<string> {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  let decoder: TextDecoder | undefined;
  let offset = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (!decoder) {
        // A byte order mark names the encoding; TextDecoder drops it from the text.
        const bom = chunk[0] === 0xff && chunk[1] === 0xfe ? 'utf-16le' : chunk[0] === 0xfe && chunk[1] === 0xff ? 'utf-16be' : undefined;
        const label = bom ?? encoding ?? 'utf-8';
        try {
          decoder = new TextDecoder(label, { fatal: true });
        } catch (err) {
          throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}: unknown text encoding ${JSON.stringify(label)}`, { cause: err });
        }
      }
      try {
        yield decoder.decode(chunk, { stream: true });
      } catch (err) {
        throw new SampleReadError(
          'SAMPLE_MALFORMED',
          path,
          `${path}: not valid ${decoder.encoding} text within bytes ${offset}-${offset + chunk.length}; give the file's encoding (e.g. windows-1252)`,
          { cause: err },
        );
      }
      offset += chunk.length;
    }
    if (decoder) {
      try {
        const tail = decoder.decode();
        if (tail.length > 0) yield tail;
      } catch (err) {
        throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}: the file ends inside a ${decoder.encoding} character`, { cause: err });
      }
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

async function* csvBatches(path: string, options: RowSourceOptions, pass: CsvPass = {}): AsyncGenerator<SampleRecord[]> {
  const text = decodedChunks(path, options.encoding);
  // The first chunk of text fixes the delimiter and the line ending.
  const first = await text.next();
  if (first.done || first.value.trim().length === 0) {
    throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}: empty file, a header row is required`);
  }
  const dialect = dialectOf(first.value, path, options);
  async function* all(): AsyncGenerator<string> {
    yield first.value as string;
    yield* text;
  }
  let header: string[] | null = null;
  let makeRecord: ((cells: readonly SampleValue[]) => SampleRecord) | null = null;
  let line = 1; // the line the next row starts on
  for await (const chunk of papaChunks(all(), dialect)) {
    const quoteError = chunk.errors.find((e) => e.type === 'Quotes');
    const failAt = quoteError ? Math.min(quoteError.row ?? 0, chunk.data.length) : chunk.data.length;
    const batch: SampleRecord[] = [];
    for (let r = 0; r < failAt; r++) {
      const cells = chunk.data[r];
      const start = line;
      line += 1 + countNewlines(cells, dialect.newline);
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
        makeRecord = recordFactory(header);
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
      batch.push(makeRecord!(values));
    }
    if (quoteError) {
      const what = quoteError.code === 'MissingQuotes' ? 'unterminated quoted field' : 'text after a closing quote';
      throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}:${line}: ${what}`, { line });
    }
    if (batch.length > 0) yield batch;
  }
  if (header === null) throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}: empty file, a header row is required`);
}

/**
 * A CSV file: a header row, then one record per row (RFC 4180 quoting,
 * quoted fields may span lines). Cells stay strings; those in
 * {@link CSV_MISSING_TOKENS} become null. Errors name the line they were
 * found on.
 */
export async function openCsvSource(path: string, options: RowSourceOptions = {}): Promise<RowSource> {
  const pass: CsvPass = {};
  const probe = csvBatches(path, options, pass);
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
  };
}
