import { TDigest } from 'tdigest';
import { binIndex } from '../src/core/stats/bin-index.js';
import { NumericSummary } from '../src/core/stats/numeric-summary.js';
import { MergingDigest } from '../src/core/stats/merging-digest.js';
import { CategoricalSummary } from '../src/core/stats/categorical-summary.js';
import { ReferenceProfileBuilder, createSummary, type ColumnType } from '../src/core/profile/reference-profile.js';
import { evaluateFeature } from '../src/core/drift/severity.js';
import { mulberry32, normalGenerator } from './random.js';

export interface BenchLine {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

/**
 * Seconds of CPU time `fn` takes. CPU time rather than wall time because the
 * work is single-threaded and shared machines make wall time noisy.
 */
function timeIt(fn: () => void): number {
  const t0 = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1e6;
}

function normals(n: number, seed: number): Float64Array {
  const g = normalGenerator(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = g();
  return out;
}

const EDGES = [-1.2816, -0.8416, -0.5244, -0.2533, 0, 0.2533, 0.5244, 0.8416, 1.2816];

/** Numeric updates per second: histogram + digest + moments, one summary, one core. */
export function benchNumeric(n = 5_000_000): BenchLine[] {
  const xs = normals(n, 1);
  const warm = new NumericSummary(EDGES);
  for (let i = 0; i < 200_000; i++) warm.accept(xs[i]);
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const s = new NumericSummary(EDGES);
    best = Math.min(best, timeIt(() => {
      for (let i = 0; i < n; i++) s.accept(xs[i]);
      s.digest.flush();
    }));
  }
  const digestOnly = (() => {
    let b = Infinity;
    for (let r = 0; r < 5; r++) {
      const d = new MergingDigest();
      b = Math.min(b, timeIt(() => {
        for (let i = 0; i < n; i++) d.accept(xs[i]);
        d.flush();
      }));
    }
    return n / b;
  })();
  // The tdigest package inserts into a red-black tree per value; a smaller run is enough to see its rate.
  const m = 300_000;
  const td = new TDigest(0.01, 25, 1.1);
  const tdSecs = timeIt(() => {
    for (let i = 0; i < m; i++) td.push(xs[i]);
    td.compress();
  });
  // Accuracy on the same 300,000 values: worst CDF error at the 1..99th percentiles.
  const sorted = xs.slice(0, m).sort();
  const md = new MergingDigest();
  for (let i = 0; i < m; i++) md.accept(xs[i]);
  let mdErr = 0;
  let tdErr = 0;
  for (let k = 1; k < 100; k++) {
    const x = sorted[Math.floor((k / 100) * m)];
    const exact = binIndex(sorted, x) / m;
    mdErr = Math.max(mdErr, Math.abs(md.cdf(x) - exact));
    tdErr = Math.max(tdErr, Math.abs(td.p_rank(x) - exact));
  }
  return [
    { name: 'numeric updates (histogram + merging digest + moments)', value: n / best, unit: 'updates/s' },
    { name: 'merging digest alone', value: digestOnly, unit: 'updates/s' },
    { name: 'tdigest package alone (delta 0.01)', value: m / tdSecs, unit: 'updates/s' },
    { name: 'merging digest worst CDF error, 300k normal values', value: mdErr, unit: '' , note: `${md.centroidCount} centroids` },
    { name: 'tdigest package worst CDF error, same values', value: tdErr, unit: '', note: `${td.size()} centroids` },
  ];
}

/** Categorical updates per second over 50 categories with a skewed mix. */
export function benchCategorical(n = 5_000_000): BenchLine[] {
  const u = mulberry32(2);
  const names = Array.from({ length: 50 }, (_, i) => `category-${i}`);
  const values = Array.from({ length: n }, () => names[Math.floor(50 * u() * u())]);
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const s = new CategoricalSummary();
    best = Math.min(best, timeIt(() => {
      for (let i = 0; i < n; i++) s.accept(values[i]);
    }));
  }
  return [{ name: 'categorical updates', value: n / best, unit: 'updates/s' }];
}

/** Time to evaluate one window of 20 numeric + 5 categorical features against a reference. */
export function benchWindowEvaluation(): BenchLine[] {
  const columns: Record<string, ColumnType> = {};
  for (let i = 0; i < 20; i++) columns[`n${i}`] = 'numeric';
  for (let i = 0; i < 5; i++) columns[`c${i}`] = 'categorical';
  const g = normalGenerator(3);
  const u = mulberry32(4);
  const builder = new ReferenceProfileBuilder(columns);
  for (let r = 0; r < 20_000; r++) {
    const rec: Record<string, unknown> = {};
    for (let i = 0; i < 20; i++) rec[`n${i}`] = g() * (i + 1);
    for (let i = 0; i < 5; i++) rec[`c${i}`] = `v${Math.floor(20 * u())}`;
    builder.accept(rec);
  }
  const profile = builder.build({ createdAt: 0, id: 'bench' });
  const summaries = Object.fromEntries(Object.entries(profile.features).map(([k, f]) => [k, createSummary(f)]));
  for (let r = 0; r < 5_000; r++) {
    for (let i = 0; i < 20; i++) (summaries[`n${i}`] as NumericSummary).accept(g() * (i + 1) + 0.1);
    for (let i = 0; i < 5; i++) (summaries[`c${i}`] as CategoricalSummary).accept(`v${Math.floor(21 * u())}`);
  }
  const evaluateAll = (): void => {
    for (const [k, f] of Object.entries(profile.features)) evaluateFeature(f, summaries[k]);
  };
  const cold = timeIt(evaluateAll);
  const runs: number[] = [];
  for (let r = 0; r < 200; r++) runs.push(timeIt(evaluateAll));
  runs.sort((a, b) => a - b);
  return [
    { name: '25-feature window evaluation (first, deserializes reference digests)', value: cold * 1000, unit: 'ms' },
    { name: '25-feature window evaluation (median of 200)', value: runs[100] * 1000, unit: 'ms' },
    { name: '25-feature window evaluation (p99 of 200)', value: runs[198] * 1000, unit: 'ms' },
  ];
}
