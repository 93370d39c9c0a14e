import { describe, expect, it } from 'vitest';
import { normalSurvival, normalUpperQuantile, normalTwoSided } from '../../../../src/core/stats/normal.js';
import { hypergeometricTwoSided } from '../../../../src/core/stats/hypergeometric.js';
import { binnedLocationTest, binnedScaleTest } from '../../../../src/core/stats/binned-rank-tests.js';
import { categoryShareTest, poolCategories, pooledChiSquare } from '../../../../src/core/stats/category-tests.js';
import { totalVariation, totalVariationAboveNoise, wassersteinAboveNoise } from '../../../../src/core/stats/effect-size.js';
import { SEQUENTIAL_RATE_FACTOR, falseAlarmRate, nullRunLength, referenceErrorShare, sequentialReferenceValue, sequentialStep, sequentialThreshold } from '../../../../src/core/drift/sequential.js';
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

describe('sequential statistic', () => {
  it("Siegmund's run length matches the published two-sided CUSUM table", () => {
    // Montgomery, Introduction to Statistical Quality Control, table 9.3 (k = 0.5): two-sided ARL0
    // 168 at h = 4 and 465 at h = 5; two independent one-sided sides halve the one-sided length.
    expect(rel(nullRunLength(0.5, 4) / 2, 168)).toBeLessThan(0.01);
    expect(rel(nullRunLength(0.5, 5) / 2, 465)).toBeLessThan(0.01);
    expect(falseAlarmRate(0.5, 4)).toBeCloseTo(1 / nullRunLength(0.5, 4), 12);
  });

  it("holds the share of the budget, counting each crossing's windows, and accumulates a persistent shift", () => {
    const h = sequentialThreshold(0.0005, 40, 0.5);
    expect(nullRunLength(0.5, h)).toBeGreaterThanOrEqual((SEQUENTIAL_RATE_FACTOR * 40) / 0.0005);
    expect(nullRunLength(0.5, h - 0.05)).toBeLessThan((SEQUENTIAL_RATE_FACTOR * 40) / 0.0005);
    let state = { up: 0, down: 0 };
    let firedAt = 0;
    for (let w = 1; w <= 20 && firedAt === 0; w++) {
      const step = sequentialStep(state, 2, 0.5, h);
      state = step.state;
      if (step.fired) firedAt = w;
    }
    // 1.5 per window above k: the sum crosses h after ceil(h / 1.5) windows.
    expect(firedAt).toBe(Math.ceil(h / 1.5));
    // One extreme window adds at most the clip (3 - k), far below h.
    expect(sequentialStep({ up: 0, down: 0 }, 50, 0.5, h).fired).toBe(false);
  });

  it('averages the false-alarm rate over the reference error: the worked example of docs/detector.md', () => {
    // 200-event windows against 10,000 reference rows: the reference is 0.14 of each z's spread.
    const rho = referenceErrorShare(200, 10_000);
    expect(rho).toBeCloseTo(0.14003, 5);
    const k = sequentialReferenceValue(200, 10_000);
    expect(k).toBeCloseTo(0.98006, 5);
    // 106 one-sided CUSUMs at half of a 0.001 budget.
    const h = sequentialThreshold(0.0005, 106, k, rho);
    expect(h).toBeCloseTo(6.507, 2);
    expect(falseAlarmRate(k, h, rho) * SEQUENTIAL_RATE_FACTOR * 106).toBeCloseTo(0.0005, 7);
    // A persistent error of the reference shortens the run length: averaged over it the rate is higher
    // than with a perfect reference; h stays below the one computed at k = 0.7 (the old rule).
    expect(falseAlarmRate(k, h, rho)).toBeGreaterThan(falseAlarmRate(k, h));
    expect(h).toBeLessThan(sequentialThreshold(0.0005, 106, 0.7));
  });

  it('false drift verdicts per window stay within the promise when each reference has its own error (simulation)', () => {
    // Each of 1,500 references draws its persistent error b ~ N(0, rho^2) once; its windows' z are
    // b + N(0, 1 - rho^2). Every window at or above h counts (a crossing and the windows it holds).
    const rho = 0.14;
    const k = 0.98;
    const target = 1e-4;
    const h = sequentialThreshold(target, 1, k, rho);
    const u = mulberry32(11);
    const normal = (): number => Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());
    let alarmed = 0;
    let windows = 0;
    for (let r = 0; r < 1500; r++) {
      const b = rho * normal();
      let state = { up: 0, down: 0 };
      for (let w = 0; w < 4000; w++) {
        const step = sequentialStep(state, b + Math.sqrt(1 - rho * rho) * normal(), k, h);
        state = step.state;
        if (step.state.up >= h) alarmed++;
        windows++;
      }
    }
    // About 600 expected at the promised rate; the factor's margin puts it near 0.9 of that.
    expect(alarmed / windows).toBeLessThanOrEqual(target);
    expect(alarmed / windows).toBeGreaterThan(0.5 * target);
  });

  it("estimates the run's effect from unclipped z", () => {
    // z of 12 a window (a zero-inflated feature's shift): the sum grows by 3 - k, the run's mean z stays 12.
    const first = sequentialStep({ up: 0, down: 0 }, 12, 1, 5);
    const second = sequentialStep(first.state, 12, 1, 5);
    const third = sequentialStep(second.state, 11, 1, 5);
    expect([first.fired, second.fired, third.fired]).toEqual([false, false, true]);
    expect(third.state.up).toBe(6);
    expect(third.meanZ).toBeCloseTo(35 / 3, 12);
  });
});
