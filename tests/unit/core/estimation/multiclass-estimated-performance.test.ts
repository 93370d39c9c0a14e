import { describe, expect, it } from 'vitest';
import { modelConfigToJson, parseModelConfig } from '../../../../src/core/model/model-config.js';
import { EstimationProfileBuilder, estimationBuilderFor, withEstimation } from '../../../../src/core/profile/estimation-profile.js';
import { ReferenceProfileBuilder, parseProfile, serializeProfile } from '../../../../src/core/profile/reference-profile.js';
import { ReferencePerformanceBuilder, samplePerformance } from '../../../../src/core/performance/reference-performance.js';
import { estimatePerformance } from '../../../../src/core/performance/estimated-performance.js';
import { createPaneLayout } from '../../../../src/core/windows/pane-layout.js';
import { Pane } from '../../../../src/core/windows/pane.js';
import { evaluateWindow } from '../../../../src/core/drift/evaluate-window.js';
import { estimatedPerformanceConditions } from '../../../../src/core/drift/estimated-performance-conditions.js';
import { classRows, type ClassRow } from './support.js';

const model = parseModelConfig({
  modelId: 'cbpe-multi',
  features: { x: 'numeric' },
  prediction: 'class',
  positiveClass: 'a',
  scoreOf: 'predictedClass',
  windows: [{ name: '1m', size: '1m' }],
});
const spec = { kind: 'class', positiveClass: 'a', decisionThreshold: 0.5 } as const;
const REFERENCE_MIX = [0.5, 0.3, 0.2] as const; // expected accuracy 0.5 * 0.8 + 0.3 * 0.6 + 0.2 * 0.5 = 0.68
const SHIFTED_MIX = [0.2, 0.3, 0.5] as const; // 0.2 * 0.8 + 0.3 * 0.6 + 0.5 * 0.5 = 0.59

function profileOf(rows: ClassRow[]) {
  const builder = new ReferenceProfileBuilder({ x: 'numeric', score: 'numeric', prediction: 'categorical' });
  const perf = new ReferencePerformanceBuilder(spec);
  const est = estimationBuilderFor(model);
  for (const r of rows) {
    builder.accept({ x: r.x, score: r.score, prediction: r.prediction });
    perf.accept(r);
    est?.accept(r.score, r.label, r.prediction);
  }
  const built = { ...builder.build({ createdAt: 0, id: 'ref' }), performance: perf.build() };
  return parseProfile(serializeProfile(withEstimation(built, est)));
}

const reference = profileOf(classRows(1, 20_000, REFERENCE_MIX));
const layout = createPaneLayout(model, 'ref', reference);

function window(rows: ClassRow[]): Pane {
  const pane = new Pane(layout, 0, 60_000);
  for (const r of rows) pane.accept({ x: r.x }, r.score, r.prediction, null);
  return pane;
}

function estimated(pane: Pane) {
  const e = estimatePerformance(pane.estimation!);
  if (e.status !== 'estimated') throw new Error(e.reason);
  return e;
}

describe('estimated performance of a multi-class model (score = the predicted class probability)', () => {
  it('calibrates P(prediction right | score) on the reference and keeps its label classes', () => {
    const e = reference.estimation!;
    expect(e.classes).toEqual(['a', 'b', 'c']);
    expect(e.reliable).toBe(true);
    expect(e.labelled).toBe(20_000);
    // The score is calibrated: the fitted probability at a bin tracks the bin's score.
    const mid = e.probability[Math.floor(e.probability.length / 2)];
    const lo = e.edges[Math.floor(e.edges.length / 2) - 1];
    const hi = e.edges[Math.floor(e.edges.length / 2)];
    expect(mid).toBeGreaterThan(lo - 0.05);
    expect(mid).toBeLessThan(hi + 0.05);
  });

  it('estimates the accuracy and each class precision under a shift of the predicted classes that costs 0.09 accuracy', () => {
    const rows = classRows(7, 20_000, SHIFTED_MIX);
    const e = estimated(window(rows));
    expect(e.n).toBe(20_000);
    // Known truth: accuracy 0.59, precision of a / b / c 0.8 / 0.6 / 0.5.
    expect(Math.abs(e.metrics.accuracy! - 0.59)).toBeLessThan(0.01);
    expect(Math.abs(e.perClass!.a.precision! - 0.8)).toBeLessThan(0.015);
    expect(Math.abs(e.perClass!.b.precision! - 0.6)).toBeLessThan(0.015);
    expect(Math.abs(e.perClass!.c.precision! - 0.5)).toBeLessThan(0.015);
    expect(e.perClass!.a.predicted + e.perClass!.b.predicted + e.perClass!.c.predicted).toBe(20_000);
    // The positive class's precision is the one-vs-rest precision, as realized; recall, F1, ROC AUC are not estimated.
    expect(e.metrics.precision).toBe(e.perClass!.a.precision);
    expect([e.metrics.recall, e.metrics.f1, e.metrics.rocAuc]).toEqual([null, null, null]);
    expect(e.confusion).toBeUndefined();
    // And against this window's realized values (sd of 20,000 events' accuracy: 0.0035).
    const realized = samplePerformance(rows, spec).metrics;
    expect(Math.abs(e.metrics.accuracy! - (realized.accuracy as number))).toBeLessThan(0.015);
    expect(Math.abs(e.metrics.precision! - (realized.precision as number))).toBeLessThan(0.02);
    expect(e.interval.accuracy![0]).toBeLessThan(e.metrics.accuracy!);
  });

  it('fires ESTIMATED_PERFORMANCE on accuracy for the shifted window and not for windows like the reference', () => {
    const shifted = evaluateWindow({ model, pane: window(classRows(8, 2000, SHIFTED_MIX)), windowName: '1m', windowStart: 0, windowEnd: 60_000, evaluatedAt: 0 });
    const accuracy = estimatedPerformanceConditions(shifted, model).find((c) => c.key === 'ESTIMATED_PERFORMANCE||accuracy');
    expect(accuracy?.severity).toBe('WARNING');
    let alarms = 0;
    for (let seed = 40; seed < 90; seed++) {
      const e = evaluateWindow({ model, pane: window(classRows(seed, 2000, REFERENCE_MIX)), windowName: '1m', windowStart: 0, windowEnd: 60_000, evaluatedAt: 0 });
      if (estimatedPerformanceConditions(e, model).some((c) => c.severity !== 'NONE')) alarms++;
    }
    expect(alarms).toBe(0);
  });

  it('keeps mergeable per-pane counts by class that survive a checkpoint; unknown predictions pool', () => {
    const rows = classRows(9, 1000, SHIFTED_MIX);
    rows[0] = { ...rows[0], prediction: 'z' };
    const whole = window(rows);
    expect(whole.estimation!.columns).toBe(4);
    const a = window(rows.slice(0, 400));
    const b = Pane.fromJSON(JSON.parse(JSON.stringify(window(rows.slice(400)).toJSON())), layout);
    const merged = Pane.empty(layout, 0, 60_000).merge(a).merge(b);
    expect(Array.from(merged.estimation!.counts)).toEqual(Array.from(whole.estimation!.counts));
    expect(estimatePerformance(merged.estimation!)).toEqual(estimatePerformance(whole.estimation!));
    const e = estimated(whole);
    expect(e.n).toBe(1000);
    expect(e.perClass!.a.predicted + e.perClass!.b.predicted + e.perClass!.c.predicted).toBe(999);
  });

  it('leaves out rows without a prediction and says when the model is always right', () => {
    const b = new EstimationProfileBuilder({ positiveClass: 'a', decisionThreshold: 0.5, scoreOf: 'predictedClass' });
    b.accept(0.9, 'a', null);
    b.accept(0.9, 'a', 'a');
    expect(b.build()).toBeUndefined();
  });

  it('accepts scoreOf predictedClass only for class models', () => {
    expect(() => parseModelConfig({ modelId: 'm', prediction: 'score', scoreOf: 'predictedClass', windows: [{ name: '1m', size: '1m' }] })).toThrow(/scoreOf: predictedClass needs prediction "class"/);
    expect(() => parseModelConfig({ modelId: 'm', prediction: 'class', scoreOf: 'label', windows: [{ name: '1m', size: '1m' }] })).toThrow(/scoreOf: expected/);
    expect(parseModelConfig({ modelId: 'm', prediction: 'class', windows: [{ name: '1m', size: '1m' }] }).scoreOf).toBeUndefined();
    expect(modelConfigToJson(model).scoreOf).toBe('predictedClass');
    expect(parseModelConfig(modelConfigToJson(model))).toEqual(model);
  });
});
