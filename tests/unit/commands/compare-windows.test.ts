import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { textSink as sink } from '../../support/text-sink.js';
import { compareCommand, COMPARE_EXIT, type CompareOptions, type CompareReport } from '../../../src/commands/compare.js';
import { mulberry32 } from '../../../src/core/random.js';

let dir = '';
let reference = '';
let current = '';
let other = '';
const u = mulberry32(8);
const normal = (): number => Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());
const region = (): string => ['north', 'south', 'east', 'west'][Math.floor(u() * 4)];

function csv(n: number, shift: (i: number) => number): string {
  const lines = ['x,region'];
  for (let i = 0; i < n; i++) lines.push(`${(normal() + shift(i)).toFixed(6)},${region()}`);
  return lines.join('\n') + '\n';
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'driftstream-compare-windows-'));
  reference = join(dir, 'reference.csv');
  current = join(dir, 'current.csv');
  other = join(dir, 'other.csv');
  await writeFile(reference, csv(10_000, () => 0));
  // Three windows of 2,000 rows and a last one of 500: the third is shifted by 1 sd.
  await writeFile(current, csv(6500, (i) => (i >= 4000 && i < 6000 ? 1 : 0)));
  await writeFile(other, csv(3000, () => 0));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(opts: Partial<CompareOptions>): Promise<{ code: number; out: string; err: string }> {
  const out = sink();
  const err = sink();
  const code = await compareCommand({ reference, current, format: 'json', types: {}, ...opts }, out, err);
  return { code, out: out.text(), err: err.text() };
}

describe('compare in windows', () => {
  it('cuts a file into --window-rows windows and prints one JSON line per window, judged by the rule', async () => {
    const { code, out, err } = await run({ windowRows: 2000 });
    expect(err).toBe('');
    expect(code).toBe(COMPARE_EXIT.ok);
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(4);
    const reports = lines.map((l) => JSON.parse(l) as CompareReport);
    expect(reports.map((r) => r.window)).toEqual([
      { index: 0, file: current, firstRow: 1, rows: 2000 },
      { index: 1, file: current, firstRow: 2001, rows: 2000 },
      { index: 2, file: current, firstRow: 4001, rows: 2000 },
      { index: 3, file: current, firstRow: 6001, rows: 500 },
    ]);
    expect(reports.map((r) => r.features.x.drift)).toEqual([false, false, true, false]);
    expect(reports[2].features.x.verdict).toMatchObject({ verdict: 'drift', metric: 'wasserstein', n: 2000 });
    expect(reports[2].features.x.verdict!.effect).toBeGreaterThan(1);
    expect(reports[2].features.region.drift).toBe(false);
    // 500 rows cannot see a tenth of a typical deviation.
    expect(reports[3].features.x.verdict?.verdict).toBe('insufficient');
  });

  it('takes several --current files as consecutive windows', async () => {
    const { code, out } = await run({ current: [other, current] });
    expect(code).toBe(COMPARE_EXIT.ok);
    const reports = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as CompareReport);
    expect(reports.map((r) => [r.window!.file, r.window!.rows])).toEqual([
      [other, 3000],
      [current, 6500],
    ]);
    expect(reports[0].features.x.drift).toBe(false);
  });

  it('keeps the single-window JSON document when there is one window', async () => {
    const { out } = await run({ current: other });
    const report = JSON.parse(out) as CompareReport;
    expect(report.window).toBeUndefined();
    expect(report.features.x.verdict?.verdict).toMatch(/^(ok|insufficient)$/);
  });

  it('prints a table per window and rejects a bad --window-rows', async () => {
    const table = await run({ windowRows: 2000, format: 'table' });
    expect(table.out.match(/^window \d+: /gm)).toHaveLength(4);
    expect(table.out).toMatch(/WARNING \(drift\)|CRITICAL \(drift\)/);
    const bad = await run({ windowRows: 0 });
    expect(bad.code).toBe(COMPARE_EXIT.badInput);
    expect(bad.err).toMatch(/--window-rows 0/);
  });
});
