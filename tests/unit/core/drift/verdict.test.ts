import { binnedLocationTest } from '../../../../src/core/stats/binned-rank-tests.js';
import { describe, expect, it } from 'vitest';
import { decideVerdicts, numericEvidence, referenceHasAtoms, type FeatureEvidence, type VerdictInput } from '../../../../src/core/drift/verdict.js';
import { BLIND_WINDOW_BUDGET_SHARE, SHARP_WEIGHT, WINDOW_BUDGET_SHARE, blindFeatures, judgeFeatures, sequentialPlan, windowBudgetShare, type JudgeItem } from '../../../../src/core/drift/judge.js';
import type { SequentialState } from '../../../../src/core/drift/sequential.js';
import { normalUpperQuantile } from '../../../../src/core/stats/normal.js';
import { ReferenceProfileBuilder, createSummary, referenceDigest, type FeatureProfile } from '../../../../src/core/profile/reference-profile.js';
import { mulberry32 } from '../../../../src/core/random.js';
import type { NumericSummary } from '../../../../src/core/stats/numeric-summary.js';

function evidence(pValues: number[], effect: number, mde = 0.05): FeatureEvidence {
  return { tests: pValues.map((p, i) => ({ name: i === 0 ? 'location' : 'ks', statistic: 0, pValue: p })), effect, metric: 'wasserstein', n: 1000, m: 10000, mdes: () => ({ location: mde }) };
}
const floors = { warning: 0.1, critical: 0.2 };
const input = (e: FeatureEvidence, eligible = true): VerdictInput => ({ evidence: e, floors, eligible });

describe('decideVerdicts', () => {
  it("runs Holm's step-down over every test of the evaluation at the budget", () => {
    // 4 tests at alpha 0.001: steps 0.00025, 0.000333, 0.0005, 0.001.
    const v = decideVerdicts({ a: input(evidence([0.0002, 0.5], 0.3)), b: input(evidence([0.0003, 0.9], 0.15)) }, 0.001);
    expect(v.a).toMatchObject({ verdict: 'drift', severity: 'CRITICAL', test: 'location', significant: true });
    expect(v.a.level).toBeCloseTo(0.00025, 12);
    expect(v.b).toMatchObject({ verdict: 'drift', severity: 'WARNING' });
    expect(v.b.level).toBeCloseTo(0.001 / 3, 12);
    // The first test that misses its step stops the procedure.
    const w = decideVerdicts({ a: input(evidence([0.0003, 0.5], 0.3)), b: input(evidence([0.0003, 0.9], 0.3)) }, 0.001);
    expect(w.a.verdict).toBe('ok');
    expect(w.b.verdict).toBe('ok');
  });

  it('needs both evidence and an effect at the floor; says insufficient when the window cannot see the floor', () => {
    const v = decideVerdicts(
      {
        small: input(evidence([1e-9], 0.05)),
        blind: input(evidence([0.3], 0.5, 0.4)),
        seen: input(evidence([0.3], 0.01, 0.05)),
        few: input(evidence([1e-12], 0.9), false),
      },
      0.001,
    );
    expect(v.small).toMatchObject({ verdict: 'ok', severity: 'NONE', significant: true });
    expect(v.blind).toMatchObject({ verdict: 'insufficient', severity: 'NONE' });
    expect(v.seen).toMatchObject({ verdict: 'ok' });
    expect(v.few).toMatchObject({ verdict: 'insufficient', significant: false });
  });
});

describe('judgeFeatures on generated windows', () => {
  const u = mulberry32(21);
  const normal = (): number => Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());
  const b = new ReferenceProfileBuilder({ x: 'numeric', c: 'categorical' });
  const cats = ['a', 'b', 'c', 'd'];
  const cat = (shift = 0): string => {
    const r = u();
    if (r < shift) return 'b';
    return cats[Math.min(3, Math.floor(u() * 4))];
  };
  for (let i = 0; i < 10_000; i++) b.accept({ x: normal(), c: cat() });
  const profile = b.build({ createdAt: 0 });
  function items(n: number, shift = 0, mass = 0, stretch = 1): Record<string, JudgeItem> {
    const x = createSummary(profile.features.x as Extract<FeatureProfile, { type: 'numeric' }>);
    const c = createSummary(profile.features.c as Extract<FeatureProfile, { type: 'categorical' }>);
    for (let i = 0; i < n; i++) {
      x.accept(normal() * stretch + shift);
      c.accept(cat(mass));
    }
    return {
      x: { reference: profile.features.x, current: x, floors, minSamples: 100 },
      c: { reference: profile.features.c, current: c, floors, minSamples: 100 },
    };
  }

  it('small windows from the reference are insufficient, large ones ok, real changes drift', () => {
    const small = judgeFeatures(items(100), { budget: 0.001 });
    expect(small.x.verdict?.verdict).toBe('insufficient');
    expect(small.x.verdict!.mde).toBeGreaterThan(0.1);
    const large = judgeFeatures(items(20_000), { budget: 0.001 });
    expect(large.x.verdict?.verdict).toBe('ok');
    expect(large.c.verdict?.verdict).toBe('ok');
    expect(large.x.verdict!.mde).not.toBeNull();
    expect(large.x.verdict!.mde!).toBeLessThanOrEqual(0.1);
    // 0.4 sd is 0.5 typical deviations (MAD of a normal is 0.8 sd); 30 points of mass into b.
    const moved = judgeFeatures(items(5000, 0.4, 0.3), { budget: 0.001 });
    expect(moved.x).toMatchObject({ drift: true, severity: 'CRITICAL', triggered: ['wasserstein'] });
    expect(moved.x.verdict!.effect).toBeGreaterThan(0.4);
    expect(moved.c).toMatchObject({ drift: true, severity: 'CRITICAL', triggered: ['totalVariation'] });
  });

  it('accumulates a persistent small shift across windows too small to see it alone', () => {
    const sequential = {};
    let fired = 0;
    for (let w = 1; w <= 20 && fired === 0; w++) {
      // 0.12 sd is 1.5 times the floor in typical deviations.
      const r = judgeFeatures(items(200, 0.12), { budget: 0.001, sequential });
      expect(['insufficient', 'drift']).toContain(r.x.verdict!.verdict);
      if (r.x.drift) {
        fired = w;
        expect(r.x.verdict!.test).toBe('derivedWindow');
      }
    }
    expect(fired).toBeGreaterThan(1);
    expect(fired).toBeLessThanOrEqual(10);
  });

  it('reports an MDE per kind of change and says insufficient when any kind is out of sight', () => {
    const r = judgeFeatures(items(5000), { budget: 0.001 });
    const x = r.x.verdict!;
    expect(Object.keys(x.mdes!).sort()).toEqual(['location', 'scale', 'shape']);
    expect(x.mde).toBe(Math.max(...Object.values(x.mdes!).map(Number)));
    expect(Object.keys(r.c.verdict!.mdes!).sort()).toEqual(['categoryMass', 'newCategory']);
    // A normal feature at n = 5000 sees a shift of 0.1 typical deviations but not a bump of that size.
    expect(x.mdes!.location!).toBeGreaterThan(0.1);
    expect(x.verdict).toBe('insufficient');
    expect(x.nNeeded).toBeGreaterThan(5000);
  });

  it('accumulates a persistent stretch of the spread (scale trend) and a moved category share', () => {
    const sequential = {};
    let scaleAt = 0;
    let massAt = 0;
    for (let w = 1; w <= 25 && (scaleAt === 0 || massAt === 0); w++) {
      // x1.3 on a normal feature: 3 floors in typical deviations; 25 points of mass into b.
      const r = judgeFeatures(items(200, 0, 0.25, 1.3), { budget: 0.001, sequential });
      if (scaleAt === 0 && r.x.drift) scaleAt = w;
      if (massAt === 0 && r.c.drift) massAt = w;
      if (r.x.drift && r.x.verdict!.test === 'derivedWindow') expect(r.x.verdict!.sequential!.effect).toBeGreaterThanOrEqual(0.1);
    }
    expect(scaleAt).toBeGreaterThan(0);
    expect(scaleAt).toBeLessThanOrEqual(15);
    expect(massAt).toBeGreaterThan(0);
    expect(Object.keys(sequential)).toEqual(expect.arrayContaining(['x#mean', 'x#scale', 'c#categoryMass']));
  });
});

describe('derived window after a drift the windows reported themselves', () => {
  const u = mulberry32(5);
  const normal = (): number => Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());
  const b = new ReferenceProfileBuilder({ x: 'numeric' });
  // A large reference: its error is a small share of ten windows' sum, so stale evidence would show.
  for (let i = 0; i < 100_000; i++) b.accept({ x: normal() });
  const ref = b.build({ createdAt: 0 }).features.x as Extract<FeatureProfile, { type: 'numeric' }>;
  const window = (shift: number): Record<string, JudgeItem> => {
    const x = createSummary(ref);
    for (let i = 0; i < 2000; i++) x.accept(normal() + shift);
    return { x: { reference: ref, current: x, floors, minSamples: 100 } };
  };

  it('adds no evidence from drifted windows, so it does not fire again once the drift is over', () => {
    const sequential: Record<string, SequentialState> = {};
    // Five windows shifted by 0.4 sd (0.5 typical deviations): each window's own tests report them.
    for (let w = 0; w < 5; w++) {
      const r = judgeFeatures(window(0.4), { budget: 0.001, sequential });
      expect(r.x.drift).toBe(true);
      expect(r.x.verdict!.test).not.toBe('derivedWindow');
    }
    expect(Object.keys(sequential).length).toBeGreaterThan(0);
    for (const s of Object.values(sequential)) expect(s.z).toEqual([0, 0, 0, 0, 0]);
    // Ten clean windows: with the drifted windows' z in it, the derived window would read |Z| near 6.
    for (let w = 0; w < 10; w++) {
      const r = judgeFeatures(window(0), { budget: 0.001, sequential });
      expect(r.x.drift).toBe(false);
      expect(Math.abs(r.x.verdict!.sequential!.statistic)).toBeLessThan(4);
    }
  });
});

describe('mean trend of the sequential mode', () => {
  const u = mulberry32(77);
  const normal = (): number => Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());
  const shapes: Record<string, () => number> = { normal: () => 50 + 10 * normal(), lognormal: () => Math.exp(normal()), t3: () => normal() / Math.sqrt((normal() ** 2 + normal() ** 2 + normal() ** 2) / 3) };
  const b = new ReferenceProfileBuilder(Object.fromEntries(Object.keys(shapes).map((k) => [k, 'numeric'])));
  for (let i = 0; i < 10_000; i++) b.accept(Object.fromEntries(Object.entries(shapes).map(([k, f]) => [k, f()])));
  const profile = b.build({ createdAt: 0 });
  const ref = (name: string) => profile.features[name] as Extract<FeatureProfile, { type: 'numeric' }>;

  it('is kept where the mean sees a shift better than the ridit test and the reference is symmetric', () => {
    const kinds = (name: string): string[] => {
      const s = createSummary(ref(name));
      for (let i = 0; i < 200; i++) s.accept(shapes[name]());
      return (numericEvidence(ref(name), referenceDigest(ref(name)), s).trends ?? []).map((t) => t.kind);
    };
    // The mean replaces the ridit location trend there (one statistic per kind of change).
    expect(kinds('normal')).toEqual(['mean', 'scale']);
    // Skewed: the mean of 200 values is skewed too. Heavy-tailed: the ridits see a shift better.
    expect(kinds('lognormal')).toEqual(['location', 'scale']);
    expect(kinds('t3')).toEqual(['location', 'scale']);
  });

  it('is the standardized mean difference, and sees a shift of 1.5 floors better than the ridit z', () => {
    const r = ref('normal');
    let meanZ = 0;
    let locationZ = 0;
    const windows = 400;
    for (let w = 0; w < windows; w++) {
      const s = createSummary(r);
      // 1.5 floors: 0.15 typical deviations of a normal feature (0.798 sd) = 1.2 units.
      for (let i = 0; i < 200; i++) s.accept(shapes.normal() + 1.2);
      const trends = numericEvidence(r, referenceDigest(r), s).trends!;
      const mean = trends.find((t) => t.kind === 'mean')!;
      const sd = Math.sqrt(r.std ** 2 / r.count + s.m2 / 199 / 200);
      expect(mean.z).toBeCloseTo((s.mean - r.mean) / sd, 9);
      meanZ += mean.z / windows;
      locationZ += binnedLocationTest(r.counts, s.counts).z / windows;
    }
    // Expected z about 0.12 / sqrt(1/200 + 1/10,000) = 1.68 less the reference's own error; ridits lose ~5%.
    expect(meanZ).toBeGreaterThan(locationZ);
    expect(meanZ).toBeGreaterThan(1.3);
    expect(meanZ).toBeLessThan(2.1);
  });
});

describe('sequential budget', () => {
  const trendEvidence = (se: number, mde: number): FeatureEvidence => ({
    ...evidence([0.5], 0, mde),
    n: 200,
    trends: [{ kind: 'location', z: 0, se }],
  });
  const item = { floors, minSamples: 1 } as unknown as JudgeItem;

  it('gives blind windows a fifth of the budget, other windows half, and single windows without sequential mode everything', () => {
    const blind = { a: input(evidence([0.5], 0, 0.4)), b: input(evidence([0.5], 0, 0.3)) };
    const seeing = { a: input(evidence([0.5], 0, 0.4)), b: input(evidence([0.5], 0, 0.05)) };
    const sighted = { a: input(evidence([0.5], 0, 0.06)), b: input(evidence([0.5], 0, 0.05)) };
    expect([...blindFeatures(blind, 0.001)]).toEqual(['a', 'b']);
    expect([...blindFeatures(seeing, 0.001)]).toEqual(['a']);
    expect(windowBudgetShare(blind, blindFeatures(blind, 0.001), true)).toBe(BLIND_WINDOW_BUDGET_SHARE);
    expect(BLIND_WINDOW_BUDGET_SHARE).toBe(0.2);
    expect(windowBudgetShare(seeing, blindFeatures(seeing, 0.001), true)).toBe(WINDOW_BUDGET_SHARE);
    // Where the window sees every feature at its floor, the derived window has nothing to judge; the tests keep half.
    expect(blindFeatures(sighted, 0.001).size).toBe(0);
    expect(windowBudgetShare(sighted, blindFeatures(sighted, 0.001), true)).toBe(WINDOW_BUDGET_SHARE);
    expect(windowBudgetShare(blind, blindFeatures(blind, 0.001), false)).toBe(1);
    // An ineligible feature is neither blind nor seeing.
    const withFew = { ...blind, c: input(evidence([0.5], 0, 0.05), false) };
    expect(blindFeatures(withFew, 0.001).has('c')).toBe(false);
    expect(windowBudgetShare(withFew, blindFeatures(withFew, 0.001), true)).toBe(BLIND_WINDOW_BUDGET_SHARE);
  });

  it('shares the sequential budget by weighted Bonferroni: the worked example of docs/detector.md', () => {
    // 35 statistics that need the budget (se 0.09 per window: ten windows see one floor at |Z| 3.2)
    // and 10 that see it with room to spare (se 0.01: |Z| 29); levels pinned to scipy norm.isf.
    const ev: Record<string, FeatureEvidence> = {};
    const inputs: Record<string, VerdictInput> = {};
    const items: Record<string, JudgeItem> = {};
    for (let i = 0; i < 45; i++) {
      ev[`f${i}`] = trendEvidence(i < 35 ? 0.09 : 0.01, 0.4);
      inputs[`f${i}`] = input(ev[`f${i}`]);
      items[`f${i}`] = item;
    }
    const plan = sequentialPlan(items, ev, blindFeatures(inputs, 0.001), 0.0008);
    expect(plan.statistics).toBe(45);
    let total = 0;
    for (const l of plan.levels.values()) total += l;
    expect(total).toBeCloseTo(0.0008, 15);
    const need = plan.levels.get('f0')!;
    const sharp = plan.levels.get('f40')!;
    expect(need).toBeCloseTo(0.0008 / 36, 15);
    expect(sharp / need).toBeCloseTo(SHARP_WEIGHT, 12);
    expect(rel(normalUpperQuantile(need / 2), 4.2413067056332805)).toBeLessThan(1e-9);
    expect(rel(normalUpperQuantile(sharp / 2), 4.732087822839777)).toBeLessThan(1e-9);
    // An ineligible feature's statistics take no share.
    const fewer = sequentialPlan(items, ev, blindFeatures({ ...inputs, f0: input(ev.f0, false) }, 0.001), 0.0008);
    expect(fewer.statistics).toBe(44);
    expect(fewer.levels.has('f0')).toBe(false);
  });
});

function rel(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}

describe('sequential effect on a reference with atoms', () => {
  const u = mulberry32(91);
  const normal = (): number => Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());
  const zeroInflated = (): number => (u() < 0.6 ? 0 : -Math.log(u() || 1e-12) * 3);
  const b = new ReferenceProfileBuilder({ z: 'numeric', x: 'numeric' });
  // 6,000 zeros and the exponential part's quantiles: the first edge above the zeros sits just above 0.
  for (let i = 0; i < 10_000; i++) b.accept({ z: i < 6000 ? 0 : -3 * Math.log(1 - (i - 5999.5) / 4000), x: normal() });
  const profile = b.build({ createdAt: 0 });
  const zRef = profile.features.z as Extract<FeatureProfile, { type: 'numeric' }>;
  const xRef = profile.features.x as Extract<FeatureProfile, { type: 'numeric' }>;
  // The reference's typical deviation (mean absolute deviation from the median 0) is 0.4 x 3 = 1.2.
  const window = (shift: number): Record<string, JudgeItem> => {
    const s = createSummary(zRef);
    for (let i = 0; i < 200; i++) s.accept(zeroInflated() + shift);
    return { z: { reference: zRef, current: s, floors, minSamples: 1 } };
  };

  it('tells atoms from a continuous reference', () => {
    expect(referenceHasAtoms(zRef)).toBe(true);
    expect(referenceHasAtoms(xRef)).toBe(false);
  });

  // Half the floor: 0.05 typical deviations; the zeros pass the first edge above them.
  const small = 0.06;

  it('measures a moved point mass by the distance it moved, not by the ranks it crossed', () => {
    expect(zRef.edges.find((e) => e > 0)!).toBeLessThan(small);
    const ev = numericEvidence(zRef, referenceDigest(zRef), window(small).z.current as NumericSummary);
    const location = ev.trends!.find((t) => t.kind === 'location')!;
    expect(Math.abs(location.z)).toBeGreaterThan(8);
    // z times se reads it as several typical deviations; the change of the mean reads it within its noise.
    expect(Math.abs(location.z * location.se)).toBeGreaterThan(1);
    expect(Math.abs(location.effect! - small / 1.2)).toBeLessThan(3 * location.effectSe!);
  });

  it('does not hold a drift of half the floor over ten windows, and still catches 3 floors', () => {
    const sequential = {};
    for (let w = 0; w < 10; w++) {
      const r = judgeFeatures(window(small), { budget: 0.001, sequential });
      expect(r.z.verdict!.test).not.toBe('derivedWindow');
      expect(r.z.verdict!.sequential!.effect).toBeLessThan(0.1);
    }
    const big = {};
    let fired = 0;
    for (let w = 1; w <= 10 && fired === 0; w++) if (judgeFeatures(window(0.36), { budget: 0.001, sequential: big }).z.drift) fired = w;
    expect(fired).toBeGreaterThan(0);
  });
});
