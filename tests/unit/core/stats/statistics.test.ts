import { mulberry32 } from '../../../../src/core/random.js';
import { describe, expect, it } from 'vitest';
import { psi } from '../../../../src/core/stats/psi.js';
import { jensenShannon } from '../../../../src/core/stats/jensen-shannon.js';
import { hellinger } from '../../../../src/core/stats/hellinger.js';
import { chiSquare, chiSquareSurvival } from '../../../../src/core/stats/chi-square.js';
import { ks, kolmogorovSurvival, ksPValue } from '../../../../src/core/stats/ks.js';
import { wasserstein1, wassersteinNormed } from '../../../../src/core/stats/wasserstein-normed.js';
import { numpyQuantile, quantileEdges } from '../../../../src/core/stats/quantile-edges.js';
import { datasetDrift } from '../../../../src/core/stats/dataset-drift.js';
import { binIndex } from '../../../../src/core/stats/bin-index.js';
import { MergingDigest } from '../../../../src/core/stats/merging-digest.js';
import { sortFloat64, sortShort } from '../../../../src/core/stats/sort-float64.js';
import { GENERATORS, rng } from './generators.js';

// Reference values below were computed with scipy 1.17 / numpy 2.4.

function digest(xs: ArrayLike<number>): MergingDigest {
  const d = new MergingDigest();
  for (let i = 0; i < xs.length; i++) d.accept(xs[i]);
  return d;
}

function randomCounts(k: number, seed: number, zeros = false): number[] {
  const u = rng(seed);
  return Array.from({ length: k }, () => (zeros && u() < 0.2 ? 0 : Math.floor(u() * 1000)));
}

describe('bin statistics', () => {
  it('are zero on identical inputs and on proportional inputs', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const c = randomCounts(2 + (seed % 9), seed, true);
      if (c.every((x) => x === 0)) continue;
      const scaled = c.map((x) => 3 * x);
      expect(psi(c, c)).toBe(0);
      expect(psi(c, scaled)).toBeCloseTo(0, 12);
      expect(jensenShannon(c, scaled)).toBeCloseTo(0, 6);
      expect(hellinger(c, scaled)).toBeCloseTo(0, 6);
      expect(chiSquare(c, scaled).statistic).toBeCloseTo(0, 9);
    }
  });

  it('JS and Hellinger are symmetric, PSI and chi-square too', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const a = randomCounts(10, seed, true);
      const b = randomCounts(10, seed + 100, true);
      expect(jensenShannon(a, b)).toBeCloseTo(jensenShannon(b, a), 14);
      expect(hellinger(a, b)).toBeCloseTo(hellinger(b, a), 14);
      expect(psi(a, b)).toBeCloseTo(psi(b, a), 12);
      expect(chiSquare(a, b).statistic).toBeCloseTo(chiSquare(b, a).statistic, 9);
    }
  });

  it('match scipy on a known case', () => {
    expect(jensenShannon([10, 20, 30, 0], [15, 15, 40, 5])).toBeCloseTo(0.18042942448299468, 12);
    const chi = chiSquare([10, 20, 30], [15, 15, 40]);
    expect(chi.statistic).toBeCloseTo(2.3877551020408165, 12);
    expect(chi.pValue).toBeCloseTo(0.30304391468510006, 12);
    expect(chi.dof).toBe(2);
  });

  it('PSI replaces empty bins by 1e-4 without renormalising', () => {
    const expected = (0.5 - 0.5) * Math.log(1) + (0.5 - 0.25) * Math.log(0.5 / 0.25) + (1e-4 - 0.25) * Math.log(1e-4 / 0.25);
    expect(psi([2, 1, 1], [2, 2, 0])).toBeCloseTo(expected, 14);
  });

  it('stay within their ranges', () => {
    expect(jensenShannon([1, 0], [0, 1])).toBeCloseTo(Math.sqrt(Math.LN2), 12);
    expect(hellinger([1, 0], [0, 1])).toBeCloseTo(1, 12);
  });

  it('return NaN on an empty side and reject mismatched bins', () => {
    expect(Number.isNaN(psi([0, 0], [1, 2]))).toBe(true);
    expect(Number.isNaN(jensenShannon([1, 2], [0, 0]))).toBe(true);
    expect(Number.isNaN(hellinger([0, 0], [0, 0]))).toBe(true);
    expect(() => psi([1], [1, 2])).toThrow(RangeError);
  });

  it('chi-square drops categories empty on both sides and handles degenerate tables', () => {
    expect(chiSquare([10, 0, 30], [15, 0, 40]).dof).toBe(1);
    expect(chiSquare([10], [20])).toEqual({ statistic: 0, pValue: 1, dof: 0 });
    expect(chiSquare([0, 0], [1, 2]).pValue).toBe(1);
  });

  it('chi-square survival matches scipy far into the tail', () => {
    expect(chiSquareSurvival(300, 4) / 1.083439491947837e-63).toBeCloseTo(1, 9);
    expect(chiSquareSurvival(3.2, 1)).toBeCloseTo(0.07363827012030258, 12);
    expect(chiSquareSurvival(0.5, 7)).toBeCloseTo(0.9994464813904249, 12);
  });
});

describe('KS', () => {
  it('Kolmogorov survival matches scipy.special.kolmogorov', () => {
    const cases: [number, number][] = [
      [0.3, 0.9999906941986655],
      [0.5, 0.9639452436648751],
      [1.0, 0.26999967167735456],
      [1.5, 0.022217962616525127],
      [2.0, 0.0006709252557796953],
      [3.0, 3.045995948942526e-8],
    ];
    for (const [x, p] of cases) expect(kolmogorovSurvival(x) / p).toBeCloseTo(1, 9);
    expect(kolmogorovSurvival(0)).toBe(1);
  });

  it('D is exact for exact digests and the p-value is asymptotic', () => {
    const a = [0.1, 0.4, 0.4, 1.2, 3.3, 5.0, 7.5];
    const b = [0.2, 0.4, 2.2, 2.9, 6.1];
    const r = ks(digest(a), digest(b));
    expect(r.statistic).toBeCloseTo(0.22857142857142865, 14);
    expect(r.errorBound).toBe(0);
    expect(r.pValue).toBe(ksPValue(r.statistic, 7, 5));
    expect(r.pValue).toBeGreaterThan(0.9);
  });

  it('is zero on identical inputs, symmetric, and bounded by the sketch error', () => {
    for (const [name, gen] of Object.entries(GENERATORS)) {
      const x = gen(50_000, 3);
      const y = gen(20_000, 4);
      const self = ks(digest(x), digest(x));
      expect(self.statistic, name).toBe(0);
      expect(self.pValue, name).toBe(1);
      const ab = ks(digest(x), digest(y));
      const ba = ks(digest(y), digest(x));
      expect(ab.statistic, name).toBeCloseTo(ba.statistic, 12);
      expect(ab.statistic, name).toBeLessThan(0.03 + ab.errorBound);
    }
  });

  it('NaN when a side is empty', () => {
    expect(Number.isNaN(ks(digest([]), digest([1, 2])).statistic)).toBe(true);
  });
});

describe('Wasserstein', () => {
  it('matches scipy.stats.wasserstein_distance on exact digests', () => {
    const a = [0.1, 0.4, 0.4, 1.2, 3.3, 5.0, 7.5];
    const b = [0.2, 0.4, 2.2, 2.9, 6.1];
    expect(wasserstein1(digest(a), digest(b))).toBeCloseTo(0.74, 12);
    expect(wassersteinNormed(digest(a), digest(b), 2.8324648528899954)).toBeCloseTo(0.74 / 2.8324648528899954, 12);
  });

  it('equals a pure shift', () => {
    const x = GENERATORS.normal(100_000, 9);
    const y = x.map((v) => v + 0.5);
    expect(wasserstein1(digest(x), digest(y))).toBeCloseTo(0.5, 3);
  });

  it('is zero on identical inputs and symmetric', () => {
    const x = GENERATORS.lognormal(30_000, 1);
    const y = GENERATORS.lognormal(30_000, 2);
    expect(wasserstein1(digest(x), digest(x))).toBe(0);
    expect(wasserstein1(digest(x), digest(y))).toBeCloseTo(wasserstein1(digest(y), digest(x)), 10);
    expect(wassersteinNormed(digest([1, 1]), digest([1, 1]), 0)).toBe(0);
    expect(Number.isNaN(wassersteinNormed(digest([1, 1]), digest([2]), 0))).toBe(true);
  });
});

describe('quantile edges and bins', () => {
  it('numpyQuantile matches numpy linear interpolation', () => {
    const s = Float64Array.from([1, 2, 4, 8, 16]);
    expect(numpyQuantile(s, 0)).toBe(1);
    expect(numpyQuantile(s, 1)).toBe(16);
    expect(numpyQuantile(s, 0.5)).toBe(4);
    expect(numpyQuantile(s, 0.1)).toBeCloseTo(1.4, 14);
    expect(numpyQuantile(s, 0.9)).toBeCloseTo(12.8, 14);
  });

  it('edges are k/10 quantiles with duplicates removed', () => {
    const s = Float64Array.from([0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 3]);
    const edges = quantileEdges(s, 10);
    expect(edges).toEqual([...new Set(edges)]);
    for (let i = 1; i < edges.length; i++) expect(edges[i]).toBeGreaterThan(edges[i - 1]);
    expect(quantileEdges(new Float64Array(0))).toEqual([]);
    expect(quantileEdges(Float64Array.from([5, 5, 5]))).toEqual([5]);
  });

  it('bin i covers [e(i-1), e(i)) with open outer bins', () => {
    const edges = [1, 2, 3];
    expect(binIndex(edges, 0.5)).toBe(0);
    expect(binIndex(edges, 1)).toBe(1);
    expect(binIndex(edges, 1.999)).toBe(1);
    expect(binIndex(edges, 3)).toBe(3);
    expect(binIndex(edges, 1e9)).toBe(3);
    expect(binIndex([], 7)).toBe(0);
  });

  it('counts the edges at or below x, for short edge lists (scanned) and long ones (searched) alike', () => {
    const r = mulberry32(5);
    for (const n of [1, 2, 9, 16, 17, 40, 200]) {
      const edges = Float64Array.from({ length: n }, (_, i) => i * 2 - n);
      for (let k = 0; k < 500; k++) {
        const x = r() < 0.3 ? edges[Math.floor(r() * n)] : (r() - 0.5) * 3 * n;
        expect(binIndex(edges, x)).toBe(edges.filter((e) => e <= x).length);
      }
      expect(binIndex(edges, NaN)).toBe(0);
      expect(binIndex(edges, -Infinity)).toBe(0);
      expect(binIndex(edges, Infinity)).toBe(n);
    }
  });
});

describe('dataset drift', () => {
  it('is the share of drifting features against the threshold', () => {
    expect(datasetDrift([true, false, true, false])).toEqual({ driftShare: 0.5, drift: true });
    expect(datasetDrift([true, false, false])).toEqual({ driftShare: 1 / 3, drift: false });
    expect(datasetDrift([true, false, false], 0.3).drift).toBe(true);
    expect(datasetDrift([])).toEqual({ driftShare: 0, drift: false });
    expect(datasetDrift([false], 0)).toEqual({ driftShare: 0, drift: false });
  });
});

describe('sortFloat64', () => {
  it('equals the built-in sort on mixed signs, ties, zeros and extreme magnitudes', () => {
    const u = rng(11);
    for (const n of [0, 1, 100, 4096, 50_000]) {
      const xs = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const r = u();
        xs[i] =
          r < 0.1 ? Math.round(u() * 10) - 5
          : r < 0.15 ? (u() < 0.5 ? 0 : -0)
          : r < 0.2 ? (u() - 0.5) * 1e300
          : r < 0.25 ? (u() - 0.5) * 1e-300
          : (u() - 0.5) * 100;
      }
      const expected = xs.slice().sort();
      const actual = sortFloat64(xs);
      expect(actual).toHaveLength(n);
      for (let i = 0; i < n; i++) expect(Object.is(actual[i], expected[i]) || actual[i] === expected[i]).toBe(true);
      if (n > 0) expect(xs).not.toBe(actual);
    }
  });
});

describe('sortShort', () => {
  /** Buffers as a digest gets them: one distribution each, sometimes with outliers, ties or signed zeros. */
  const SHAPES: ((u: () => number) => number)[] = [
    (u) => (u() - 0.5) * 100,
    (u) => Math.exp((u() - 0.5) * 12),
    (u) => Math.round(u() * 6),
    (u) => (u() < 0.5 ? 0 : -0),
    (u) => (u() < 0.6 ? (u() < 0.5 ? 0 : -0) : u() - 0.5),
    (u) => (u() < 0.02 ? (u() - 0.5) * 1e300 : u()),
    (u) => (u() < 0.01 ? 1e9 : u() * 1e-300),
    (u) => 1 / Math.max(u(), 1e-9) ** 2,
    () => 7,
    (u) => 1e308 * (u() < 0.5 ? 1 : -1),
  ];

  it('orders every buffer exactly as the built-in sort does, -0 before +0 included', () => {
    const u = rng(12);
    for (let k = 0; k < 3000; k++) {
      const n = k < 600 ? k : Math.floor(u() * 1100);
      const shape = SHAPES[k % SHAPES.length];
      const a = Float64Array.from({ length: n }, () => shape(u));
      const expected = a.slice().sort();
      sortShort(a);
      for (let i = 0; i < n; i++) if (!Object.is(a[i], expected[i])) expect.fail(`shape ${k % SHAPES.length}, n ${n}: at ${i} ${a[i]} != ${expected[i]}`);
    }
  });

  it('sorts a subarray in place, leaving the rest of the buffer alone', () => {
    const buf = Float64Array.from({ length: 100 }, (_, i) => 100 - i);
    sortShort(buf.subarray(10, 90));
    expect([...buf.subarray(0, 10)]).toEqual([100, 99, 98, 97, 96, 95, 94, 93, 92, 91]);
    expect([...buf.subarray(10, 90)]).toEqual(Array.from({ length: 80 }, (_, i) => 11 + i));
    expect([...buf.subarray(90)]).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
  });
});
