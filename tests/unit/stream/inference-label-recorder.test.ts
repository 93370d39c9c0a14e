import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { MemoryLabelJoin } from '../../../src/adapters/memory/memory-label-join.js';
import { parseModelConfig } from '../../../src/core/model/model-config.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { InferenceLabelRecorder, LabelJoinBudget } from '../../../src/stream/inference-label-recorder.js';

const T = 1_700_000_040_000;
const running = { heartbeat: async () => {}, isRunning: () => true };

function event(eventId: string, modelId: string) {
  return { eventId, modelId, modelVersion: null, timestamp: T, features: { x: 1 }, prediction: null, score: 0.9, attributes: {} };
}

describe('InferenceLabelRecorder', () => {
  it('records the inferences of a model that expects labels, and none of one declared without them', async () => {
    const join = new MemoryLabelJoin();
    const recorder = new InferenceLabelRecorder(join, createMetrics({ defaultMetrics: false }), pino({ level: 'silent' }));
    const labelled = parseModelConfig({ modelId: 'with-labels', features: { x: 'numeric' } });
    const unlabelled = parseModelConfig({ modelId: 'no-labels', features: { x: 'numeric' }, performance: { labels: false } });
    expect(labelled.performance.labels).toBe(true);
    expect(unlabelled.performance.labels).toBe(false);

    recorder.add(event('a', 'with-labels'), labelled);
    recorder.add(event('b', 'no-labels'), unlabelled);
    expect(recorder.size).toBe(1);
    await recorder.flush(running);

    // The labelled model's inference is there to join; the other model's label can only wait.
    const outcome = await join.recordLabels([
      { eventId: 'a', modelId: 'with-labels', timestamp: T + 1000, labelClass: '1', labelValue: 1 },
      { eventId: 'b', modelId: 'no-labels', timestamp: T + 1000, labelClass: '1', labelValue: 1 },
    ]);
    expect(outcome.joinedByModel).toEqual({ 'with-labels': 1 });
    expect(outcome.stored).toBe(1);
  });

  it('keeps at most the per-model budget of records in the join, counting what it leaves out', async () => {
    const join = new MemoryLabelJoin();
    const metrics = createMetrics({ defaultMetrics: false });
    const budget = new LabelJoinBudget(3, 3_600_000);
    const a = new InferenceLabelRecorder(join, metrics, pino({ level: 'silent' }), undefined, budget);
    const b = new InferenceLabelRecorder(join, metrics, pino({ level: 'silent' }), undefined, budget);
    const noisy = parseModelConfig({ modelId: 'noisy', features: { x: 'numeric' } });
    const quiet = parseModelConfig({ modelId: 'quiet', features: { x: 'numeric' } });
    // Two partitions share the budget of a model; another model has its own.
    for (let i = 0; i < 5; i++) a.add(event(`n${i}`, 'noisy'), noisy);
    for (let i = 5; i < 8; i++) b.add(event(`n${i}`, 'noisy'), noisy);
    b.add(event('q0', 'quiet'), quiet);
    expect(a.size + b.size).toBe(4);
    await a.flush(running);
    await b.flush(running);
    expect((await metrics.limitHits.get()).values).toEqual([expect.objectContaining({ labels: { limit: 'label_join_per_model' }, value: 5 })]);
    expect((await join.stats('noisy')).inferences).toBe(3);
  });

  it('rejects a labels flag that is not a boolean, naming the field', () => {
    expect(() => parseModelConfig({ modelId: 'm', performance: { labels: 'no' } })).toThrow(/performance\.labels/);
  });
});
