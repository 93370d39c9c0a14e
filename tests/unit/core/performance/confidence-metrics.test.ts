import { describe, expect, it } from 'vitest';
import { PerformanceCounters } from '../../../../src/core/performance/counters.js';
import { summarizePerformance } from '../../../../src/core/performance/metrics.js';
import { ReferencePerformanceBuilder } from '../../../../src/core/performance/reference-performance.js';
import { toInferenceRecord, toLabelRecord, type PerformanceSpec } from '../../../../src/core/performance/records.js';
import { classRows, type ClassRow } from '../estimation/support.js';

/** A multi-class model whose score is the confidence of its predicted class. */
const CONFIDENCE: PerformanceSpec = { kind: 'class', positiveClass: 'a', decisionThreshold: 0.5, scoreOf: 'predictedClass' };

function countersOf(rows: readonly ClassRow[], spec: PerformanceSpec): PerformanceCounters {
  const c = new PerformanceCounters();
  rows.forEach((row, i) => {
    const r = toInferenceRecord({ eventId: `e${i}`, modelId: 'm', timestamp: 0, prediction: row.prediction, score: row.score }, spec, [60_000]);
    c.acceptPrediction(r).acceptLabel(r, toLabelRecord({ eventId: `e${i}`, modelId: 'm', timestamp: 1000, label: row.label }));
  });
  return c;
}

/** Brier and ROC AUC of the confidence against "the prediction was right", pair by pair (no histograms). */
function exactConfidenceMetrics(rows: readonly ClassRow[]): { brier: number; auc: number } {
  let sq = 0;
  const right: number[] = [];
  const wrong: number[] = [];
  for (const r of rows) {
    const ok = r.prediction === r.label ? 1 : 0;
    sq += (r.score - ok) ** 2;
    (ok ? right : wrong).push(r.score);
  }
  let wins = 0;
  for (const s of right) for (const t of wrong) wins += s > t ? 1 : s === t ? 0.5 : 0;
  return { brier: sq / rows.length, auc: wins / (right.length * wrong.length) };
}

describe('realized performance of a model whose score is the predicted class\'s confidence', () => {
  const rows = classRows(11, 4000, [0.5, 0.3, 0.2]);
  const exact = exactConfidenceMetrics(rows);
  const summary = summarizePerformance(countersOf(rows, CONFIDENCE), CONFIDENCE);

  it('measures Brier against whether the prediction was right, not against the positive class', () => {
    expect(summary.metrics.brier).toBeCloseTo(exact.brier, 9);
    // The model is calibrated: its expected Brier score is E[c (1 - c)] over the confidences.
    const expected = rows.reduce((s, r) => s + r.score * (1 - r.score), 0) / rows.length;
    expect(Math.abs(summary.metrics.brier! - expected)).toBeLessThan(0.01);
  });

  it('gives the ROC AUC of the confidence for right against wrong predictions, within its histogram bound', () => {
    const auc = summary.metrics.confidenceAuc!;
    expect(Math.abs(auc - exact.auc)).toBeLessThanOrEqual(summary.metrics.confidenceAucErrorBound! + 1e-12);
    expect(auc).toBeGreaterThan(0.6);
  });

  it('has no one-vs-rest ROC AUC, and says why', () => {
    expect(summary.metrics.rocAuc).toBeNull();
    expect(summary.unavailable?.rocAuc).toMatch(/every class's probability/);
  });

  it('counts no score outcome for a confidence without its predicted class', () => {
    const c = countersOf([{ x: 0, score: 0.9, label: 'a', prediction: null as unknown as string }], CONFIDENCE);
    expect(c.get('bn')).toBe(0);
    expect(summarizePerformance(c, CONFIDENCE).metrics.brier).toBeNull();
  });

  it('keeps the reference performance on the same reading', () => {
    const b = new ReferencePerformanceBuilder(CONFIDENCE);
    for (const r of rows) b.accept(r);
    const ref = b.build()!;
    expect(ref.metrics.brier).toBeCloseTo(exact.brier, 9);
    expect(ref.metrics.rocAuc).toBeNull();
    expect(ref.metrics.confidenceAuc).toBeCloseTo(summary.metrics.confidenceAuc!, 12);
  });

  it('leaves a positive-class score as it was', () => {
    const spec: PerformanceSpec = { kind: 'class', positiveClass: 'a', decisionThreshold: 0.5 };
    const s = summarizePerformance(countersOf(rows, spec), spec);
    const positive = rows.reduce((sum, r) => sum + (r.score - (r.label === 'a' ? 1 : 0)) ** 2, 0) / rows.length;
    expect(s.metrics.brier).toBeCloseTo(positive, 9);
    expect(s.metrics.rocAuc).not.toBeNull();
    expect(s.unavailable).toBeUndefined();
  });
});
