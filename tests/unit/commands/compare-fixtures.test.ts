import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { textSink as sink } from '../../support/text-sink.js';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareCommand, type CompareReport } from '../../../src/commands/compare.js';

// CI lays shared/ beside the clone; so does the development checkout.
const repoRoot = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const fixtures = resolve(repoRoot, '../shared/fixtures/stats');

async function compare(reference: string, current: string, format: 'json' | 'table' = 'json', types = {}): Promise<{ code: number; out: string; err: string }> {
  const out = sink();
  const err = sink();
  const code = await compareCommand({ reference, current, format, types }, out, err);
  return { code, out: out.text(), err: err.text() };
}

/** One feature of a fixture's expected.json (numeric or categorical fields). */
interface ExpectedFeature {
  type: 'numeric' | 'categorical';
  n_reference: number;
  n_current: number;
  psi: number;
  jensen_shannon: number;
  hellinger: number;
  ks: { statistic: number; p_value: number };
  wasserstein_normed: number;
  missing_current: number;
  chi_square: { statistic: number; p_value: number; dof: number };
  new_categories: string[];
}

function closeRel(actual: number, expected: number, rel: number): boolean {
  return Math.abs(actual - expected) <= rel * Math.max(Math.abs(expected), 1e-12);
}

/** Mean absolute deviation from the median over the standard deviation (ddof 1) of a reference column. */
function madOverSd(csv: string, column: string): number {
  const lines = csv.trim().split('\n');
  const idx = lines[0].split(',').indexOf(column);
  const xs = lines
    .slice(1)
    .map((l) => l.split(',')[idx])
    .filter((v) => v !== '' && v !== undefined)
    .map(Number)
    .filter((v) => Number.isFinite(v))
    .sort((a, b) => a - b);
  const n = xs.length;
  const median = n % 2 ? xs[(n - 1) / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  return xs.reduce((a, x) => a + Math.abs(x - median), 0) / n / sd;
}

// The verdict rule of docs/detector.md, judged independently from the exact values: drift when
// the change is beyond doubt (omnibus p-value below 1e-6) and its effect reaches the 0.1 floor
// (Wasserstein in the reference's typical deviations = normed Wasserstein x sd / MAD; total
// variation from the exact counts). A p-value between 1e-6 and 1e-2, or an effect within 25% of
// the floor, is borderline (the rule's own tests and noise-corrected effects may then decide
// either way).
function expectedDecision(e: ExpectedFeature & { reference_counts?: number[]; current_counts?: number[] }, referenceCsv: string, column: string): { drift: boolean; borderline: boolean } {
  let p: number;
  let effect: number;
  if (e.type === 'numeric') {
    p = e.ks.p_value;
    effect = e.wasserstein_normed / madOverSd(referenceCsv, column);
  } else {
    p = e.chi_square.p_value;
    const r = e.reference_counts!;
    const c = e.current_counts!;
    const m = r.reduce((a, b) => a + b, 0);
    const n = c.reduce((a, b) => a + b, 0);
    effect = r.reduce((a, x, i) => a + Math.abs(c[i] / n - x / m), 0) / 2;
  }
  const borderline = (p >= 1e-6 && p <= 1e-2) || Math.abs(effect - 0.1) <= 0.025;
  return { drift: p < 1e-6 && effect >= 0.1, borderline };
}

const cases = existsSync(fixtures) ? readdirSync(fixtures).sort() : [];

describe('compare on shared/fixtures/stats', () => {
  it('finds the fixtures', () => expect(cases.length).toBeGreaterThanOrEqual(11));

  for (const name of cases) {
    it(`${name} matches the exact values within the README tolerances`, async () => {
      const expected = JSON.parse(readFileSync(join(fixtures, name, 'expected.json'), 'utf8'));
      const referenceCsv = readFileSync(join(fixtures, name, 'reference.csv'), 'utf8');
      const { code, out, err } = await compare(join(fixtures, name, 'reference.csv'), join(fixtures, name, 'current.csv'));
      expect(err).toBe('');
      expect(code).toBe(0);
      const report = JSON.parse(out) as CompareReport;
      expect(Object.keys(report.features).sort()).toEqual(Object.keys(expected.features).sort());
      let decisive = true;
      let drifting = 0;
      for (const [f, e] of Object.entries<ExpectedFeature>(expected.features)) {
        const a = report.features[f];
        const where = `${name}/${f}`;
        expect(a.type, where).toBe(e.type);
        expect(a.nReference, where).toBe(e.n_reference);
        expect(a.nCurrent, where).toBe(e.n_current);
        expect(closeRel(a.psi, e.psi, 1e-6), `${where} psi ${a.psi} vs ${e.psi}`).toBe(true);
        expect(closeRel(a.jensenShannon, e.jensen_shannon, 1e-6), `${where} js ${a.jensenShannon} vs ${e.jensen_shannon}`).toBe(true);
        expect(closeRel(a.hellinger, e.hellinger, 1e-6), `${where} hellinger ${a.hellinger} vs ${e.hellinger}`).toBe(true);
        if (e.type === 'numeric') {
          expect(a.missing, where).toBe(e.missing_current);
          expect(Math.abs(a.ks!.statistic - e.ks.statistic), `${where} ks ${a.ks!.statistic} vs ${e.ks.statistic}`).toBeLessThanOrEqual(0.01);
          expect(a.ks!.errorBound, where).toBeGreaterThanOrEqual(0);
          expect(closeRel(a.wassersteinNormed!, e.wasserstein_normed, 0.05), `${where} W ${a.wassersteinNormed} vs ${e.wasserstein_normed}`).toBe(true);
          expect(a.chiSquare, where).toBeUndefined();
          expect(a.newCategories, where).toBeUndefined();
        } else {
          expect(closeRel(a.chiSquare!.statistic, e.chi_square.statistic, 1e-6), `${where} chi2`).toBe(true);
          expect(a.chiSquare!.dof, where).toBe(e.chi_square.dof);
          if (e.chi_square.p_value === 0) expect(a.chiSquare!.pValue, where).toBeLessThan(1e-300);
          else expect(closeRel(a.chiSquare!.pValue, e.chi_square.p_value, 1e-6), `${where} chi2 p`).toBe(true);
          expect(a.newCategories, where).toEqual(e.new_categories);
          expect(a.ks, where).toBeUndefined();
          expect(a.wassersteinNormed, where).toBeUndefined();
        }
        const d = expectedDecision(e, referenceCsv, f);
        expect(a.verdict, where).toBeDefined();
        expect(a.verdict!.verdict, where).toBe(a.drift ? 'drift' : a.verdict!.mde !== null && a.verdict!.mde <= 0.1 ? 'ok' : 'insufficient');
        if (!d.borderline) expect(a.drift, `${where} drift decision`).toBe(d.drift);
        decisive &&= !d.borderline;
        if (d.drift) drifting++;
      }
      const n = Object.keys(expected.features).length;
      if (decisive) {
        expect(report.dataset.driftShare).toBeCloseTo(drifting / n, 12);
        expect(report.dataset.drift).toBe(drifting / n >= 0.5);
      }
    });
  }
});

describe('compare formats', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftstream-compare-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function toNdjson(csv: string, path: string): Promise<void> {
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    const header = lines[0].split(',');
    const out = lines.slice(1).map((l) => {
      const cells = l.split(',');
      const rec: Record<string, unknown> = {};
      header.forEach((h, i) => {
        const c = cells[i];
        rec[h] = c === '' ? null : /^[-0-9.e+]+$/i.test(c) ? Number(c) : c;
      });
      return JSON.stringify(rec);
    });
    await writeFile(path, out.join('\n') + '\n');
  }

  it('NDJSON gives the same report as CSV', async () => {
    const c = join(fixtures, 'mixed_dataset');
    await toNdjson(join(c, 'reference.csv'), join(dir, 'ref.ndjson'));
    await toNdjson(join(c, 'current.csv'), join(dir, 'cur.jsonl'));
    const csv = await compare(join(c, 'reference.csv'), join(c, 'current.csv'));
    const nd = await compare(join(dir, 'ref.ndjson'), join(dir, 'cur.jsonl'));
    expect(nd.code).toBe(0);
    expect(JSON.parse(nd.out)).toEqual(JSON.parse(csv.out));
    // and mixed: NDJSON reference against a CSV current
    const mixed = await compare(join(dir, 'ref.ndjson'), join(c, 'current.csv'));
    expect(JSON.parse(mixed.out)).toEqual(JSON.parse(csv.out));
  });

  it('prints a table for people', async () => {
    const c = join(fixtures, 'mixed_dataset');
    const { code, out } = await compare(join(c, 'reference.csv'), join(c, 'current.csv'), 'table');
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^feature\s+type\s+n ref/);
    for (const f of ['age', 'income', 'score', 'tenure', 'region']) expect(out).toMatch(new RegExp(`^${f}\\s`, 'm'));
    expect(out).toMatch(/CRITICAL \(drift\)/);
    expect(lines[lines.length - 1]).toMatch(/^dataset drift: (YES|no) \(\d+ of 5 features, share \d\.\d\d\)$/);
  });
});
