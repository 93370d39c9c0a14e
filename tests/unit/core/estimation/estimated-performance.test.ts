import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../../../src/core/model/model-config.js';
import { EstimationProfileBuilder, estimationBuilderFor, withEstimation } from '../../../../src/core/profile/estimation-profile.js';
import { ReferenceProfileBuilder, parseProfile, serializeProfile } from '../../../../src/core/profile/reference-profile.js';
import { ReferencePerformanceBuilder, samplePerformance } from '../../../../src/core/performance/reference-performance.js';
import { EstimationSummary } from '../../../../src/core/performance/estimation-summary.js';
import { aucStandardError, estimatePerformance } from '../../../../src/core/performance/estimated-performance.js';
import { isotonicFit } from '../../../../src/core/stats/isotonic.js';
import { createPaneLayout } from '../../../../src/core/windows/pane-layout.js';
import { Pane } from '../../../../src/core/windows/pane.js';
import { evaluateWindow } from '../../../../src/core/drift/evaluate-window.js';
import { estimatedPerformanceConditions } from '../../../../src/core/drift/estimated-performance-conditions.js';
import { scoredRows, type ScoredRow } from './support.js';

const model = parseModelConfig({ modelId: 'cbpe', features: { x: 'numeric' }, prediction: 'score', windows: [{ name: '1m', size: '1m' }] });
const spec = { kind: 'score', positiveClass: '1', decisionThreshold: 0.5 } as const;

function profileOf(rows: ScoredRow[]) {
  const builder = new ReferenceProfileBuilder({ x: 'numeric', score: 'numeric' });
  const perf = new ReferencePerformanceBuilder(spec);
  const est = estimationBuilderFor(model);
  for (const r of rows) {
    builder.accept({ x: r.x, score: r.score });
    perf.accept(r);
    est?.accept(r.score, r.label);
  }
  const built = { ...builder.build({ createdAt: 0, id: 'ref' }), performance: perf.build() };
  return parseProfile(serializeProfile(withEstimation(built, est)));
}

const reference = profileOf(scoredRows(1, 10_000));
const layout = createPaneLayout(model, 'ref', reference);

function window(rows: ScoredRow[]): Pane {
  const pane = new Pane(layout, 0, 60_000);
  for (const r of rows) pane.accept({ x: r.x }, r.score, r.prediction, null);
  return pane;
}

function realized(rows: ScoredRow[]) {
  return samplePerformance(rows.map((r) => ({ prediction: r.prediction, score: r.score, label: r.label })), spec).metrics;
}

describe('isotonic regression (pool adjacent violators)', () => {
  it('pools violators into their weighted mean and leaves monotone runs alone', () => {
    expect(isotonicFit([1, 3, 2, 4], [1, 1, 1, 1])).toEqual([1, 2.5, 2.5, 4]);
    expect(isotonicFit([3, 1], [1, 3])).toEqual([1.5, 1.5]);
    expect(isotonicFit([0.1, 0.2, 0.9], [5, 5, 5])).toEqual([0.1, 0.2, 0.9]);
  });
});

describe('estimated performance (CBPE)', () => {
  it('estimates accuracy, F1 and ROC AUC within 0.02 of the realized values under a covariate shift that costs 0.08 accuracy', () => {
    // The realized accuracy of 2,000 events itself varies by 0.01 (sd) around its expectation: a perfect estimate is
    // within 0.02 of it in about 95% of windows. Over 20 windows: the mean error well inside 0.02, 85% of windows
    // within it, and the pooled 40,000 events' estimate within 0.015 of their realized value (what is left
    // is the calibration's own sampling error from a 10,000-row reference).
    const errors = { accuracy: [] as number[], f1: [] as number[], rocAuc: [] as number[] };
    const pooled = new Pane(layout, 0, 60_000);
    const all: ScoredRow[] = [];
    for (let seed = 10; seed < 30; seed++) {
      const rows = scoredRows(seed, 2000, 0.6);
      all.push(...rows);
      const pane = window(rows);
      pooled.merge(pane);
      const est = estimatePerformance(pane.estimation!);
      if (est.status !== 'estimated') throw new Error(est.reason);
      const truth = realized(rows);
      for (const m of ['accuracy', 'f1', 'rocAuc'] as const) errors[m].push(Math.abs(est.metrics[m]! - (truth[m] as number)));
      expect(est.metrics.accuracy!).toBeLessThan((reference.performance!.metrics.accuracy as number) - 0.05);
      const [lo, hi] = est.interval.accuracy!;
      expect(hi - lo).toBeCloseTo(2 * 1.96 * Math.sqrt((est.metrics.accuracy! * (1 - est.metrics.accuracy!)) / 2000), 6);
    }
    for (const e of Object.values(errors)) {
      expect(e.reduce((a, b) => a + b, 0) / e.length).toBeLessThan(0.015);
      expect(e.filter((x) => x < 0.02).length).toBeGreaterThanOrEqual(17);
    }
    const total = estimatePerformance(pooled.estimation!);
    if (total.status !== 'estimated') throw new Error(total.reason);
    const truth = realized(all);
    for (const m of ['accuracy', 'f1', 'rocAuc'] as const) expect(Math.abs(total.metrics[m]! - (truth[m] as number))).toBeLessThan(0.015);
  });

  it('recalibrates an overconfident score on the reference before estimating', () => {
    const ref = profileOf(scoredRows(2, 10_000, 1, true));
    const l = createPaneLayout(model, 'ref', ref);
    const rows = scoredRows(3, 2000, 0.6, true);
    const pane = new Pane(l, 0, 60_000);
    for (const r of rows) pane.accept({ x: r.x }, r.score, r.prediction, null);
    const est = estimatePerformance(pane.estimation!);
    if (est.status !== 'estimated') throw new Error(est.reason);
    expect(Math.abs(est.metrics.accuracy! - (realized(rows).accuracy as number))).toBeLessThan(0.02);
    expect(ref.estimation!.probability.every((p, i, a) => i === 0 || p >= a[i - 1])).toBe(true);
  });

  it('fires ESTIMATED_PERFORMANCE on the shifted windows, under the budget, and not on windows like the reference', () => {
    const shifted = evaluateWindow({ model, pane: window(scoredRows(30, 2000, 0.6)), windowName: '1m', windowStart: 0, windowEnd: 60_000, evaluatedAt: 0 });
    const accuracy = estimatedPerformanceConditions(shifted, model).find((c) => c.key === 'ESTIMATED_PERFORMANCE||accuracy');
    expect(accuracy?.severity).toBe('WARNING');
    expect(Number(accuracy?.measures.accuracy.details?.pValue)).toBeLessThan(Number(accuracy?.measures.accuracy.details?.level));
    let alarms = 0;
    for (let seed = 40; seed < 140; seed++) {
      const e = evaluateWindow({ model, pane: window(scoredRows(seed, 2000)), windowName: '1m', windowStart: 0, windowEnd: 60_000, evaluatedAt: 0 });
      if (estimatedPerformanceConditions(e, model).some((c) => c.severity !== 'NONE')) alarms++;
    }
    expect(alarms).toBe(0);
  });

  it('says why it cannot estimate: too few labels, a calibration that does not hold, no scores', () => {
    const few = new EstimationProfileBuilder({ positiveClass: '1', decisionThreshold: 0.5 });
    for (const r of scoredRows(4, 300)) few.accept(r.score, r.label);
    const fewProfile = few.build()!;
    expect(fewProfile.reliable).toBe(false);
    expect(fewProfile.reason).toMatch(/300 labelled rows/);
    const noise = new EstimationProfileBuilder({ positiveClass: '1', decisionThreshold: 0.5, maxCalibrationError: 0.001 });
    for (const r of scoredRows(5, 2000)) noise.accept(r.score, r.label);
    expect(noise.build()!.reason).toMatch(/does not hold on held-out/);
    const summary = new EstimationSummary({ profile: fewProfile, kind: 'score' });
    expect(estimatePerformance(summary)).toEqual({ status: 'unavailable', reason: fewProfile.reason });
    const good = new EstimationSummary({ profile: reference.estimation!, kind: 'score' });
    expect(estimatePerformance(good)).toEqual({ status: 'unavailable', reason: 'no scored events in the window' });
    const oneClass = new EstimationProfileBuilder({ positiveClass: '1', decisionThreshold: 0.5 });
    oneClass.accept(0.3, 0);
    expect(oneClass.build()).toBeUndefined();
  });

  it('keeps mergeable per-pane counts that survive a checkpoint', () => {
    const rows = scoredRows(6, 1000, 0.6);
    const whole = window(rows);
    const a = window(rows.slice(0, 400));
    const b = Pane.fromJSON(JSON.parse(JSON.stringify(window(rows.slice(400)).toJSON())), layout);
    const merged = Pane.empty(layout, 0, 60_000).merge(a).merge(b);
    expect(Array.from(merged.estimation!.counts)).toEqual(Array.from(whole.estimation!.counts));
    expect(estimatePerformance(merged.estimation!)).toEqual(estimatePerformance(whole.estimation!));
    expect(() => EstimationSummary.fromJSON([1, 2, 3], layout.estimation!)).toThrow(/do not match/);
  });

  it('Hanley-McNeil standard error', () => {
    // AUC 0.8 with 100 positives and 100 negatives: Q1 = 0.6667, Q2 = 0.7111, SE = 0.0310.
    expect(aucStandardError(0.8, 100, 100)).toBeCloseTo(0.031, 3);
  });
});
