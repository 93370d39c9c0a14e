import { describe, expect, it } from 'vitest';
import { degradation, performanceAlertable, performanceConditions } from '../../../../src/core/drift/performance-alerts.js';
import { DEFAULT_PERFORMANCE_CONFIG, parsePerformanceConfig, performanceConfigToJson } from '../../../../src/core/model/performance-config.js';
import { AlertTracker } from '../../../../src/core/drift/alert-tracker.js';
import { parseModelConfig, modelConfigToJson } from '../../../../src/core/model/index.js';
import { ReferencePerformanceBuilder, type ReferencePerformance } from '../../../../src/core/performance/reference-performance.js';
import type { Evaluation } from '../../../../src/core/drift/types.js';
import { binaryOracle } from '../performance/oracle.js';

const REF: ReferencePerformance = { labelled: 5000, kind: 'score', positiveClass: '1', metrics: { accuracy: 0.9, f1: 0.8, rocAuc: 0.95, precision: 0.85, brier: 0.08 } };

function evaluation(windowStart: number, labelled: number): Evaluation {
  return {
    evaluationId: `e${windowStart}`,
    modelId: 'm',
    modelVersion: null,
    windowName: '1m',
    windowStart,
    windowEnd: windowStart + 60_000,
    sampleSize: labelled,
    referenceId: 'r',
    evaluatedAt: 0,
    datasetDrift: { share: 0, drift: false },
    features: {},
    alertable: performanceAlertable(labelled, DEFAULT_PERFORMANCE_CONFIG),
  };
}

describe('performance conditions', () => {
  it('grade drops below the reference with the default levels', () => {
    const c = performanceConditions({ accuracy: 0.86, f1: 0.69, rocAuc: 0.951, precision: 0.1, brier: 0.5 }, REF, DEFAULT_PERFORMANCE_CONFIG, 500);
    const by = Object.fromEntries(c.map((x) => [x.key, x]));
    expect(by['PERFORMANCE||accuracy'].severity).toBe('NONE');
    expect(by['PERFORMANCE||f1'].severity).toBe('CRITICAL');
    expect(by['PERFORMANCE||f1'].measures.f1.value).toBeCloseTo(0.11, 12);
    expect(by['PERFORMANCE||f1'].measures.f1.details).toMatchObject({ current: '0.69', reference: '0.8' });
    expect(by['PERFORMANCE||rocAuc'].severity).toBe('NONE');
    // Precision and Brier are reported but do not alert by default.
    expect(by['PERFORMANCE||precision']).toBeUndefined();
    expect(by['PERFORMANCE||brier']).toBeUndefined();
    expect(performanceConditions({ accuracy: 0.84 }, REF, DEFAULT_PERFORMANCE_CONFIG, 500)[0].severity).toBe('WARNING');
  });

  it('grade relative rises of error metrics', () => {
    const ref: ReferencePerformance = { labelled: 100, kind: 'regression', positiveClass: '1', metrics: { rmse: 2, mae: 1.5 } };
    const c = performanceConditions({ rmse: 2.3, mae: 1.9 }, ref, DEFAULT_PERFORMANCE_CONFIG, 500);
    const by = Object.fromEntries(c.map((x) => [x.key, x]));
    expect(by['PERFORMANCE||rmse'].severity).toBe('WARNING');
    expect(by['PERFORMANCE||mae'].severity).toBe('CRITICAL');
    expect(degradation('rmse', 2.3, 2)).toBeCloseTo(0.15, 12);
  });

  it('need a reference and skip metrics without data', () => {
    expect(performanceConditions({ accuracy: 0.1 }, undefined, DEFAULT_PERFORMANCE_CONFIG, 500)).toEqual([]);
    expect(performanceConditions({ accuracy: null, rocAuc: 0.5 }, REF, DEFAULT_PERFORMANCE_CONFIG, 500).map((c) => c.key)).toEqual(['PERFORMANCE||rocAuc']);
  });

  it('fire once through the alert tracker, only above the minimum labelled count, and resolve after clean windows', () => {
    const tracker = new AlertTracker('m', '1m', { resolveAfter: 2 });
    const bad = performanceConditions({ accuracy: 0.7 }, REF, DEFAULT_PERFORMANCE_CONFIG, 50);
    expect(tracker.update(evaluation(0, 50), bad, 1)).toEqual([]);
    const fired = tracker.update(evaluation(0, 150), performanceConditions({ accuracy: 0.7 }, REF, DEFAULT_PERFORMANCE_CONFIG, 150), 2);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ kind: 'PERFORMANCE', statistic: 'accuracy', severity: 'CRITICAL', status: 'FIRING', threshold: 0.1, feature: null });
    expect(fired[0].value).toBeCloseTo(0.2, 12);
    // The same window re-evaluated as more labels arrive: nothing new.
    expect(tracker.update(evaluation(0, 300), performanceConditions({ accuracy: 0.7 }, REF, DEFAULT_PERFORMANCE_CONFIG, 300), 3)).toEqual([]);
    const good = (start: number) => tracker.update(evaluation(start, 200), performanceConditions({ accuracy: 0.9 }, REF, DEFAULT_PERFORMANCE_CONFIG, 200), 4);
    expect(good(60_000)).toEqual([]);
    const resolved = good(120_000);
    expect(resolved).toHaveLength(1);
    expect(resolved[0]).toMatchObject({ status: 'RESOLVED', alertId: fired[0].alertId });
  });
});

describe('performance configuration', () => {
  it('fills defaults and reads overrides', () => {
    expect(parsePerformanceConfig(undefined)).toBe(DEFAULT_PERFORMANCE_CONFIG);
    const c = parsePerformanceConfig({ minLabelled: 20, decisionThreshold: 0.3, thresholds: { precision: { warning: 0.02 }, accuracy: { enabled: false } } });
    expect(c.minLabelled).toBe(20);
    expect(c.decisionThreshold).toBe(0.3);
    expect(c.thresholds.precision).toEqual({ warning: 0.02, critical: 0.1, enabled: true });
    expect(c.thresholds.accuracy.enabled).toBe(false);
    expect(parsePerformanceConfig(performanceConfigToJson(c))).toEqual(c);
  });

  it('rejects bad values naming the field', () => {
    expect(() => parsePerformanceConfig({ minLabelled: 0 })).toThrow(/performance.minLabelled/);
    expect(() => parsePerformanceConfig({ thresholds: { auc: {} } })).toThrow(/performance.thresholds.auc: unknown metric/);
    expect(() => parsePerformanceConfig({ thresholds: { f1: { warning: 0.2, critical: 0.1 } } })).toThrow(/performance.thresholds.f1.critical/);
    expect(() => parsePerformanceConfig({ foo: 1 })).toThrow(/performance.foo: unknown field/);
  });

  it('is part of the model configuration and survives its JSON form', () => {
    const m = parseModelConfig({ modelId: 'x', performance: { minLabelled: 50 } });
    expect(m.performance.minLabelled).toBe(50);
    expect(parseModelConfig(modelConfigToJson(m)).performance).toEqual(m.performance);
    expect(() => parseModelConfig({ modelId: 'x', performance: { minLabelled: -1 } })).toThrow(/performance.minLabelled/);
  });
});

describe('reference performance', () => {
  it('is computed from a labelled sample and skips unlabelled rows', () => {
    const b = new ReferencePerformanceBuilder({ kind: 'score', positiveClass: '1', decisionThreshold: 0.5 });
    const rows = [
      { score: 0.9, label: 1 },
      { score: '0.2', label: '0' },
      { score: 0.7, label: 0 },
      { score: 0.4, label: true },
      { score: 0.5, label: null },
      { score: 0.1, label: '' },
    ];
    for (const r of rows) b.accept(r);
    const p = b.build()!;
    expect(p.labelled).toBe(4);
    const o = binaryOracle([
      { score: 0.9, prediction: null, label: 1 },
      { score: 0.2, prediction: null, label: 0 },
      { score: 0.7, prediction: null, label: 0 },
      { score: 0.4, prediction: null, label: 1 },
    ]);
    expect(p.metrics.accuracy).toBe(o.accuracy);
    expect(p.metrics.rocAuc).toBe(o.rocAuc);
    expect(new ReferencePerformanceBuilder({ kind: 'score', positiveClass: '1', decisionThreshold: 0.5 }).build()).toBeUndefined();
  });
});

describe('reference upload with a label column', () => {
  it('stores the reference performance in the profile', async () => {
    const { Readable } = await import('node:stream');
    const { createReferenceBuilder } = await import('../../../../src/http/reference-builder.js');
    const pairs = Array.from({ length: 200 }, (_, i) => ({ score: ((i * 7919) % 200) / 200, label: i % 3 === 0 ? 1 : 0, x: i }));
    const csv = 'x,score,label\n' + pairs.map((p) => `${p.x},${p.score},${p.label}`).join('\n') + '\n';
    const built = await createReferenceBuilder()({
      modelId: 'm', model: { modelId: 'm', features: { x: 'numeric' } }, format: 'csv', body: Readable.from([csv]), createdAt: 1_700_000_000_000,
    });
    const perf = (built.profile as { performance?: ReferencePerformance }).performance!;
    const o = binaryOracle(pairs.map((p) => ({ score: p.score, prediction: null, label: p.label })));
    expect(perf.labelled).toBe(200);
    expect(perf.metrics.accuracy).toBeCloseTo(o.accuracy!, 12);
    expect(Math.abs(perf.metrics.rocAuc! - o.rocAuc!)).toBeLessThan(0.01);
    expect((built.profile as { features: Record<string, unknown> }).features.label).toBeUndefined();
  });
});

describe('reference build from samples with a label column', () => {
  it('adds the reference performance and keeps the label out of the features', async () => {
    const { buildReferenceFromSamples } = await import('../../../../src/stream/reference-from-samples.js');
    const rows = Array.from({ length: 300 }, (_, i) => ({ x: String(i % 17), score: ((i * 37) % 100) / 100, prediction: null, label: i % 4 === 0 ? '1' : '0' }));
    async function* batches() {
      yield rows.slice(0, 150);
      yield rows.slice(150);
    }
    const { profile, types } = await buildReferenceFromSamples(parseModelConfig({ modelId: 'm' }), batches(), { createdAt: 1 });
    expect(Object.keys(types)).toEqual(['x']);
    const perf = (profile as { performance?: ReferencePerformance }).performance!;
    const o = binaryOracle(rows.map((r) => ({ score: r.score, prediction: null, label: r.label })));
    expect(perf.labelled).toBe(300);
    expect(perf.metrics.f1).toBeCloseTo(o.f1!, 12);
    expect(Math.abs(perf.metrics.rocAuc! - o.rocAuc!)).toBeLessThan(0.01);
  });
});
