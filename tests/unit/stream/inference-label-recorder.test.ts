import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { MemoryLabelJoin } from '../../../src/adapters/memory/memory-label-join.js';
import { parseModelConfig } from '../../../src/core/model/model-config.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { InferenceLabelRecorder } from '../../../src/stream/inference-label-recorder.js';

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

  it('rejects a labels flag that is not a boolean, naming the field', () => {
    expect(() => parseModelConfig({ modelId: 'm', performance: { labels: 'no' } })).toThrow(/performance\.labels/);
  });
});
