import { describe, expect, it } from 'vitest';
import { normalSurvival, normalUpperQuantile, normalTwoSided } from '../../../../src/core/stats/normal.js';
import { hypergeometricTwoSided } from '../../../../src/core/stats/hypergeometric.js';
import { binnedLocationTest, binnedScaleTest } from '../../../../src/core/stats/binned-rank-tests.js';
import { categoryShareTest, poolCategories, pooledChiSquare } from '../../../../src/core/stats/category-tests.js';
import { totalVariation, totalVariationAboveNoise, wassersteinAboveNoise } from '../../../../src/core/stats/effect-size.js';
import { SEQUENTIAL_WINDOWS, SEQUENTIAL_Z_CLIP, referenceErrorShare, sequentialPValue, sequentialStep, sumStandardDeviation, type SequentialState } from '../../../../src/core/drift/sequential.js';
import { MergingDigest } from '../../../../src/core/stats/merging-digest.js';
import { mulberry32 } from '../../../../src/core/random.js';

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

// Reference values: scipy 1.17.1 (scipy.stats.norm, hypergeom, chi2_contingency with
// correction=False); the linear rank statistics with numpy from the permutation mean and variance
// of the pooled 2 x k table (scipy has no grouped ridit test), independently of this code.
describe('null distributions pinned to scipy', () => {
  it('normal tail and its inverse', () => {
    const sf: [number, number][] = [
      [0.5, 0.3085375387259869],
      [1.96, 0.024997895148220435],
      [4.0, 3.167124183311986e-5],
      [6.5, 4.016000583859088e-11],
      [10.0, 7.61985302416047e-24],
    ];
    for (const [z, p] of sf) expect(rel(normalSurvival(z), p), `sf(${z})`).toBeLessThan(1e-9);
    const isf: [number, number][] = [
      [0.2, 0.8416212335729142],
      [0.025, 1.9599639845400545],
      [1e-5, 4.264890793922825],
      [1e-9, 5.9978070150076865],
      [1e-30, 11.464024688443613],
    ];
    for (const [p, z] of isf) expect(rel(normalUpperQuantile(p), z), `isf(${p})`).toBeLessThan(1e-9);
    expect(normalTwoSided(-1.96)).toBeCloseTo(2 * 0.024997895148220435, 12);
  });

  it('exact hypergeometric two-sided p-values (doubled smaller tail)', () => {
    const cases: [number, number, number, number, number][] = [
      // x, n draws, k in category, total, scipy: min(1, 2 min(hypergeom.cdf(x), hypergeom.sf(x - 1)))
      [3, 100, 5, 10100, 1.8568486033286415e-5],
      [0, 200, 20, 10200, 1],
      [540, 10000, 540, 20000, 3.138082043804673e-166],
      [12, 50, 30, 300, 0.0021746891038751355],
      [30, 1000, 300, 11000, 0.635330468319343],
    ];
    for (const [x, n, k, total, p] of cases) {
      const got = hypergeometricTwoSided(x, n, k, total);
      if (p === 1) expect(got).toBe(1);
      else expect(rel(got, p), `x=${x} n=${n} k=${k} N=${total}: ${got}`).toBeLessThan(1e-6);
    }
  });

  it('binned location and scale tests', () => {
    const flat = new Array(10).fill(1000);
    const loc = binnedLocationTest(flat, [5, 7, 8, 9, 10, 10, 11, 12, 13, 15]);
    expect(rel(loc.z, 2.7366517781041364)).toBeLessThan(1e-9);
    expect(rel(loc.pValue, 0.0062067955388465604)).toBeLessThan(1e-7);
    const scale = binnedScaleTest(flat, [15, 12, 9, 8, 6, 6, 8, 9, 12, 15]);
    expect(rel(scale.z, 3.119579218348181)).toBeLessThan(1e-9);
    expect(rel(scale.pValue, 0.001811095538355486)).toBeLessThan(1e-7);
    // Uneven bins from ties (a zero-inflated reference) and an empty outer bin.
    const ties = binnedLocationTest([0, 7000, 1000, 1000, 1000], [0, 60, 20, 10, 10]);
    expect(rel(ties.z, 1.7042073661334736)).toBeLessThan(1e-9);
    expect(rel(ties.pValue, 0.08834235354291803)).toBeLessThan(1e-7);
  });

  it('chi-square on the table pooled to expected counts of at least 10', () => {
    const ref = [5000, 3000, 1500, 400, 60, 30, 10];
    const cur = [45, 30, 12, 8, 3, 1, 1];
    expect(poolCategories(ref, cur, 10)).toEqual({ reference: [5000, 3000, 1500, 500], current: [45, 30, 12, 13], pooledIndex: 3 });
    // The pooled cell still expects only 5: it joins the smallest other cell, giving
    // [[5000, 3000, 2000], [45, 30, 25]].
    const c = pooledChiSquare(ref, cur, 10);
    expect(c.dof).toBe(2);
    expect(rel(c.statistic, 1.7301080399858073)).toBeLessThan(1e-9);
    expect(rel(c.pValue, 0.42102880803977294)).toBeLessThan(1e-7);
    // Pooled to 4 instead (the rare cell still merges, into the 400): scipy gives 13.56641176225444, p 0.0035588849912978563, dof 3.
    const wide = pooledChiSquare(ref, cur, 4);
    expect(wide.dof).toBe(3);
    expect(rel(wide.statistic, 13.56641176225444)).toBeLessThan(1e-9);
    expect(rel(wide.pValue, 0.0035588849912978563)).toBeLessThan(1e-7);
  });
});

describe('calibration by simulation at the tail the budget uses', () => {
  // Draw windows from the reference's own bin shares; count p-values below 1e-3. A calibrated
  // test rejects about 1e-3 of them: at 40,000 windows the count is Poisson(40) when calibrated,
  // so more than 70 means the tail is too heavy (P < 1e-5 when calibrated).
  function multinomial(u: () => number, shares: number[], n: number): number[] {
    const cum: number[] = [];
    let c = 0;
    for (const s of shares) cum.push((c += s));
    const out = new Array(shares.length).fill(0);
    for (let i = 0; i < n; i++) {
      const x = u();
      let j = 0;
      while (j < cum.length - 1 && x >= cum[j]) j++;
      out[j]++;
    }
    return out;
  }

  it('location, scale, pooled chi-square and category tests stay at or below their level at n = 100', () => {
    const u = mulberry32(11);
    const bins = [0, 6000, 500, 500, 1000, 1000, 1000]; // ties: a point mass and uneven bins
    const cats = [4000, 2500, 1500, 1000, 500, 300, 100, 50, 30, 20];
    const shareOf = (r: number[]): number[] => r.map((x) => x / r.reduce((a, b) => a + b, 0));
    const counts = { location: 0, scale: 0, chiSquare: 0, categoryShare: 0 };
    const windows = 40_000;
    for (let w = 0; w < windows; w++) {
      const x = multinomial(u, shareOf(bins), 100);
      if (binnedLocationTest(bins, x).pValue < 1e-3) counts.location++;
      if (binnedScaleTest(bins, x).pValue < 1e-3) counts.scale++;
      const c = multinomial(u, shareOf(cats), 100);
      if (pooledChiSquare(cats, c, 10).pValue < 1e-3) counts.chiSquare++;
      const pooled = poolCategories(cats, c, 5);
      if (categoryShareTest(pooled.reference, pooled.current).pValue < 1e-3) counts.categoryShare++;
    }
    for (const [name, k] of Object.entries(counts)) expect(k, name).toBeLessThanOrEqual(70);
  });
});

describe('effects above noise', () => {
  function digestOf(values: number[]): MergingDigest {
    const d = new MergingDigest();
    for (const v of values) d.accept(v);
    return d;
  }
  function normals(seed: number, n: number, shift = 0): number[] {
    const u = mulberry32(seed);
    return Array.from({ length: n }, () => shift + Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u()));
  }

  it('stays near zero without a change and tracks a real shift (Wasserstein in typical deviations)', () => {
    const mad = Math.sqrt(2 / Math.PI);
    const ref = digestOf(normals(1, 10_000));
    const same = wassersteinAboveNoise(ref, digestOf(normals(2, 200)), mad);
    expect(same).toBeLessThan(0.05);
    const shifted = wassersteinAboveNoise(ref, digestOf(normals(3, 5000, 0.3 * mad)), mad);
    expect(shifted).toBeGreaterThan(0.25);
    expect(shifted).toBeLessThan(0.33);
  });

  it('measures moved category mass on the side where it is concentrated', () => {
    const ref = [3000, 2000, 2000, 1000, 1000, 1000];
    // 15 points moved out of the first category, spread over the others.
    const cur = [1500, 2300, 2300, 1300, 1300, 1300];
    expect(totalVariation(ref, cur)).toBeCloseTo(0.15, 9);
    const above = totalVariationAboveNoise(ref, cur);
    expect(above).toBeGreaterThan(0.13);
    expect(above).toBeLessThanOrEqual(0.15);
    // The same shares as the reference: nothing above noise.
    expect(totalVariationAboveNoise(ref, [300, 200, 200, 100, 100, 100])).toBe(0);
  });
});

describe('sequential statistic (derived window)', () => {
  it('standardizes the sum of windows with the shared reference error: the worked example of docs/detector.md', () => {
    // 200-event windows against 10,000 reference rows: the reference is 0.140 of each z's spread;
    // ten windows' sum has sd sqrt(10 (1 - rho^2) + (10 rho)^2) = 3.42997 (scipy/numpy), not sqrt(10).
    const rho = referenceErrorShare(200, 10_000);
    expect(rho).toBeCloseTo(0.140028, 5);
    expect(sumStandardDeviation(new Array(10).fill(200), 10_000)).toBeCloseTo(3.429972, 5);
    expect(sumStandardDeviation([200], 10_000)).toBeCloseTo(1, 12);
    // Critical |z| of each of 53 two-sided statistics at 0.8 of a 0.001 budget (scipy norm.isf(level / 2)).
    const level = (0.001 * 0.8) / 53;
    expect(rel(normalUpperQuantile(level / 2), 4.327307162234024)).toBeLessThan(1e-9);
    expect(sequentialPValue(4.327307162234024)).toBeCloseTo(level, 12);
  });

  it('keeps the last windows, clips one window, and accumulates a persistent shift', () => {
    let state: SequentialState = {};
    const zs: number[] = [];
    for (let w = 1; w <= 14; w++) {
      const step = sequentialStep(state, 2, 200, 10_000);
      state = step.state;
      zs.push(step.z);
      expect(step.windows).toBe(Math.min(w, SEQUENTIAL_WINDOWS));
      expect(step.meanZ).toBeCloseTo(2, 12);
    }
    // 2 a window: 2 l / sd(l), growing until the window is full, then steady.
    expect(zs[9]).toBeCloseTo(20 / 3.429972, 5);
    expect(zs[13]).toBeCloseTo(zs[9], 12);
    for (let i = 1; i < 10; i++) expect(zs[i]).toBeGreaterThan(zs[i - 1]);
    // One extreme window adds the clip only, below any level the budget gives; its raw z still measures the effect.
    const blip = sequentialStep({}, 50, 200, 10_000);
    expect(blip.z).toBe(SEQUENTIAL_Z_CLIP);
    expect(blip.meanZ).toBe(50);
    // A non-finite z is no evidence, but the window still counts.
    expect(sequentialStep(state, NaN, 200, 10_000).state.z!.at(-1)).toBe(0);
    // States of the earlier CUSUM (up / down sums) are read as empty.
    expect(sequentialStep({ up: 5, down: 0 } as unknown as SequentialState, 1, 200, 10_000).windows).toBe(1);
  });

  it('is standard normal with no drift across references: the grouped location test over 10 windows (simulation)', () => {
    // 1,500 references of 2,000 normal values, each with 10 windows of 100: the reference's error
    // is shared by the windows (rho^2 = 0.048), so sqrt(10) would understate the sum's spread by 16%.
    const u = mulberry32(23);
    const normal = (): number => Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());
    const m = 2000;
    const n = 100;
    let sumSq = 0;
    let naiveSq = 0;
    let beyond = 0;
    const refs = 1500;
    for (let r = 0; r < refs; r++) {
      const ref = Float64Array.from({ length: m }, normal).sort();
      const edges = Array.from({ length: 9 }, (_, k) => ref[Math.floor(((k + 1) * m) / 10)]);
      const bin = (x: number): number => {
        let b = 0;
        while (b < 9 && x >= edges[b]) b++;
        return b;
      };
      const refCounts = new Array(10).fill(0);
      for (const x of ref) refCounts[bin(x)]++;
      let state: SequentialState = {};
      let step: ReturnType<typeof sequentialStep> | undefined;
      let raw = 0;
      for (let w = 0; w < 10; w++) {
        const cur = new Array(10).fill(0);
        for (let k = 0; k < n; k++) cur[bin(normal())]++;
        const z = binnedLocationTest(refCounts, cur).z;
        raw += z;
        step = sequentialStep(state, z, n, m);
        state = step.state;
      }
      if (!step) throw new Error('no window');
      sumSq += step.z * step.z;
      naiveSq += (raw / Math.sqrt(10)) ** 2;
      if (Math.abs(step.z) > 1.96) beyond++;
    }
    const sd = Math.sqrt(sumSq / refs);
    expect(sd).toBeGreaterThan(0.93);
    expect(sd).toBeLessThan(1.07);
    expect(Math.sqrt(naiveSq / refs)).toBeGreaterThan(1.1);
    // Two-sided 5%: 75 expected.
    expect(beyond / refs).toBeGreaterThan(0.03);
    expect(beyond / refs).toBeLessThan(0.07);
  });
});

