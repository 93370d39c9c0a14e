import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareCommand } from '../../../src/commands/compare.js';
import { textSink as sink } from '../../support/text-sink.js';

// The same two tables written by DuckDB as CSV, NDJSON and Parquet (see
// tests/fixtures/samples/generate.mjs), and as Arrow IPC: the current one as a
// stream by arrow-rs, the reference as a file converted here.
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'samples');
let dir = '';
const files: Record<string, { reference: string; current: string }> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'driftstream-compare-formats-'));
  const arrowFile = join(dir, 'reference.arrow');
  const table = tableFromIPC(readParquet(await readFile(join(FIXTURES, 'reference.parquet'))).intoIPCStream());
  await writeFile(arrowFile, tableToIPC(table, 'file'));
  for (const f of ['csv', 'ndjson', 'parquet']) files[f] = { reference: join(FIXTURES, `reference.${f}`), current: join(FIXTURES, `current.${f}`) };
  files.arrow = { reference: arrowFile, current: join(FIXTURES, 'current.arrows') };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function report(reference: string, current: string): Promise<unknown> {
  const out = sink();
  const err = sink();
  const code = await compareCommand({ reference, current, format: 'json', types: {} }, out, err);
  expect(err.text()).toBe('');
  expect(code).toBe(0);
  return JSON.parse(out.text());
}

describe('compare reads every sample format to the same result', () => {
  it('CSV, NDJSON, Parquet and Arrow give identical reports, in any pairing', async () => {
    const baseline = (await report(files.csv.reference, files.csv.current)) as {
      features: Record<string, { type: string; nReference: number; nCurrent: number; missing: number; drift: boolean }>;
    };
    // The baseline itself is a real comparison: every column, typed, counted, the shifted ones in drift.
    expect(Object.fromEntries(Object.entries(baseline.features).map(([k, f]) => [k, f.type]))).toEqual({
      x: 'numeric',
      n: 'numeric',
      segment: 'categorical',
      flag: 'categorical',
    });
    expect(baseline.features.x.nReference).toBe(2000 - 21);
    expect(baseline.features.x.missing).toBe(16);
    expect(baseline.features.n.nCurrent).toBe(1500);
    expect(baseline.features.n.drift).toBe(true);
    expect(baseline.features.segment.drift).toBe(true);
    for (const ref of Object.keys(files)) {
      for (const cur of Object.keys(files)) {
        expect(await report(files[ref].reference, files[cur].current), `${ref} vs ${cur}`).toEqual(baseline);
      }
    }
  });

  it('reads a CSV in another encoding when told, and says how when not', async () => {
    const p = join(dir, 'latin1.csv');
    await writeFile(p, Buffer.from('ville;n\n' + Array.from({ length: 200 }, (_, i) => `${i % 2 ? 'Besan\xe7on' : 'Orl\xe9ans'};${i}`).join('\n') + '\n', 'latin1'));
    const out = sink();
    const err = sink();
    expect(await compareCommand({ reference: p, current: p, format: 'json', types: {}, input: { encoding: 'windows-1252' } }, out, err)).toBe(0);
    expect(JSON.parse(out.text()).features.ville).toMatchObject({ type: 'categorical', nReference: 200 });
    const bad = sink();
    expect(await compareCommand({ reference: p, current: p, format: 'json', types: {} }, sink(), bad)).toBe(2);
    expect(bad.text()).toMatch(/latin1\.csv: not valid utf-8 text within bytes 0-\d+; give the file's encoding \(--csv-encoding/);
  });

  it('refuses a Parquet file with nested columns, naming them', async () => {
    const out = sink();
    const err = sink();
    const code = await compareCommand({ reference: join(FIXTURES, 'nested.parquet'), current: files.csv.current, format: 'json', types: {} }, out, err);
    expect(code).toBe(2);
    expect(err.text()).toMatch(/nested\.parquet: columns tags \(List<Int32>, nested\), point \(Struct<\{a:Int32\}>, nested\), raw \(Binary\) cannot be summarised/);
  });
});
