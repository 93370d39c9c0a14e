import { mulberry32 } from '../../../../src/core/random.js';
import { binIndex } from '../../../../src/core/stats/bin-index.js';
// Seeded sample generators shared by the statistics tests.
export const rng = mulberry32;

export type Generator = (n: number, seed: number) => Float64Array;

function fill(n: number, seed: number, f: (u: () => number) => number): Float64Array {
  const u = rng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = f(u);
  return out;
}

const normal = (u: () => number): number => Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());

export const GENERATORS: Record<string, Generator> = {
  normal: (n, s) => fill(n, s, normal),
  uniform: (n, s) => fill(n, s, (u) => u() * 10 - 5),
  lognormal: (n, s) => fill(n, s, (u) => Math.exp(1.5 * normal(u))),
  bimodal: (n, s) => fill(n, s, (u) => (u() < 0.3 ? -4 : 3) + normal(u)),
  discrete: (n, s) => fill(n, s, (u) => Math.floor(8 * u() * u())),
  manyTies: (n, s) => fill(n, s, (u) => Math.round(normal(u) * 100) / 4),
};

export const SIZES = [10, 1_000, 100_000];

export function sortedCopy(xs: Float64Array): Float64Array {
  return xs.slice().sort();
}

/** Exact empirical CDF P(X <= x) of an ascending sample. */
export function exactCdf(sorted: Float64Array, x: number): number {
  return binIndex(sorted, x) / sorted.length;
}

/** Exact P(X < x) of an ascending sample. */
export function exactCdfBelow(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo / sorted.length;
}
