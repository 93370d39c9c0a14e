// De-duplication across a detector restart, on the real broker and Redis: the filter travels in the
// partition checkpoint, so an eventId counted before the restart is still a duplicate after it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Producer } from 'kafkajs';
import type { Redis } from 'ioredis';
import { RedisCheckpointStore } from '../../../src/adapters/redis/redis-checkpoint-store.js';
import { startDetector, type DetectorHandle } from '../../../src/app/detector.js';
import type { InferenceEvent } from '../../../src/core/events.js';
import { EventCodec } from '../../../src/adapters/registry/event-codec.js';
import { testKafka, uniqueName } from '../../support/kafka.js';
import { deletePrefix, testRedis, uniquePrefix } from '../../support/redis.js';
import { createStreamTopics, inference, modelWithReference, rng, streamConfig, waitFor, type StreamTopics } from './stream-support.js';

const kafka = testKafka();
const prefix = uniquePrefix('dedup');
const modelId = uniqueName('dedup');
let producer: Producer;
let topics: StreamTopics;
let redis: Redis;
const handles: DetectorHandle[] = [];

beforeAll(async () => {
  producer = kafka.producer();
  await producer.connect();
  topics = await createStreamTopics(kafka, 'dedup', 3);
  redis = testRedis();
});

afterAll(async () => {
  for (const h of handles) await h.stop().catch(() => {});
  await producer?.disconnect();
  await deletePrefix(redis, prefix).finally(() => redis.quit());
});

/** Sends events keyed by eventId: a producer re-sending one sends it to the same partition. */
async function send(events: readonly InferenceEvent[]): Promise<void> {
  await producer.send({ topic: topics.inference, messages: events.map((e) => ({ key: e.eventId, value: EventCodec.encodeJson(e) })) });
}

async function duplicatesOf(h: DetectorHandle): Promise<number> {
  return (await h.metrics.duplicates.get()).values[0]?.value ?? 0;
}

describe('de-duplication across a restart (real Kafka and Redis)', () => {
  it('counts an eventId once whether its duplicates arrive before or after the detector restarts', async () => {
    const { model, models } = await modelWithReference(modelId);
    const config = streamConfig(topics, { DRIFTSTREAM_DEDUP_WINDOW: '10m', DRIFTSTREAM_DEDUP_CAPACITY: '10000', DRIFTSTREAM_CHECKPOINT_INTERVAL: '500ms' });
    const start = async () => {
      const h = await startDetector(config, { models, checkpoints: new RedisCheckpointStore(redis, { prefix }) }, { models: [model] });
      handles.push(h);
      await h.joined;
      return h;
    };
    const r = rng(11);
    const at = () => Date.now();
    const first = Array.from({ length: 300 }, (_, i) => inference(modelId, r, at(), false, i));
    const again = (events: readonly InferenceEvent[]) => events.map((e) => ({ ...e, timestamp: at() }));

    const before = await start();
    await send(first);
    await send(again(first.slice(0, 100)));
    await waitFor(async () => before.state.counters.consumed === 300 && (await duplicatesOf(before)) === 100, 60_000, '300 events and 100 duplicates before the restart');
    // Stopping writes every partition's checkpoint, the filter in it.
    await before.stop();

    const after = await start();
    const fresh = Array.from({ length: 50 }, (_, i) => inference(modelId, r, at(), false, 1000 + i));
    await send([...again(first.slice(100, 220)), ...fresh]);
    await waitFor(async () => after.state.counters.consumed + (await duplicatesOf(after)) >= 170, 60_000, 'the records sent after the restart');
    expect(after.state.counters.consumed).toBe(50);
    expect(await duplicatesOf(after)).toBe(120);
    expect(before.state.counters.deadLettered + after.state.counters.deadLettered).toBe(0);
  });
});
