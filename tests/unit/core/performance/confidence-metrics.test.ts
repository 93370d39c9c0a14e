import { describe, expect, it } from 'vitest';
import { PerformanceCounters } from '../../../../src/core/performance/counters.js';
import { summarizePerformance } from '../../../../src/core/performance/metrics.js';
import { ReferencePerformanceBuilder } from '../../../../src/core/performance/reference-performance.js';
import { toInferenceRecord, toLabelRecord, type PerformanceSpec } from '../../../../src/core/performance/records.js';
import { classRows, type ClassRow } from '../estimation/support.js';
import { performanceConditions } from '../../../../src/core/drift/performance-alerts.js';
import { DEFAULT_PERFORMANCE_CONFIG } from '../../../../src/core/model/performance-config.js';
import { mulberry32 } from '../../../../src/core/random.js';

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

describe('alerts on the confidence of a scoreOf: predictedClass model', () => {
  const reference = (() => {
    const b = new ReferencePerformanceBuilder(CONFIDENCE);
    for (const r of classRows(11, 4000, [0.5, 0.3, 0.2])) b.accept(r);
    return b.build()!;
  })();

  it('fires when the confidence no longer tells right from wrong predictions', () => {
    // Same predictions and labels, but the confidences shuffled: accuracy holds, the confidence's AUC falls to about 0.5.
    const rows = classRows(12, 4000, [0.5, 0.3, 0.2]);
    const u = mulberry32(5);
    const scores = rows.map((r) => r.score);
    for (let i = scores.length - 1; i > 0; i--) {
      const j = Math.floor(u() * (i + 1));
      [scores[i], scores[j]] = [scores[j], scores[i]];
    }
    const shuffled = rows.map((r, i) => ({ ...r, score: scores[i] }));
    const current = summarizePerformance(countersOf(shuffled, CONFIDENCE), CONFIDENCE).metrics;
    expect(reference.metrics.confidenceAuc! - current.confidenceAuc!).toBeGreaterThan(0.1);
    const byKey = Object.fromEntries(performanceConditions(current, reference, DEFAULT_PERFORMANCE_CONFIG, 4000).map((c) => [c.key, c]));
    expect(byKey['PERFORMANCE||confidenceAuc'].severity).toBe('CRITICAL');
    expect(byKey['PERFORMANCE||confidenceAuc'].triggered).toEqual(['confidenceAuc']);
    expect(byKey['PERFORMANCE||accuracy'].severity).toBe('NONE');
  });

  it('stays quiet on a window like the reference', () => {
    const current = summarizePerformance(countersOf(classRows(13, 4000, [0.5, 0.3, 0.2]), CONFIDENCE), CONFIDENCE).metrics;
    const c = performanceConditions(current, reference, DEFAULT_PERFORMANCE_CONFIG, 4000).find((x) => x.key === 'PERFORMANCE||confidenceAuc');
    expect(c?.severity).toBe('NONE');
  });
});
