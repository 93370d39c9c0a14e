import { describe, expect, it } from 'vitest';
import { NumericSummary } from '../../../../src/core/stats/numeric-summary.js';
import { CategoricalSummary, OTHER_CATEGORY } from '../../../../src/core/stats/categorical-summary.js';
import { binIndex } from '../../../../src/core/stats/bin-index.js';
import { GENERATORS, SIZES, exactCdf, exactCdfBelow, rng, sortedCopy } from './generators.js';

const EDGES = [-1, -0.5, 0, 0.5, 1, 2, 4];

function summaryOf(xs: ArrayLike<number | null>, from = 0, to = xs.length): NumericSummary {
  const s = new NumericSummary(EDGES);
  for (let i = from; i < to; i++) s.accept(xs[i]);
  return s;
}

function withMissing(xs: Float64Array, seed: number): (number | null)[] {
  const u = rng(seed);
  return Array.from(xs, (x) => (u() < 0.05 ? null : u() < 0.01 ? NaN : x));
}

describe('NumericSummary', () => {
  for (const [name, gen] of Object.entries(GENERATORS)) {
    for (const n of SIZES) {
      it(`${name} x ${n}: moments, bins, missing; merge equals whole; JSON round-trip`, () => {
        const values = withMissing(gen(n, n + 1), n);
        const present = Float64Array.from(values.filter((v): v is number => v !== null && Number.isFinite(v)));
        const whole = summaryOf(values);
        expect(whole.count).toBe(present.length);
        expect(whole.missing).toBe(values.length - present.length);
        const mean = present.reduce((a, b) => a + b, 0) / present.length;
        const variance = present.reduce((a, b) => a + (b - mean) ** 2, 0) / (present.length - 1);
        expect(whole.mean).toBeCloseTo(mean, 8);
        if (present.length > 1) expect(whole.variance / variance).toBeCloseTo(1, 8);
        const counts = new Array(EDGES.length + 1).fill(0);
        for (const x of present) counts[binIndex(EDGES, x)]++;
        expect(Array.from(whole.counts)).toEqual(counts);

        const half = Math.floor(n / 3);
        const merged = summaryOf(values, 0, half).merge(summaryOf(values, half));
        expect(merged.count).toBe(whole.count);
        expect(merged.missing).toBe(whole.missing);
        expect(Array.from(merged.counts)).toEqual(counts);
        expect(merged.min).toBe(whole.min);
        expect(merged.max).toBe(whole.max);
        expect(merged.mean).toBeCloseTo(whole.mean, 9);
        if (present.length > 1) expect(merged.variance / whole.variance).toBeCloseTo(1, 9);
        const sorted = sortedCopy(present);
        const tol = 0.01 + 1 / present.length;
        for (const q of [0.05, 0.5, 0.95]) {
          const v = merged.quantile(q);
          // q must fall within the jump of the exact CDF at v (discrete data jumps).
          expect(exactCdfBelow(sorted, v) - tol).toBeLessThanOrEqual(q);
          expect(exactCdf(sorted, v) + tol).toBeGreaterThanOrEqual(q);
        }

        const back = NumericSummary.fromJSON(JSON.parse(JSON.stringify(whole)));
        // Compared as text: JSON has no -0, so a -0 mean comes back as 0.
        expect(JSON.stringify(back)).toBe(JSON.stringify(whole));
        expect(back.quantile(0.5)).toBe(whole.quantile(0.5));
      });
    }
  }

  it('acceptSorted gives the state of accepting one by one', () => {
    const xs = GENERATORS.normal(50_000, 5);
    const a = summaryOf(xs);
    const b = new NumericSummary(EDGES);
    b.acceptSorted(sortedCopy(xs));
    expect(Array.from(b.counts)).toEqual(Array.from(a.counts));
    expect(b.count).toBe(a.count);
    expect(b.mean).toBeCloseTo(a.mean, 10);
    expect(b.variance / a.variance).toBeCloseTo(1, 10);
    expect(b.min).toBe(a.min);
    expect(b.max).toBe(a.max);
    expect(Math.abs(b.quantile(0.3) - a.quantile(0.3))).toBeLessThan(0.01);
  });

  it('counts non-finite values as missing', () => {
    const s = new NumericSummary([0]);
    for (const x of [1, null, undefined, NaN, Infinity, -Infinity, -1]) s.accept(x);
    expect(s.count).toBe(2);
    expect(s.missing).toBe(5);
    expect(s.missingRate).toBeCloseTo(5 / 7, 12);
    expect(Array.from(s.counts)).toEqual([1, 1]);
  });

  it('refuses to merge different edges and unsorted edges', () => {
    expect(() => new NumericSummary([0, 1]).merge(new NumericSummary([0, 2]))).toThrow(RangeError);
    expect(() => new NumericSummary([1, 0])).toThrow(RangeError);
  });

  it('empty summaries merge and serialize', () => {
    const a = new NumericSummary(EDGES);
    a.merge(new NumericSummary(EDGES));
    expect(a.count).toBe(0);
    const back = NumericSummary.fromJSON(a.toJSON());
    expect(back.count).toBe(0);
    expect(Number.isNaN(back.variance)).toBe(true);
  });
});

describe('CategoricalSummary', () => {
  const categories = ['a', 'b', 'c', 'd', 'e', 'f'];
  function sample(n: number, seed: number): (string | null)[] {
    const u = rng(seed);
    return Array.from({ length: n }, () => (u() < 0.03 ? null : categories[Math.floor(6 * u() * u())]));
  }
  function summaryOf(xs: (string | null)[], topK?: number): CategoricalSummary {
    const s = new CategoricalSummary({ topK });
    for (const x of xs) s.accept(x);
    return s;
  }

  for (const n of SIZES) {
    it(`x ${n}: exact counts, merge equals whole, round-trip`, () => {
      const xs = sample(n, n);
      const whole = summaryOf(xs);
      for (const c of categories) expect(whole.countOf(c)).toBe(xs.filter((x) => x === c).length);
      expect(whole.missing).toBe(xs.filter((x) => x === null).length);
      expect(whole.count + whole.missing).toBe(n);
      const cut = Math.floor(n / 2);
      const merged = summaryOf(xs.slice(0, cut)).merge(summaryOf(xs.slice(cut)));
      expect(merged.toJSON()).toEqual(whole.toJSON());
      const back = CategoricalSummary.fromJSON(JSON.parse(JSON.stringify(whole)));
      expect(back.toJSON()).toEqual(whole.toJSON());
      expect(back.count).toBe(whole.count);
    });
  }

  it('keeps the top K by name and folds the rest into __other__', () => {
    const s = new CategoricalSummary({ topK: 3 });
    const u = rng(1);
    const values: string[] = [];
    for (let i = 0; i < 10_000; i++) values.push(u() < 0.7 ? ['x', 'y', 'z'][i % 3] : `rare-${Math.floor(u() * 500)}`);
    for (const v of values) s.accept(v);
    const counts = s.counts();
    expect([...counts.keys()].slice(0, 3).sort()).toEqual(['x', 'y', 'z']);
    expect(counts.size).toBe(4);
    expect(counts.get(OTHER_CATEGORY)).toBeGreaterThan(0);
    let total = 0;
    for (const c of counts.values()) total += c;
    expect(total).toBe(10_000);
    expect(Object.keys(s.toJSON().c)).toHaveLength(3);
  });

  it('counts numbers and booleans under their string form', () => {
    const s = new CategoricalSummary();
    for (const v of [1, '1', true, 'true', undefined]) s.accept(v);
    expect(s.countOf('1')).toBe(2);
    expect(s.countOf('true')).toBe(2);
    expect(s.missing).toBe(1);
  });
});
