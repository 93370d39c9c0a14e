import { describe, expect, it } from 'vitest';
import { evaluateWindow } from '../../../../src/core/drift/evaluate-window.js';
import { deriveConditions } from '../../../../src/core/drift/alert-conditions.js';
import { evaluationIdOf } from '../../../../src/core/drift/ids.js';
import { Pane } from '../../../../src/core/windows/pane.js';
import { row, rng, testLayout, testModel } from '../windows/fixtures.js';

const model = testModel();
const layout = testLayout(model);

function window(n: number, opts: { shift?: number; skewRegion?: boolean; seed?: number; missingY?: number } = {}): Pane {
  const r = rng(opts.seed ?? 99);
  const p = new Pane(layout, 0, 10_000);
  for (let i = 0; i < n; i++) {
    const e = row(r, opts);
    if (opts.missingY && r() < opts.missingY) e.features.y = null;
    p.accept(e.features, e.score, e.prediction, 'v2');
  }
  return p;
}

function evaluate(p: Pane) {
  return evaluateWindow({ model, pane: p, windowName: '10s', windowStart: 0, windowEnd: 10_000, evaluatedAt: 5 });
}

describe('evaluateWindow', () => {
  it('finds no drift in a window from the reference distribution', () => {
    const e = evaluate(window(3000));
    expect(e.evaluationId).toBe(evaluationIdOf('m1', '10s', 0));
    expect(e.sampleSize).toBe(3000);
    expect(e.alertable).toBe(true);
    expect(e.modelVersion).toBe('v2');
    expect(e.referenceId).toBe('ref-1');
    for (const f of ['x', 'y', 'region']) expect(e.features[f].severity).toBe('NONE');
    expect(e.datasetDrift).toEqual({ share: 0, drift: false, weightedShare: 0 });
    expect(e.prediction?.score.severity).toBe('NONE');
    expect(e.prediction?.prediction.severity).toBe('NONE');
    expect(e.proxy?.positiveRate).toBeGreaterThan(0.4);
    expect(deriveConditions(e, model, window(3000)).filter((c) => c.severity !== 'NONE')).toEqual([]);
  });

  it('flags a shifted numeric feature, a changed category mix, the score and the dataset', () => {
    const p = window(3000, { shift: 1, skewRegion: true });
    const e = evaluate(p);
    expect(e.features.x.severity).toBe('CRITICAL');
    expect(e.features.x.psi).toBeGreaterThan(0.25);
    expect(e.features.region.severity).toBe('CRITICAL');
    expect(e.features.y.severity).toBe('NONE');
    expect(e.prediction?.score.drift).toBe(true);
    expect(e.datasetDrift.share).toBeCloseTo(2 / 3, 9);
    const firing = deriveConditions(e, model, p).filter((c) => c.severity !== 'NONE');
    expect(firing.map((c) => c.key).sort()).toEqual(
      ['DATASET_DRIFT|', 'FEATURE_DRIFT|region', 'FEATURE_DRIFT|x', 'PREDICTION_DRIFT|prediction', 'PREDICTION_DRIFT|score'].sort(),
    );
    // The alert names the effect that crossed its floor and carries the evidence behind it.
    const x = firing.find((c) => c.key === 'FEATURE_DRIFT|x')!;
    expect(x.triggered[0]).toBe('wasserstein');
    expect(x.measures.wasserstein.value).toBeGreaterThanOrEqual(0.2);
    expect(Number(x.measures.wasserstein.details!.pValue)).toBeLessThanOrEqual(Number(x.measures.wasserstein.details!.level));
    expect(x.measures.wasserstein.details!.n).toBe('3000');
    expect(e.features.region.verdict?.metric).toBe('totalVariation');
  });

  it('reports data quality: missing rate, out-of-range share, new categories, type errors', () => {
    const p = window(2000, { missingY: 0.4 });
    p.accept({ x: 1e6, y: 1, region: 'atlantis' }, 0.5, '1', null);
    for (let i = 0; i < 150; i++) p.accept({ x: 0, y: 10, region: 'atlantis' }, 0.5, '1', null);
    for (let i = 0; i < 50; i++) p.countTypeError();
    const e = evaluate(p);
    expect(e.dataQuality!.missingRate.y).toBeGreaterThan(0.35);
    expect(e.dataQuality!.outOfRange.x).toBeCloseTo(1 / 2151, 9);
    expect(e.dataQuality!.newCategories.region).toEqual(['atlantis']);
    expect(e.dataQuality!.typeErrors).toBe(50);
    const dq = deriveConditions(e, model, p).filter((c) => c.kind === 'DATA_QUALITY' && c.severity !== 'NONE');
    expect(dq.map((c) => `${c.key}:${c.severity}`).sort()).toEqual([
      'DATA_QUALITY|y|missingRate:CRITICAL',
      'DATA_QUALITY||typeErrors:WARNING',
      'DATA_QUALITY|region|newCategories:WARNING',
    ].sort());
  });

  it('reports but never makes alertable a window below minSamples', () => {
    const e = evaluate(window(50, { shift: 3 }));
    expect(e.alertable).toBe(false);
    expect(e.features.x.severity).toBe('NONE');
    expect(e.features.x.psi).toBeGreaterThan(1);
  });
});
