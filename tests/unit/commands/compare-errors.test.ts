import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { textSink as sink } from '../../support/text-sink.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellNumber } from '../../../src/core/profile/cell-number.js';
import { compareCommand, compareFiles, parseTypeOptions, runCompare, CompareInputError } from '../../../src/commands/compare.js';
import { readSamples, SampleReadError } from '../../../src/io/sample-reader.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'driftstream-compare-errors-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
}

function rows(n: number, f: (i: number) => string): string {
  return Array.from({ length: n }, (_, i) => f(i)).join('\n') + '\n';
}

async function run(reference: string, current: string, types: Record<string, 'numeric' | 'categorical'> = {}) {
  const out = sink();
  const err = sink();
  const code = await compareCommand({ reference, current, format: 'json', types }, out, err);
  return { code, out: out.text(), err: err.text() };
}

describe('compare: bad input gets a clear message and exit code 2', () => {
  it('missing file', async () => {
    const ref = await file('ok.csv', 'x\n1\n2\n');
    const r = await run(join(dir, 'nope.csv'), ref);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/nope\.csv: cannot read file \(ENOENT\)/);
    expect((await run(ref, dir)).err).toMatch(/not a file/);
  });

  it('ragged row, with its line number', async () => {
    const ref = await file('ragged.csv', 'a,b\n1,2\n3\n4,5\n');
    const cur = await file('fine.csv', 'a,b\n1,2\n');
    const r = await run(ref, cur);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/ragged\.csv:3: ragged row, 1 cells where the header has 2/);
  });

  it('no common columns', async () => {
    const ref = await file('ab.csv', 'a,b\n1,2\n');
    const cur = await file('cd.csv', 'c,d\n1,2\n');
    const r = await run(ref, cur);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no common columns: .*ab\.csv has \[a, b\], .*cd\.csv has \[c, d\]/);
  });

  it('a column numeric in the reference and text in the current file', async () => {
    const ref = await file('num.csv', 'x,y\n' + rows(200, (i) => `${i},${i}`));
    const cur = await file('text.csv', 'x,y\n' + rows(200, (i) => `${i === 150 ? 'oops' : i},${i}`));
    const r = await run(ref, cur);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/column x is numeric in .*num\.csv but text in .*text\.csv \(record 151 holds "oops"\)/);
    // declaring it categorical makes the comparison legitimate
    const ok = await run(ref, cur, { x: 'categorical', nosuch: 'numeric' });
    expect(ok.code).toBe(0);
    expect(ok.err).toMatch(/--type names columns the reference does not have: nosuch/);
    expect(JSON.parse(ok.out).features.x.type).toBe('categorical');
  });

  it('a column text in the reference and numeric in the current file', async () => {
    const ref = await file('cat.csv', 'x\n' + rows(200, (i) => (i % 2 ? 'a' : 'b')));
    const cur = await file('nums.csv', 'x\n' + rows(200, (i) => String(i)));
    const r = await run(ref, cur);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/column x is text in .*cat\.csv but numeric in .*nums\.csv/);
  });

  it('text in a column declared numeric', async () => {
    const ref = await file('decl.csv', 'x\n1\nfoo\n');
    const r = await run(ref, ref, { x: 'numeric' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/column x is declared numeric but record 2 holds "foo"/);
  });

  it('malformed NDJSON', async () => {
    const bad = await file('bad.ndjson', '{"x": 1}\n{"x": \n');
    expect((await run(bad, bad)).err).toMatch(/bad\.ndjson:2: not valid JSON/);
    const arr = await file('arr.ndjson', '{"x": 1}\n[1,2]\n');
    expect((await run(arr, arr)).err).toMatch(/arr\.ndjson:2: each line must be a JSON object/);
    const nested = await file('nested.ndjson', '{"x": {"y": 1}}\n');
    expect((await run(nested, nested)).err).toMatch(/field x is not a scalar/);
  });

  it('empty file, unterminated quote, duplicate header', async () => {
    const empty = await file('empty.csv', '');
    expect((await run(empty, empty)).err).toMatch(/empty file, a header row is required/);
    const quote = await file('quote.csv', 'a\n"abc\n');
    expect((await run(quote, quote)).err).toMatch(/quote\.csv:2: unterminated quoted field/);
    const dup = await file('dup.csv', 'a,a\n1,2\n');
    expect((await run(dup, dup)).err).toMatch(/duplicate column a/);
  });

  it('errors are typed for programmatic callers', async () => {
    const a = await file('a.csv', 'a\n1\n');
    const b = await file('b.csv', 'b\n1\n');
    await expect(compareFiles({ reference: a, current: b, format: 'json', types: {} })).rejects.toBeInstanceOf(CompareInputError);
    await expect(compareFiles({ reference: join(dir, 'x.csv'), current: b, format: 'json', types: {} })).rejects.toMatchObject({
      code: 'SAMPLE_NOT_FOUND',
    });
  });
});

describe('compare: input handling', () => {
  it('infers types, treats empty cells and null as missing, leaves out columns only in one file', async () => {
    const ref = await file('r.csv', 'n,c,only_ref\n' + rows(300, (i) => `${i % 7 === 0 ? '' : i},${i % 3 === 0 ? 'x' : 'y'},1`));
    const cur = await file('c.ndjson', rows(300, (i) => JSON.stringify({ n: i % 5 === 0 ? null : i + 0.5, c: i % 3 === 0 ? 'x' : 'y', only_cur: 2 })));
    const out = sink();
    const err = sink();
    const code = await runCompare({ reference: ref, current: cur, format: 'table', types: {} }, { out, err });
    expect(code).toBe(0);
    expect(err.text()).toMatch(/only in the reference, not compared: only_ref/);
    expect(err.text()).toMatch(/only in the current file, not compared: only_cur/);
    const r = await run(ref, cur);
    const report = JSON.parse(r.out);
    expect(Object.keys(report.features)).toEqual(['n', 'c']);
    expect(report.features.n.type).toBe('numeric');
    expect(report.features.n.nReference).toBe(300 - 43);
    expect(report.features.n.missing).toBe(60);
    expect(report.features.c.type).toBe('categorical');
  });

  it('a column that turns to text after the first 1000 rows is still inferred as categorical', async () => {
    const ref = await file('late.csv', 'x\n' + rows(3000, (i) => (i === 2500 ? 'late-text' : String(i % 10))));
    const r = await run(ref, ref);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).features.x.type).toBe('categorical');
  });

  it('reads quoted CSV fields with commas, quotes and newlines, CRLF and a BOM', async () => {
    const p = await file('quoted.csv', '\uFEFFname,v\r\n"a, b",1\r\n"say ""hi""",2\r\n"two\nlines",3\r\n');
    const recs = [];
    for await (const r of readSamples(p)) recs.push(r);
    expect(recs).toEqual([
      { name: 'a, b', v: '1' },
      { name: 'say "hi"', v: '2' },
      { name: 'two\nlines', v: '3' },
    ]);
  });

  it('sniffs the format of a file without a known extension', async () => {
    const p = await file('data.txt', '{"x": 1}\n{"x": 2}\n');
    const recs = [];
    for await (const r of readSamples(p)) recs.push(r);
    expect(recs).toEqual([{ x: 1 }, { x: 2 }]);
    await expect(readSamples(join(dir, 'none.txt')).next()).rejects.toBeInstanceOf(SampleReadError);
  });

  it('parses --type options', () => {
    expect(parseTypeOptions(['a=numeric', 'b = categorical', 'x=y=categorical'])).toEqual({ a: 'numeric', b: 'categorical', 'x=y': 'categorical' });
    expect(() => parseTypeOptions(['a=text'])).toThrow(/NAME=numeric or NAME=categorical/);
    expect(() => parseTypeOptions(['=numeric'])).toThrow(CompareInputError);
  });

  it('cellNumber accepts plain numbers only', () => {
    expect(cellNumber('1.5e3')).toBe(1500);
    expect(cellNumber(' 2 ')).toBe(2);
    expect(cellNumber('-.5')).toBe(-0.5);
    expect(cellNumber(null)).toBeNull();
    expect(cellNumber(3)).toBe(3);
    for (const s of ['0x10', 'Infinity', '1e', 'abc', '1,5', '']) expect(cellNumber(s)).toBeUndefined();
    expect(cellNumber(true)).toBeUndefined();
  });
});

describe('compare: files without data rows', () => {
  it('a current CSV with only a header is compared (nothing to judge) rather than rejected', async () => {
    const ref = await file('hdr-ref.csv', 'x,c\n' + rows(200, (i) => `${i},${i % 2 ? 'a' : 'b'}`));
    const cur = await file('hdr-only.csv', 'x,c\n');
    const r = await run(ref, cur);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.features.x.nCurrent).toBe(0);
    expect(report.features.x.psi).toBeNull();
    expect(report.features.x.severity).toBe('NONE');
    expect(report.dataset).toEqual({ driftShare: 0, drift: false });
  });

  it('fails fast on a CSV header with no common column', async () => {
    const ref = await file('h1.csv', 'a\n1\n');
    const cur = await file('h2.csv', 'b\n');
    const r = await run(ref, cur);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no common columns/);
  });
});
