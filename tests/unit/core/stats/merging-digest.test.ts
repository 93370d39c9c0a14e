import { describe, expect, it } from 'vitest';
import { MergingDigest, evalKnotsLeft, evalKnotsRight, type DigestJSON } from '../../../../src/core/stats/merging-digest.js';
import { numpyQuantile } from '../../../../src/core/stats/quantile-edges.js';
import { GENERATORS, SIZES, exactCdf, exactCdfBelow, sortedCopy } from './generators.js';
import { ks, ksJudged } from '../../../../src/core/stats/ks.js';
import { mulberry32 } from '../../../../src/core/random.js';

// CDF error tolerance for a compressed digest (compression 300); exact mode must be exact.
const CDF_TOLERANCE = 0.01;

function digestOf(xs: Float64Array, from = 0, to = xs.length): MergingDigest {
  const d = new MergingDigest();
  for (let i = from; i < to; i++) d.accept(xs[i]);
  return d;
}

function maxCdfError(d: MergingDigest, sorted: Float64Array): number {
  let worst = 0;
  const step = Math.max(1, Math.floor(sorted.length / 500));
  for (let i = 0; i < sorted.length; i += step) {
    worst = Math.max(worst, Math.abs(d.cdf(sorted[i]) - exactCdf(sorted, sorted[i])));
  }
  return worst;
}

describe('MergingDigest', () => {
  for (const [name, gen] of Object.entries(GENERATORS)) {
    for (const n of SIZES) {
      describe(`${name} x ${n}`, () => {
        const xs = gen(n, 7 + n);
        const sorted = sortedCopy(xs);

        it('tracks the exact CDF within tolerance, and exactly in exact mode', () => {
          const d = digestOf(xs);
          expect(d.count).toBe(n);
          expect(d.min).toBe(sorted[0]);
          expect(d.max).toBe(sorted[n - 1]);
          const err = maxCdfError(d, sorted);
          if (d.isExact) expect(err).toBe(0);
          else expect(err).toBeLessThan(CDF_TOLERANCE);
          expect(err).toBeLessThanOrEqual(d.rankErrorBound() + 1e-12);
        });

        it('quantiles: numpy-exact in exact mode, within rank tolerance otherwise', () => {
          const d = digestOf(xs);
          for (const q of [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1]) {
            const v = d.quantile(q);
            if (d.isExact) expect(v).toBe(numpyQuantile(sorted, q));
            else expect(Math.abs(exactCdf(sorted, v) - q)).toBeLessThan(CDF_TOLERANCE + 1 / n);
          }
        });

        it('merge of two halves equals the whole', () => {
          const whole = digestOf(xs);
          const half = Math.floor(n / 2);
          const merged = digestOf(xs, 0, half).merge(digestOf(xs, half));
          expect(merged.count).toBe(n);
          expect(merged.min).toBe(whole.min);
          expect(merged.max).toBe(whole.max);
          expect(merged.isExact).toBe(whole.isExact);
          if (whole.isExact) expect(merged.centroids()).toEqual(whole.centroids());
          else expect(maxCdfError(merged, sorted)).toBeLessThan(CDF_TOLERANCE);
        });

        it('merge of many small parts stays within tolerance', () => {
          const parts = 20;
          const size = Math.ceil(n / parts);
          const merged = new MergingDigest();
          for (let p = 0; p < parts; p++) merged.merge(digestOf(xs, p * size, Math.min(n, (p + 1) * size)));
          expect(merged.count).toBe(n);
          const err = maxCdfError(merged, sorted);
          expect(err).toBeLessThan(merged.isExact ? 1e-12 : CDF_TOLERANCE);
        });

        it('round-trips through JSON', () => {
          const d = digestOf(xs);
          const back = MergingDigest.fromJSON(JSON.parse(JSON.stringify(d)));
          expect(JSON.stringify(back)).toBe(JSON.stringify(d));
          for (const q of [0.1, 0.5, 0.9]) expect(back.quantile(q)).toBe(d.quantile(q));
        });

        it('acceptSorted matches accepting one by one', () => {
          const a = new MergingDigest();
          a.acceptSorted(sorted);
          expect(a.count).toBe(n);
          expect(maxCdfError(a, sorted)).toBeLessThan(a.isExact ? 1e-12 : CDF_TOLERANCE);
        });
      });
    }
  }

  it('stays exact up to exactLimit distinct values and compresses past it', () => {
    const d = new MergingDigest({ compression: 50, exactLimit: 100 });
    for (let i = 0; i < 1000; i++) d.accept(i % 100);
    expect(d.isExact).toBe(true);
    expect(d.centroidCount).toBe(100);
    d.accept(1000.5);
    expect(d.isExact).toBe(false);
    expect(d.centroidCount).toBeLessThan(60);
  });

  it('cdf is right-continuous and cdfBelow is its left limit on ties', () => {
    const d = new MergingDigest();
    for (const x of [1, 2, 2, 2, 3]) d.accept(x);
    expect(d.cdf(2)).toBeCloseTo(0.8, 12);
    expect(d.cdfBelow(2)).toBeCloseTo(0.2, 12);
    expect(d.cdf(1.5)).toBeCloseTo(0.2, 12);
    expect(d.cdf(0)).toBe(0);
    expect(d.cdf(3)).toBe(1);
  });

  it('is empty-safe', () => {
    const d = new MergingDigest();
    expect(d.count).toBe(0);
    expect(Number.isNaN(d.quantile(0.5))).toBe(true);
    expect(Number.isNaN(d.cdf(0))).toBe(true);
    expect(MergingDigest.fromJSON(d.toJSON()).count).toBe(0);
  });

  it('rejects malformed JSON', () => {
    expect(() => MergingDigest.fromJSON({ c: 100, x: 10, e: true, n: 1, min: 0, max: 0, m: [1, 0], w: [1, 1] })).toThrow(TypeError);
    expect(() => MergingDigest.fromJSON({ c: 100, x: 10, e: true, n: 1, min: 0, max: 0, m: [1], w: [] })).toThrow(TypeError);
  });
});

describe('MergingDigest compact representation', () => {
  const probes = [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99];
  const state = (d: MergingDigest) => ({ json: d.toJSON(), q: probes.map((q) => d.quantile(q)), cdf: probes.map((q) => d.cdf(d.quantile(q))), bound: d.rankErrorBound() });

  for (const [name, gen] of Object.entries(GENERATORS)) {
    for (const n of [7, 300, 5_000]) {
      it(`${name} x ${n}: trimming (weights in single precision, buffer released) changes no answer, nor what it merges into`, () => {
        const values = gen(n, 11);
        const a = new MergingDigest();
        const b = new MergingDigest();
        for (const x of values) {
          a.accept(x);
          b.accept(x);
        }
        const before = state(a);
        a.trim();
        expect(state(a)).toEqual(before);
        const into = (d: MergingDigest) => digestOf(gen(50, 12)).merge(d);
        expect(state(into(a))).toEqual(state(into(b)));
        expect(state(MergingDigest.fromJSON(a.toCompactJSON()))).toEqual(before);
        expect(state(MergingDigest.fromJSON(JSON.parse(JSON.stringify(a.toCompactJSON())) as DigestJSON))).toEqual(JSON.parse(JSON.stringify(before)));
      });
    }
  }

  it('leaves the weights out of the compact form while every weight is 1, and keeps them otherwise', () => {
    const distinct = new MergingDigest();
    for (let i = 0; i < 100; i++) distinct.accept(i / 7);
    expect(distinct.toCompactJSON().w).toBeUndefined();
    expect(distinct.toJSON().w).toEqual(new Array(100).fill(1));
    const ties = new MergingDigest();
    for (let i = 0; i < 100; i++) ties.accept(i % 10);
    expect(ties.toCompactJSON().w).toEqual(new Array(10).fill(10));
  });

  it('refuses compact means that are not whole doubles', () => {
    expect(() => MergingDigest.fromJSON({ c: 300, x: 300, e: true, n: 1, min: 0, max: 0, m: 'AAAA' })).toThrow(TypeError);
  });
});

describe('point masses at the ends of a digest and the judged KS statistic', () => {
  // 60% zeros, the rest exponential: the zeros fill one centroid, whose share is the global bound.
  function zeroInflated(n: number, seed: number, shift = 0): Float64Array {
    const u = mulberry32(seed);
    return Float64Array.from({ length: n }, () => (u() < 0.6 ? 0 : -Math.log(u() || 1e-12) * 3) + shift);
  }
  const ref = zeroInflated(10_000, 1);
  const refDigest = digestOf(ref);

  it('reads the centroid at the minimum as a point mass: its CDF within the interior bound of the exact one', () => {
    expect(refDigest.isExact).toBe(false);
    expect(refDigest.rankErrorBound()).toBeGreaterThan(0.5);
    expect(refDigest.interiorRankErrorBound()).toBeLessThan(0.02);
    const sorted = sortedCopy(ref);
    const knots = refDigest.endMassKnots();
    for (let i = 0; i < sorted.length; i += 25) {
      const x = sorted[i];
      expect(Math.abs(evalKnotsRight(knots, x) / knots.total - exactCdf(sorted, x))).toBeLessThanOrEqual(refDigest.interiorRankErrorBound() + 1e-12);
      expect(Math.abs(evalKnotsLeft(knots, x) / knots.total - exactCdfBelow(sorted, x))).toBeLessThanOrEqual(refDigest.interiorRankErrorBound() + 1e-12);
    }
    // The plain knots spread the zeros half below and half above 0 (DESIGN.md's KS is unchanged).
    expect(refDigest.cdf(0)).toBeLessThan(0.35);
  });

  it('judged KS: at most the exact samples D, and sees the zeros move where D minus the global bound cannot', () => {
    for (const [shift, seed] of [
      [0, 2],
      [0, 4],
      [0.6, 3],
    ] as const) {
      const cur = zeroInflated(1000, seed, shift);
      const curDigest = digestOf(cur);
      const exactD = exactKs(sortedCopy(ref), sortedCopy(cur));
      const plain = ks(refDigest, curDigest);
      const judged = ksJudged(refDigest, curDigest, plain);
      expect(judged).toBeLessThanOrEqual(exactD + 1e-12);
      expect(plain.statistic - plain.errorBound).toBeLessThanOrEqual(0);
      if (shift > 0) expect(judged).toBeGreaterThan(0.55);
      else expect(judged).toBeLessThan(0.05);
    }
  });

  it('judged KS never exceeds the exact D on the usual shapes (both digests compressed)', () => {
    for (const [name, gen] of Object.entries(GENERATORS)) {
      const a = gen(10_000, 31);
      const b = gen(2000, 32);
      const plain = ks(digestOf(a), digestOf(b));
      expect(ksJudged(digestOf(a), digestOf(b), plain), name).toBeLessThanOrEqual(exactKs(sortedCopy(a), sortedCopy(b)) + 1e-12);
    }
  });
});

function exactKs(a: Float64Array, b: Float64Array): number {
  let d = 0;
  for (const x of [...a, ...b]) {
    d = Math.max(d, Math.abs(exactCdf(a, x) - exactCdf(b, x)), Math.abs(exactCdfBelow(a, x) - exactCdfBelow(b, x)));
  }
  return d;
}
