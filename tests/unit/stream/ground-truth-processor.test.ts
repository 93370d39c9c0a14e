import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { MemoryLabelJoin } from '../../../src/adapters/memory/memory-label-join.js';
import { EventCodec } from '../../../src/adapters/registry/event-codec.js';
import { toInferenceRecord } from '../../../src/core/performance/records.js';
import { UnavailableError } from '../../../src/errors.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { GroundTruthProcessor } from '../../../src/stream/ground-truth-processor.js';
import type { JoinOutcome, LabelJoin } from '../../../src/ports/label-join.js';
import { ProcessingFailedError } from '../../../src/stream/processing-error-policy.js';
import { type DeadLetter, type SourceMessage } from '../../../src/ports/dead-letter-sink.js';

const logger = pino({ level: 'silent' });
// JSON values need no registry; the codec is the one the detector uses.
const codec = new EventCodec({ registryUrl: 'http://127.0.0.1:1/unused' });
const T = 1_700_000_040_000;
const running = { heartbeat: async () => {}, isRunning: () => true };

function msg(offset: number, value: unknown): SourceMessage {
  return { offset: String(offset), key: null, value: typeof value === 'string' ? Buffer.from(value) : EventCodec.encodeJson(value), timestamp: String(T) };
}

function setup(join: LabelJoin = new MemoryLabelJoin(), policy: 'dlq' | 'fail' = 'dlq') {
  const letters: DeadLetter[] = [];
  const metrics = createMetrics({ defaultMetrics: false });
  const processor = new GroundTruthProcessor({
    decoder: codec,
    join,
    deadLetters: { send: async (l) => void letters.push(...l) },
    policy,
    metrics,
    logger,
    retryDelayMs: { initial: 5, max: 20 },
  });
  return { processor, letters, metrics, join };
}

describe('ground-truth processor', () => {
  it('joins valid labels, dead-letters the rest with their reason, and counts duplicates', async () => {
    const { processor, letters, metrics, join } = setup();
    const r = toInferenceRecord({ eventId: 'a', modelId: 'm', timestamp: T, prediction: null, score: 0.8 }, { kind: 'score', positiveClass: '1', decisionThreshold: 0.5 }, [60_000]);
    await join.recordInferences([r]);
    const outcome = await processor.process('gt', 0, [
      msg(0, { eventId: 'a', modelId: 'm', timestamp: T + 10, label: true }),
      msg(1, '{"eventId": '),
      msg(2, { eventId: 'b', modelId: 'm', timestamp: 'yesterday', label: 1 }),
      msg(3, { eventId: 'a', modelId: 'm', timestamp: T + 10, label: true }),
      msg(4, { eventId: 'c', modelId: 'm', timestamp: T, label: 0 }),
    ], running);
    expect(outcome).toMatchObject({ joined: 1, duplicates: 1, stored: 1, joinedByModel: { m: 1 } });
    expect(letters.map((l) => [l.record.offset, l.reason])).toEqual([['1', 'bad_json'], ['2', 'invalid_event']]);
    expect(letters[0].record).toMatchObject({ topic: 'gt', partition: 0 });
    expect(letters[0].record.value!.toString()).toBe('{"eventId": ');
    const text = await metrics.registry.metrics();
    expect(text).toContain('driftstream_labels_joined_total{model="m"} 1');
    expect(text).toContain('driftstream_labels_unmatched_total{reason="duplicate"} 1');
    expect(text).toContain('driftstream_events_invalid_total{reason="bad_json"} 1');
    expect((await join.readCounters('m', 60_000, T, T + 60_000)).get('tp')).toBe(1);
  });

  it('dead-letters labels of models no inference can come from', async () => {
    const letters: DeadLetter[] = [];
    const processor = new GroundTruthProcessor({
      decoder: codec,
      join: new MemoryLabelJoin(),
      deadLetters: { send: async (l) => void letters.push(...l) },
      policy: 'dlq',
      metrics: createMetrics({ defaultMetrics: false }),
      logger,
      acceptsModel: (m) => m === 'known',
    });
    const outcome = await processor.process('gt', 0, [msg(0, { eventId: 'a', modelId: 'nope', timestamp: T, label: 1 }), msg(1, { eventId: 'a', modelId: 'known', timestamp: T, label: 1 })], running);
    expect(outcome).toMatchObject({ stored: 1 });
    expect(letters.map((l) => l.reason)).toEqual(['unknown_model']);
  });

  it('stops on a bad record under the fail policy', async () => {
    const { processor } = setup(undefined, 'fail');
    await expect(processor.process('gt', 1, [msg(7, 'not json')], running)).rejects.toBeInstanceOf(ProcessingFailedError);
  });

  it('waits out a label join that is down instead of skipping the batch', async () => {
    const inner = new MemoryLabelJoin();
    let failures = 3;
    const flaky = Object.create(inner) as LabelJoin;
    flaky.recordLabels = async (labels, now) => {
      if (failures-- > 0) throw new UnavailableError('redis', 'connection refused');
      return inner.recordLabels(labels, now) as Promise<JoinOutcome>;
    };
    const { processor } = setup(flaky);
    const outcome = await processor.process('gt', 0, [msg(0, { eventId: 'x', modelId: 'm', timestamp: T, label: 1 })], running);
    expect(outcome).toMatchObject({ stored: 1 });
    expect(failures).toBe(-1);
    // A stopping consumer gives up, so the batch is not committed.
    failures = 1;
    await expect(processor.process('gt', 0, [msg(1, { eventId: 'y', modelId: 'm', timestamp: T, label: 1 })], { ...running, isRunning: () => false })).rejects.toBeInstanceOf(UnavailableError);
  });
});
