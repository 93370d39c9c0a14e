import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dictionary, Int32, Table, tableFromArrays, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectFormat, openRowSource, readColumns, readSamples, SampleReadError, type SampleRecord } from '../../../src/io/sample-reader.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'samples');
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'driftstream-row-source-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Uint8Array): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, content);
  return p;
}

async function all(path: string, options: Parameters<typeof readSamples>[1] = {}): Promise<SampleRecord[]> {
  const out: SampleRecord[] = [];
  for await (const r of readSamples(path, options)) out.push(r);
  return out;
}

async function failure(p: Promise<unknown>): Promise<SampleReadError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SampleReadError);
  return err as SampleReadError;
}

describe('CSV', () => {
  it('reads quotes, doubled quotes, quoted newlines, CRLF and a UTF-8 byte order mark', async () => {
    const p = await file('quoted.csv', '\uFEFFname,v\r\n"a, b",1\r\n"say ""hi""",2\r\n"two\nlines",3\r\n');
    expect(await all(p)).toEqual([
      { name: 'a, b', v: '1' },
      { name: 'say "hi"', v: '2' },
      { name: 'two\nlines', v: '3' },
    ]);
  });

  it('takes the delimiter the header uses: semicolon, tab, pipe', async () => {
    const semi = await file('semi.csv', 'a;b\n"1,5";2\n3;\n');
    expect(await all(semi)).toEqual([
      { a: '1,5', b: '2' },
      { a: '3', b: null },
    ]);
    const tab = await file('t.tsv', 'a\tb\n1\t2\n');
    expect(await all(tab)).toEqual([{ a: '1', b: '2' }]);
    const pipe = await file('pipe.txt', 'a|b|c\n1|2|3\n');
    expect(await all(pipe)).toEqual([{ a: '1', b: '2', c: '3' }]);
    const forced = await file('forced.csv', 'a;b,c\n1;2,3\n');
    expect(await all(forced, { delimiter: ',' })).toEqual([{ 'a;b': '1;2', c: '3' }]);
  });

  it('decodes UTF-16 files by their byte order mark and other encodings on request', async () => {
    const utf16 = await file('utf16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('städte,n\r\nKöln,1\r\n', 'utf16le')]));
    expect(await all(utf16)).toEqual([{ städte: 'Köln', n: '1' }]);
    const latin1 = await file('latin1.csv', Buffer.from('name\ncaf\xe9\n', 'latin1'));
    expect(await all(latin1, { encoding: 'windows-1252' })).toEqual([{ name: 'café' }]);
    // Read as UTF-8 the byte 0xE9 is not text: an error, never a silently replaced character.
    expect((await failure(all(latin1))).message).toMatch(/latin1\.csv: not valid utf-8 text within bytes 0-\d+; give the file's encoding/);
    expect((await failure(all(latin1, { encoding: 'klingon' }))).message).toMatch(/unknown text encoding "klingon"/);
  });

  it('reads missing-value spellings as null and skips blank lines', async () => {
    const p = await file('missing.csv', 'a,b\n\nNA,1\n,NULL\n   \nnan,x\n');
    expect(await all(p)).toEqual([
      { a: null, b: '1' },
      { a: null, b: null },
      { a: null, b: 'x' },
    ]);
  });

  it('names the line of a bad row, counting lines inside quoted fields', async () => {
    const ragged = await file('ragged.csv', 'a,b\n"x\ny",1\n"p\r\nq",2\n3\n');
    const e = await failure(all(ragged));
    expect(e.message).toBe(`${ragged}:6: ragged row, 1 cells where the header has 2`);
    expect(e.line).toBe(6);
    expect(e.code).toBe('SAMPLE_MALFORMED');
    const crlf = await file('ragged-crlf.csv', 'a;b\r\n1;2\r\n\r\n1;2;3\r\n');
    expect((await failure(all(crlf))).message).toBe(`${crlf}:4: ragged row, 3 cells where the header has 2`);
    const unterminated = await file('quote.csv', 'a\n1\n"abc\n2\n');
    expect((await failure(all(unterminated))).message).toBe(`${unterminated}:3: unterminated quoted field`);
    const trailing = await file('trailing.csv', 'a,b\n1,2\n"x"y,2\n');
    expect((await failure(all(trailing))).message).toBe(`${trailing}:3: text after a closing quote`);
  });

  it('finds a bad row past the first chunk of a large file', async () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => `${i},"v ${i}"`);
    rows[90_000] = '90000';
    const p = await file('large.csv', 'a,b\n' + rows.join('\n') + '\n');
    expect((await failure(all(p))).message).toBe(`${p}:90002: ragged row, 1 cells where the header has 2`);
  });

  it('rejects an empty file, an empty or duplicate column name', async () => {
    expect((await failure(all(await file('empty.csv', '')))).message).toMatch(/empty\.csv: empty file, a header row is required/);
    expect((await failure(all(await file('blank.csv', '\n\n')))).message).toMatch(/empty file/);
    expect((await failure(all(await file('dup.csv', 'a,a\n1,2\n')))).message).toMatch(/dup\.csv:1: duplicate column a in the header/);
    expect((await failure(all(await file('nameless.csv', 'a,,c\n1,2,3\n')))).message).toMatch(/nameless\.csv:1: empty column name/);
  });

  it('names the header columns of a file without rows', async () => {
    const source = await openRowSource(await file('header-only.csv', 'a,b\n'));
    expect(source.columns).toEqual([{ name: 'a' }, { name: 'b' }]);
    expect(await all(source.path)).toEqual([]);
  });
});

describe('Parquet and Arrow', () => {
  it('maps the schema to feature types and reads each type as a plain value', async () => {
    const source = await openRowSource(join(FIXTURES, 'types.parquet'));
    expect(source.format).toBe('parquet');
    expect(source.columns).toEqual([
      { name: 'd', type: 'numeric' },
      { name: 'f', type: 'numeric' },
      { name: 'i8', type: 'numeric' },
      { name: 'i64', type: 'numeric' },
      { name: 'dec', type: 'numeric' },
      { name: 'dt', type: 'numeric' },
      { name: 'ts', type: 'numeric' },
      { name: 's', type: 'categorical' },
      { name: 'b', type: 'categorical' },
      // DuckDB types a column of nulls INTEGER: the file's word is taken.
      { name: 'nul', type: 'numeric' },
    ]);
    const [row] = await all(source.path);
    expect(row).toEqual({
      d: 1.5,
      f: 2.5,
      i8: 3,
      i64: 5,
      dec: 12.34,
      dt: Date.UTC(2024, 0, 2),
      ts: Date.UTC(2024, 0, 2, 3, 4, 5, 678),
      s: 'x',
      b: true,
      nul: null,
    });
  });

  it('refuses nested and binary columns, naming each', async () => {
    const p = join(FIXTURES, 'nested.parquet');
    const e = await failure(openRowSource(p));
    expect(e.code).toBe('SAMPLE_UNSUPPORTED_COLUMN');
    expect(e.message).toContain('columns tags (List<Int32>, nested), point (Struct<{a:Int32}>, nested), raw (Binary) cannot be summarised');
    expect(e.message).not.toMatch(/\bd \(/);
  });

  it('reads every Parquet compression codec to the same rows', async () => {
    const expected = await all(join(FIXTURES, 'reference.parquet'));
    expect(expected).toHaveLength(2000);
    expect(expected[1]).toEqual({ x: 7.136, n: 1, segment: 'seg-2', flag: false });
    for (const codec of ['gzip', 'zstd', 'uncompressed', 'lz4_raw', 'brotli']) {
      expect(await all(join(FIXTURES, `reference-${codec}.parquet`)), codec).toEqual(expected);
    }
    // ...and the same rows the CSV of the same table holds, once its cells are read as the schema says.
    const csv = await all(join(FIXTURES, 'reference.csv'));
    const typed = csv.map((r) => ({ x: r.x === null ? null : Number(r.x), n: Number(r.n), segment: r.segment, flag: r.flag === 'true' }));
    expect(typed).toEqual(expected);
  });

  it('reads an Arrow IPC stream and file, dictionary columns as categorical', async () => {
    const stream = await openRowSource(join(FIXTURES, 'current.arrows'));
    expect(stream.format).toBe('arrow');
    expect(await all(stream.path)).toEqual(await all(join(FIXTURES, 'current.parquet')));

    const dict = vectorFromArray(['a', 'b', null, 'a'], new Dictionary(new Utf8(), new Int32()));
    const table = new Table({ cat: dict, v: vectorFromArray([1, 2, 3, null], new Int32()) });
    const p = await file('dict.arrow', tableToIPC(table, 'file'));
    const source = await openRowSource(p);
    expect(source.columns).toEqual([
      { name: 'cat', type: 'categorical' },
      { name: 'v', type: 'numeric' },
    ]);
    expect(await all(p)).toEqual([
      { cat: 'a', v: 1 },
      { cat: 'b', v: 2 },
      { cat: null, v: 3 },
      { cat: 'a', v: null },
    ]);
  });

  it('streams a file of many record batches one batch at a time, and stops early on a limit', async () => {
    const n = 50_000;
    const batches = Array.from({ length: 5 }, (_, b) => tableFromArrays({ v: Float64Array.from({ length: n / 5 }, (_, i) => b * 10_000 + i) }));
    const p = await file('batches.arrows', tableToIPC(new Table(batches.flatMap((t) => t.batches)), 'stream'));
    const source = await openRowSource(p);
    const sizes: number[] = [];
    for await (const batch of source.batches()) sizes.push(batch.length);
    expect(sizes).toEqual([10_000, 10_000, 10_000, 10_000, 10_000]);
    expect((await all(p, { limit: 12_345 })).at(-1)).toEqual({ v: 12_344 });
  });

  it('says so when a file is not what its name or magic claims', async () => {
    const fake = await file('fake.parquet', 'a,b\n1,2\n');
    const e = await failure(all(fake));
    expect(e.code).toBe('SAMPLE_MALFORMED');
    expect(e.message).toMatch(/fake\.parquet: not a readable Parquet file/);
    const truncated = await file('truncated.arrow', (await readFile(join(FIXTURES, 'current.arrows'))).subarray(0, 300));
    expect((await failure(all(truncated))).message).toMatch(/truncated\.arrow: not a readable Arrow IPC file or stream/);
  });
});

describe('format detection', () => {
  it('goes by extension, then by magic bytes', async () => {
    expect(await detectFormat('x.PARQUET')).toBe('parquet');
    expect(await detectFormat('x.feather')).toBe('arrow');
    expect(await detectFormat('x.jsonl')).toBe('ndjson');
    const parquet = await file('upload.bin', await readFile(join(FIXTURES, 'types.parquet')));
    expect(await detectFormat(parquet)).toBe('parquet');
    const arrowStream = await file('upload2.bin', await readFile(join(FIXTURES, 'current.arrows')));
    expect(await detectFormat(arrowStream)).toBe('arrow');
    const arrowFile = await file('upload3.bin', tableToIPC(tableFromArrays({ v: [1] }), 'file'));
    expect(await detectFormat(arrowFile)).toBe('arrow');
    expect(await detectFormat(await file('upload4.bin', '\uFEFF{"a":1}\n'))).toBe('ndjson');
    expect(await detectFormat(await file('upload5.bin', 'a,b\n'))).toBe('csv');
    expect(await readColumns(parquet)).toEqual(['d', 'f', 'i8', 'i64', 'dec', 'dt', 'ts', 's', 'b', 'nul']);
  });
});
