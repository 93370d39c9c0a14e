// A consumer the group has replaced may still hold a partition's state before it hears of the
// rebalance; its checkpoint must not overwrite the further one the new owner wrote (real Kafka and Redis).
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
const prefix = uniquePrefix('stale-ckpt');
const modelId = uniqueName('stale-ckpt');
let producer: Producer;
let topics: StreamTopics;
let redis: Redis;
let handle: DetectorHandle | undefined;

beforeAll(async () => {
  producer = kafka.producer();
  await producer.connect();
  topics = await createStreamTopics(kafka, 'stale-ckpt', 1);
  redis = testRedis();
});

afterAll(async () => {
  await handle?.stop().catch(() => {});
  await producer?.disconnect();
  await deletePrefix(redis, prefix).finally(() => redis.quit());
});

async function send(events: readonly InferenceEvent[]): Promise<void> {
  await producer.send({ topic: topics.inference, messages: events.map((e) => ({ value: EventCodec.encodeJson(e) })) });
}

async function failedCheckpoints(h: DetectorHandle): Promise<number> {
  const { values } = await h.metrics.checkpointDuration.get();
  return values.find((v) => v.metricName?.endsWith('_count') && v.labels.outcome === 'error')?.value ?? 0;
}

describe('a stale owner of a partition (real Kafka and Redis)', () => {
  it('cannot move the checkpoint back: its save is refused, its state dropped, and it goes on from the stored checkpoint', async () => {
    const { model, models } = await modelWithReference(modelId);
    const store = new RedisCheckpointStore(redis, { prefix });
    // A checkpoint after every batch: the refused one is the batch's own, inside kafkajs' eachBatch.
    const config = streamConfig(topics, { DRIFTSTREAM_CHECKPOINT_INTERVAL: '1ms' });
    const h = await startDetector(config, { models, checkpoints: new RedisCheckpointStore(redis, { prefix }) }, { models: [model] });
    handle = h;
    await h.joined;
    const r = rng(5);
    const batch = (from: number, n: number) => Array.from({ length: n }, (_, i) => inference(modelId, r, Date.now(), false, from + i));
    const stored = async () => (await store.loadCheckpoint(config.groupId, topics.inference, 0))?.nextOffset;

    await send(batch(0, 200));
    await waitFor(async () => (await stored()) === '200', 60_000, 'a checkpoint after the first 200 records');

    // Another owner read 50 records further and checkpointed: its checkpoint, at offset 250.
    const theirs = (await store.loadCheckpoint(config.groupId, topics.inference, 0))!;
    await store.saveCheckpoint(config.groupId, { ...theirs, nextOffset: '250' });

    // This detector has not heard of it: it reads 30 more records and tries to checkpoint at 230.
    await send(batch(200, 30));
    await waitFor(async () => (await failedCheckpoints(h)) >= 1, 60_000, 'the refused checkpoint');
    expect(await stored()).toBe('250');

    // It goes on from the stored checkpoint: no crash, and its checkpoints move forward from 250.
    await send(batch(230, 50));
    await waitFor(async () => (await stored()) === '280', 60_000, 'a checkpoint after offset 250');
    let ended = false;
    void h.done.then(
      () => (ended = true),
      () => (ended = true),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ended).toBe(false);
    expect(h.state.counters.deadLettered).toBe(0);
  }, 120_000);
});
