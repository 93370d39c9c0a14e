import { describe, expect, it } from 'vitest';
import {
  applyBenjaminiHochberg,
  benjaminiHochberg,
  classify,
  evaluateDataset,
  evaluateFeature,
  alignCategories,
  type FeatureEvaluation,
} from '../../../../src/core/drift/severity.js';
import { DEFAULT_THRESHOLDS, resolveThresholds } from '../../../../src/core/drift/thresholds.js';
import { ReferenceProfileBuilder, createSummary, type CategoricalFeatureProfile } from '../../../../src/core/profile/reference-profile.js';
import { CategoricalSummary, OTHER_CATEGORY } from '../../../../src/core/stats/categorical-summary.js';
import { NumericSummary } from '../../../../src/core/stats/numeric-summary.js';
import { GENERATORS } from './generators.js';

function numeric(overrides: Partial<FeatureEvaluation>): FeatureEvaluation {
  return {
    type: 'numeric',
    nReference: 10_000,
    nCurrent: 10_000,
    missing: 0,
    missingRate: 0,
    psi: 0,
    ks: { statistic: 0, pValue: 1, errorBound: 0 },
    wassersteinNormed: 0,
    jensenShannon: 0,
    hellinger: 0,
    drift: false,
    severity: 'NONE',
    triggered: [],
    belowMinSamples: false,
    ...overrides,
  };
}

function categorical(overrides: Partial<FeatureEvaluation>): FeatureEvaluation {
  return numeric({ type: 'categorical', ks: undefined, wassersteinNormed: undefined, chiSquare: { statistic: 0, pValue: 1, dof: 3 }, newCategories: [], ...overrides });
}

describe('classify (DESIGN.md section 4 defaults)', () => {
  it('PSI: >= 0.1 WARNING, >= 0.25 CRITICAL', () => {
    expect(classify(numeric({ psi: 0.099 })).severity).toBe('NONE');
    expect(classify(numeric({ psi: 0.1 })).severity).toBe('WARNING');
    expect(classify(numeric({ psi: 0.25 })).severity).toBe('CRITICAL');
    expect(classify(numeric({ psi: 0.3 })).triggered).toEqual(['psi']);
  });

  it('KS needs both significance and effect size', () => {
    expect(classify(numeric({ ks: { statistic: 0.05, pValue: 1e-30, errorBound: 0 } })).severity).toBe('NONE');
    expect(classify(numeric({ ks: { statistic: 0.15, pValue: 0.01, errorBound: 0 } })).severity).toBe('WARNING');
    expect(classify(numeric({ ks: { statistic: 0.25, pValue: 0.01, errorBound: 0 } })).severity).toBe('WARNING');
    expect(classify(numeric({ ks: { statistic: 0.25, pValue: 1e-4, errorBound: 0 } })).severity).toBe('CRITICAL');
    expect(classify(numeric({ ks: { statistic: 0.5, pValue: 0.2, errorBound: 0 } })).severity).toBe('NONE');
  });

  it('chi-square is gated by PSI', () => {
    expect(classify(categorical({ psi: 0.02, chiSquare: { statistic: 50, pValue: 1e-9, dof: 3 } })).severity).toBe('NONE');
    const w = classify(categorical({ psi: 0.12, chiSquare: { statistic: 50, pValue: 1e-9, dof: 3 } }));
    expect(w.severity).toBe('WARNING');
    expect(w.triggered.sort()).toEqual(['chiSquare', 'psi']);
    expect(classify(categorical({ psi: 0.3, chiSquare: { statistic: 500, pValue: 1e-90, dof: 3 } })).severity).toBe('CRITICAL');
  });

  it('Wasserstein, JS and Hellinger are reported, and join the verdict only when enabled', () => {
    const r = numeric({ wassersteinNormed: 0.5, jensenShannon: 0.5, hellinger: 0.5 });
    expect(classify(r).severity).toBe('NONE');
    const t = resolveThresholds({ thresholds: { wasserstein: { enabled: true } } });
    expect(classify(r, t).severity).toBe('CRITICAL');
    expect(classify(r, t).triggered).toEqual(['wasserstein']);
  });

  it('below minSamples: reported, never in drift', () => {
    const r = classify(numeric({ nCurrent: 99, psi: 2 }));
    expect(r.severity).toBe('NONE');
    expect(r.drift).toBe(false);
    expect(r.belowMinSamples).toBe(true);
    expect(r.psi).toBe(2);
    expect(classify(numeric({ nCurrent: 99, psi: 2 }), resolveThresholds({ minSamples: 50 })).severity).toBe('CRITICAL');
  });

  it('NaN statistics never fire', () => {
    expect(classify(numeric({ psi: NaN, ks: { statistic: NaN, pValue: NaN, errorBound: NaN } })).severity).toBe('NONE');
  });
});

describe('resolveThresholds', () => {
  it('merges defaults, model and feature overrides field by field', () => {
    const model = {
      minSamples: 500,
      thresholds: { psi: { warning: 0.15 }, ks: { effectSize: { critical: 0.3 } } },
      featureThresholds: { age: { psi: { warning: 0.2, critical: 0.4 } } },
    };
    const base = resolveThresholds(model);
    expect(base.minSamples).toBe(500);
    expect(base.psi).toEqual({ warning: 0.15, critical: 0.25, enabled: true });
    expect(base.ks.effectSize).toEqual({ warning: 0.1, critical: 0.3 });
    expect(base.ks.warning).toBe(0.05);
    const age = resolveThresholds(model, 'age');
    expect(age.psi).toEqual({ warning: 0.2, critical: 0.4, enabled: true });
    expect(resolveThresholds(model, 'other').psi.warning).toBe(0.15);
    expect(Object.isFrozen(age.psi)).toBe(true);
    expect(DEFAULT_THRESHOLDS.psi.warning).toBe(0.1);
  });
});

describe('evaluateFeature', () => {
  const builder = new ReferenceProfileBuilder({ x: 'numeric', c: 'categorical' });
  const ref = GENERATORS.normal(20_000, 1);
  for (let i = 0; i < ref.length; i++) builder.accept({ x: ref[i], c: ['a', 'b', 'c'][i % 3] });
  const profile = builder.build({ createdAt: 0 });

  it('is zero on the reference itself', () => {
    const s = createSummary(profile.features.x) as NumericSummary;
    for (const v of ref) s.accept(v);
    const r = evaluateFeature(profile.features.x, s);
    expect(r.psi).toBeCloseTo(0, 12);
    // The reference digest is built from sorted values and the window's in
    // arrival order, so centroids differ slightly: near zero, within the bound.
    expect(r.ks!.statistic).toBeLessThan(Math.min(0.005, r.ks!.errorBound));
    expect(r.wassersteinNormed).toBeLessThan(0.005);
    expect(r.jensenShannon).toBeCloseTo(0, 6);
    expect(r.hellinger).toBeCloseTo(0, 6);
    expect(r.severity).toBe('NONE');
    expect(r.nReference).toBe(20_000);
    expect(r.nCurrent).toBe(20_000);
  });

  it('flags a mean shift as CRITICAL through PSI and KS', () => {
    const s = createSummary(profile.features.x) as NumericSummary;
    for (const v of GENERATORS.normal(5_000, 2)) s.accept(v + 1);
    s.accept(null);
    const r = evaluateFeature(profile.features.x, s);
    expect(r.severity).toBe('CRITICAL');
    expect(r.drift).toBe(true);
    expect(r.triggered.sort()).toEqual(['ks', 'psi']);
    expect(r.missing).toBe(1);
    expect(r.missingRate).toBeCloseTo(1 / 5001, 12);
    expect(r.wassersteinNormed).toBeCloseTo(1, 1);
  });

  it('rejects a summary on other edges or of the other type', () => {
    expect(() => evaluateFeature(profile.features.x, new NumericSummary([0]))).toThrow(RangeError);
    expect(() => evaluateFeature(profile.features.x, new CategoricalSummary())).toThrow(TypeError);
    expect(() => evaluateFeature(profile.features.c, createSummary(profile.features.x))).toThrow(TypeError);
  });

  it('reports new categories and leaves out numeric-only fields', () => {
    const s = createSummary(profile.features.c) as CategoricalSummary;
    for (let i = 0; i < 3000; i++) s.accept(i % 10 === 0 ? 'zz' : ['a', 'b', 'c'][i % 3]);
    const r = evaluateFeature(profile.features.c, s);
    expect(r.newCategories).toEqual(['zz']);
    expect(r.ks).toBeUndefined();
    expect(r.chiSquare!.dof).toBe(3);
    expect(r.drift).toBe(true);
  });
});

describe('alignCategories', () => {
  it('compares unknown categories against __other__ when the reference folded some', () => {
    const ref: CategoricalFeatureProfile = {
      type: 'categorical', count: 100, missing: 0, missingRate: 0, topK: 2,
      categories: { a: 60, b: 30, [OTHER_CATEGORY]: 10 },
    };
    const cur = new CategoricalSummary({ topK: 2 });
    for (const v of ['a', 'b', 'q', 'r']) cur.accept(v);
    const al = alignCategories(ref, cur);
    expect(al.newCategories).toEqual([]);
    expect(al.categories).toEqual(['a', 'b', OTHER_CATEGORY]);
    expect(al.reference).toEqual([60, 30, 10]);
    expect(al.current).toEqual([1, 1, 2]);
  });
});

describe('dataset drift and Benjamini-Hochberg', () => {
  it('evaluateDataset takes the share of drifting features', () => {
    expect(evaluateDataset({ a: { drift: true }, b: { drift: false } })).toEqual({ driftShare: 0.5, drift: true });
    expect(evaluateDataset([{ drift: true }, { drift: false }, { drift: false }]).drift).toBe(false);
    expect(evaluateDataset([{ drift: true }, { drift: false }, { drift: false }], 0.3).drift).toBe(true);
  });

  it('benjaminiHochberg matches the textbook step-up', () => {
    const adj = benjaminiHochberg([0.01, 0.04, 0.03, 0.005]);
    expect(adj[3]).toBeCloseTo(0.02, 12);
    expect(adj[0]).toBeCloseTo(0.02, 12);
    expect(adj[2]).toBeCloseTo(0.04, 12);
    expect(adj[1]).toBeCloseTo(0.04, 12);
  });

  it('applyBenjaminiHochberg re-classifies with adjusted p-values', () => {
    const results: Record<string, FeatureEvaluation> = {};
    for (let i = 0; i < 20; i++) results[`f${i}`] = classify(numeric({ ks: { statistic: 0.15, pValue: i === 0 ? 0.04 : 0.9, errorBound: 0 } }));
    expect(results.f0.severity).toBe('WARNING');
    const adjusted = applyBenjaminiHochberg(results);
    expect(adjusted.f0.severity).toBe('NONE');
    expect(adjusted.f0.ks!.pValue).toBeCloseTo(0.8, 12);
    expect(adjusted.f0.pValueAdjustment).toBe('benjamini-hochberg');
    expect(results.f0.ks!.pValue).toBe(0.04);
  });
});
