import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { MemoryAlertStateStore, MemoryModelRepository, MemoryResultRepository } from '../../../src/adapters/memory/index.js';
import { MemoryLabelJoin } from '../../../src/adapters/memory/memory-label-join.js';
import { modelConfigToJson, parseModelConfig } from '../../../src/core/model/index.js';
import type { DriftAlert } from '../../../src/core/events.js';
import type { Evaluation } from '../../../src/core/drift/types.js';
import { toLabelRecord } from '../../../src/core/performance/records.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { inferenceRecordsOf } from '../../../src/stream/label-records.js';
import { PerformanceEvaluator } from '../../../src/stream/performance-evaluator.js';
import { LabelJoinPerformanceReader } from '../../../src/stream/performance-reader.js';
import type { AlertSink } from '../../../src/ports/alert-sink.js';
import { binaryOracle, rng, type Pair } from '../core/performance/oracle.js';

const T0 = 1_700_000_040_000; // a minute boundary
const logger = pino({ level: 'silent' });

class CapturingSink implements AlertSink {
  alerts: DriftAlert[] = [];
  evaluations: Evaluation[] = [];
  async publishAlerts(a: readonly DriftAlert[]): Promise<void> {
    this.alerts.push(...a);
  }
  async publishEvaluations(e: readonly Evaluation[]): Promise<void> {
    this.evaluations.push(...structuredClone(e));
  }
}

function setup(now: { t: number }) {
  const config = parseModelConfig({
    modelId: 'credit',
    windows: [{ name: '1m', size: '1m' }, { name: '5m', size: '5m', slide: '1m' }],
    performance: { minLabelled: 50 },
  });
  const join = new MemoryLabelJoin({ horizonMs: 3_600_000, clock: () => now.t });
  const sink = new CapturingSink();
  const results = new MemoryResultRepository();
  const metrics = createMetrics({ defaultMetrics: false });
  const reference = { labelled: 1000, kind: 'score' as const, positiveClass: '1', metrics: { accuracy: 0.95, f1: 0.9, rocAuc: 0.97 } };
  const evaluator = new PerformanceEvaluator({
    join,
    model: (id) => (id === 'credit' ? { config, referenceId: 'ref-1', referencePerformance: reference } : undefined),
    alertState: new MemoryAlertStateStore(),
    sink,
    results,
    metrics,
    logger,
    horizonMs: 3_600_000,
    now: () => now.t,
  });
  return { config, join, sink, results, metrics, evaluator };
}

function pairs(n: number, seed: number, noise: number): Pair[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const y = r() < 0.5 ? 1 : 0;
    const score = Math.min(1, Math.max(0, (y ? 0.7 : 0.3) + (r() - 0.5) * noise));
    return { score, prediction: null, label: y };
  });
}

describe('performance evaluator', () => {
  it('publishes performance of ended windows, fires PERFORMANCE alerts once, and serves the latest window', async () => {
    const now = { t: T0 + 30_000 };
    const { config, join, sink, evaluator, metrics } = setup(now);
    const good = pairs(200, 1, 0.4);
    const bad = pairs(200, 2, 1.6);
    const events = [...good, ...bad].map((p, i) => ({
      eventId: `e${i}`,
      modelId: 'credit',
      modelVersion: null,
      // The good pairs in the first minute, the bad ones in the second.
      timestamp: T0 + (i < 200 ? 0 : 60_000) + (i % 200) * 100,
      features: {},
      prediction: null,
      score: p.score,
      attributes: {},
    }));
    await join.recordInferences(inferenceRecordsOf(events, config), now.t);
    // Labels for half the events now: windows have not ended, nothing published, panes kept for later.
    await join.recordLabels(events.slice(0, 100).map((e, i) => toLabelRecord({ eventId: e.eventId, modelId: 'credit', timestamp: e.timestamp + 1000, label: good[i].label })), now.t);
    await evaluator.punctuate();
    expect(sink.evaluations).toEqual([]);

    now.t = T0 + 125_000;
    await join.recordLabels(
      events.map((e, i) => toLabelRecord({ eventId: e.eventId, modelId: 'credit', timestamp: e.timestamp + 2000, label: (i < 200 ? good : bad)[i % 200].label })),
      now.t,
    );
    await evaluator.punctuate();
    const oneMinute = sink.evaluations.filter((e) => e.windowName === '1m').sort((a, b) => a.windowStart - b.windowStart);
    expect(oneMinute.map((e) => e.windowStart)).toEqual([T0, T0 + 60_000]);
    const [first, second] = oneMinute;
    expect(first.performance).toMatchObject({ labelled: 200, predictions: 200, coverage: 1 });
    expect(first.performance!.metrics.accuracy).toBeCloseTo(binaryOracle(good).accuracy!, 12);
    expect(second.performance!.metrics.accuracy).toBeCloseTo(binaryOracle(bad).accuracy!, 12);
    // Half the labels came after 1 s, the replays of those changed nothing, the rest came after 2 s.
    expect(Math.abs(first.performance!.labelDelayP50Ms! - 1000)).toBeLessThan(25);
    expect(Math.abs(first.performance!.labelDelayP95Ms! - 2000)).toBeLessThan(50);

    // The bad minute drops far below the reference: CRITICAL, once per metric.
    const fired = sink.alerts.filter((a) => a.windowName === '1m');
    expect(fired.length).toBeGreaterThan(0);
    expect(fired.every((a) => a.kind === 'PERFORMANCE' && a.status === 'FIRING' && a.windowStart === T0 + 60_000)).toBe(true);
    expect(new Set(fired.map((a) => a.statistic))).toContain('accuracy');
    const before = sink.alerts.length;
    await join.markDirty([{ modelId: 'credit', paneMs: 60_000, paneStart: T0 + 60_000 }]);
    await evaluator.punctuate();
    expect(sink.alerts.length).toBe(before);

    const text = await metrics.registry.getSingleMetricAsString('driftstream_performance');
    expect(text).toContain('metric="accuracy"');

    const models = new MemoryModelRepository();
    await models.putModel(modelConfigToJson(config));
    const reader = new LabelJoinPerformanceReader(join, models);
    const served = await reader.latestPerformance('credit', '1m');
    expect(served).toMatchObject({ windowStart: T0 + 60_000, windowEnd: T0 + 120_000 });
    expect(served!.performance.metrics.rocAuc).toBeCloseTo(second.performance!.metrics.rocAuc!, 12);
    const sliding = await reader.latestPerformance('credit', '5m');
    expect(sliding!.performance.labelled).toBe(400);
    expect(await reader.latestPerformance('credit', 'nope')).toBeUndefined();
    expect(await reader.latestPerformance('other', '1m')).toBeUndefined();
  });

  it('updates the stored drift evaluation of the window instead of replacing it', async () => {
    const now = { t: T0 + 61_000 };
    const { config, join, sink, results, evaluator } = setup(now);
    const drift: Evaluation = {
      evaluationId: 'drift-1',
      modelId: 'credit',
      modelVersion: 'v1',
      windowName: '1m',
      windowStart: T0,
      windowEnd: T0 + 60_000,
      sampleSize: 3,
      referenceId: 'ref-1',
      evaluatedAt: T0 + 60_500,
      datasetDrift: { share: 0.5, drift: true },
      features: { age: { type: 'numeric', nReference: 10, nCurrent: 3, missing: 0, missingRate: 0, psi: 0.3, drift: true, severity: 'CRITICAL' } },
      alertable: true,
    };
    await results.saveEvaluations([drift]);
    const ev = { eventId: 'x', modelId: 'credit', modelVersion: null, timestamp: T0 + 5, features: {}, prediction: null, score: 0.9, attributes: {} };
    await join.recordInferences(inferenceRecordsOf([ev], config), now.t);
    await join.recordLabels([toLabelRecord({ eventId: 'x', modelId: 'credit', timestamp: T0 + 10, label: 1 })], now.t);
    await evaluator.punctuate();
    const saved = await results.latestEvaluation('credit', '1m');
    expect(saved).toMatchObject({ evaluationId: 'drift-1', datasetDrift: { drift: true }, performance: { labelled: 1, coverage: 1 } });
    expect(saved!.features.age.psi).toBe(0.3);
    expect(sink.evaluations.find((e) => e.windowName === '1m')!.evaluationId).toBe('drift-1');
  });

  it('counts labels that never met their inference', async () => {
    const now = { t: T0 };
    const { join, evaluator, metrics } = setup(now);
    await join.recordLabels([toLabelRecord({ eventId: 'ghost', modelId: 'credit', timestamp: T0, label: 1 })], now.t);
    now.t += 3_600_001;
    await evaluator.punctuate();
    expect(await metrics.registry.getSingleMetricAsString('driftstream_labels_unmatched_total')).toContain('reason="expired"} 1');
    expect((await join.stats('credit')).expired).toBe(1);
  });
});

describe('performance evaluator publishing', () => {
  it('does not republish a window whose stored evaluation already carries the same performance', async () => {
    const now = { t: T0 + 61_000 };
    const { config, join, sink, results, evaluator } = setup(now);
    const ev = { eventId: 'y', modelId: 'credit', modelVersion: null, timestamp: T0 + 5, features: {}, prediction: null, score: 0.2, attributes: {} };
    await join.recordInferences(inferenceRecordsOf([ev], config), now.t);
    await join.recordLabels([toLabelRecord({ eventId: 'y', modelId: 'credit', timestamp: T0 + 10, label: 0 })], now.t);
    const { windowPerformanceOf } = await import('../../../src/stream/performance-evaluator.js');
    const performance = await windowPerformanceOf(join, () => ({ config }))('credit', config.windows[0], T0);
    await results.saveEvaluations([
      {
        evaluationId: 'd', modelId: 'credit', modelVersion: null, windowName: '1m', windowStart: T0, windowEnd: T0 + 60_000, sampleSize: 1,
        referenceId: 'ref-1', evaluatedAt: 0, datasetDrift: { share: 0, drift: false }, features: {}, alertable: false, performance,
      },
    ]);
    await evaluator.punctuate();
    expect(sink.evaluations.filter((e) => e.windowName === '1m')).toEqual([]);
    // A label after that changes it: published and saved.
    const ev2 = { ...ev, eventId: 'z', timestamp: T0 + 7 };
    await join.recordInferences(inferenceRecordsOf([ev2], config), now.t);
    await join.recordLabels([toLabelRecord({ eventId: 'z', modelId: 'credit', timestamp: T0 + 10, label: 1 })], now.t);
    await evaluator.punctuate();
    expect(sink.evaluations.filter((e) => e.windowName === '1m').map((e) => e.performance?.labelled)).toEqual([2]);
    expect((await results.latestEvaluation('credit', '1m'))!.performance!.labelled).toBe(2);
  });
});
