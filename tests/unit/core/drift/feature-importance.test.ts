import { describe, expect, it } from 'vitest';
import { evaluateWindow } from '../../../../src/core/drift/evaluate-window.js';
import { deriveConditions } from '../../../../src/core/drift/alert-conditions.js';
import { byImportance, importanceWeights } from '../../../../src/core/model/feature-importance.js';
import { modelConfigToJson, parseModelConfig } from '../../../../src/core/model/model-config.js';
import { weightedDriftShare } from '../../../../src/core/stats/dataset-drift.js';
import { Pane } from '../../../../src/core/windows/pane.js';
import { row, rng, testLayout, testModel } from '../windows/fixtures.js';

function shiftedWindow(model = testModel()): { pane: Pane; model: typeof model } {
  const layout = testLayout(model);
  const r = rng(7);
  const pane = new Pane(layout, 0, 10_000);
  // x shifts, region's mix changes, y stays: two of three features drift.
  for (let i = 0; i < 3000; i++) {
    const e = row(r, { shift: 1, skewRegion: true });
    pane.accept(e.features, e.score, e.prediction, 'v1');
  }
  return { pane, model };
}

describe('feature importance', () => {
  it('is validated, kept and written back by the model configuration', () => {
    const m = parseModelConfig({ modelId: 'a', features: { x: 'numeric', y: 'numeric' }, importance: { x: 0.7, y: 0.3 }, datasetDriftWeightedShare: 0.6 });
    expect(m.importance).toEqual({ x: 0.7, y: 0.3 });
    expect(m.datasetDriftWeightedShare).toBe(0.6);
    expect(parseModelConfig(modelConfigToJson(m))).toEqual(m);
    expect(() => parseModelConfig({ modelId: 'a', features: { x: 'numeric' }, importance: { z: 1 } })).toThrow(/importance.z: is not a declared feature/);
    expect(() => parseModelConfig({ modelId: 'a', importance: { x: -1 } })).toThrow(/importance.x: expected a number >= 0/);
    expect(() => parseModelConfig({ modelId: 'a', datasetDriftWeightedShare: 2 })).toThrow(/datasetDriftWeightedShare/);
  });

  it('weighs the dataset drift share and orders features by it', () => {
    expect(weightedDriftShare([true, false, true], [0.5, 0.3, 0.2])).toBeCloseTo(0.7, 12);
    expect(weightedDriftShare([true], [0])).toBe(0);
    expect(importanceWeights(['a', 'b'], undefined)).toEqual([1, 1]);
    expect(importanceWeights(['a', 'b'], { b: 2 })).toEqual([0, 2]);
    expect(byImportance(['a', 'b', 'c'], { c: 3, a: 1 })).toEqual(['c', 'a', 'b']);
  });

  it('drifts the dataset on the weighted share alone when its threshold is reached', () => {
    // Plain share 2/3 is below 0.9; the weighted share (x and region carry 0.95) reaches 0.9.
    const { pane, model } = shiftedWindow(testModel({ datasetDriftShare: 0.9, importance: { x: 0.05, region: 0.9, y: 0.05 }, datasetDriftWeightedShare: 0.9 }));
    const e = evaluateWindow({ model, pane, windowName: '10s', windowStart: 0, windowEnd: 10_000, evaluatedAt: 1 });
    expect(e.datasetDrift.share).toBeCloseTo(2 / 3, 9);
    expect(e.datasetDrift.weightedShare).toBeCloseTo(0.95, 9);
    expect(e.datasetDrift.drift).toBe(true);
    expect(e.features.region.importance).toBe(0.9);
    const dataset = deriveConditions(e, model, pane).find((c) => c.kind === 'DATASET_DRIFT')!;
    expect(dataset.severity).not.toBe('NONE');
    expect(dataset.triggered).toEqual(['weightedShare']);
    // The most important drifting feature comes first.
    expect(dataset.measures.weightedShare.details!.driftingFeatures).toBe('region,x');
    const x = deriveConditions(e, model, pane).find((c) => c.key === 'FEATURE_DRIFT|x')!;
    expect(x.measures.wasserstein.details!.importance).toBe('0.05');
  });

  it('leaves the dataset clean when neither share reaches its threshold', () => {
    const { pane, model } = shiftedWindow(testModel({ datasetDriftShare: 0.9, importance: { x: 0.05, region: 0.05, y: 0.9 }, datasetDriftWeightedShare: 0.5 }));
    const e = evaluateWindow({ model, pane, windowName: '10s', windowStart: 0, windowEnd: 10_000, evaluatedAt: 1 });
    expect(e.datasetDrift.weightedShare).toBeCloseTo(0.1, 9);
    expect(e.datasetDrift.drift).toBe(false);
  });
});
