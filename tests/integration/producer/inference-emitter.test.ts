// The producer helper against the real broker and schema registry: what it
// emits is consumed back and decoded the way the detector decodes it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logLevel, type KafkaMessage } from 'kafkajs';
import { EventCodec } from '../../../src/adapters/registry/event-codec.js';
import { toGroundTruthEvent, toInferenceEvent, type InferenceEvent } from '../../../src/core/events.js';
import { DriftstreamError, UnavailableError, ValidationError } from '../../../src/errors.js';
import { createInferenceEmitter, type InferenceEmitter, type InferenceInput } from '../../../src/index.js';
import { BROKERS, REGISTRY_URL, consumeMessages, createTopics, testKafka, uniqueName } from '../../support/kafka.js';

const kafka = testKafka('producer-test');
const MODELS = ['credit-risk', 'churn', 'fraud'];
const open: InferenceEmitter[] = [];

function track(e: InferenceEmitter): InferenceEmitter {
  open.push(e);
  return e;
}

function input(i: number): InferenceInput {
  return {
    eventId: `evt-${i}`,
    modelId: MODELS[i % MODELS.length],
    modelVersion: i % 2 ? 'v2' : null,
    timestamp: 1_764_000_000_000 + i * 1000,
    features: { age: 20 + i, income: 40_000.25 * (1 + i / 10), region: i % 2 ? 'north' : 'south', vip: i % 5 === 0, missing: null },
    prediction: i % 3 === 0 ? 'approve' : 0.5 + i / 100,
    score: i % 4 === 0 ? null : i / 40,
    attributes: { segment: 'retail' },
  };
}

async function decodeAll(messages: KafkaMessage[]): Promise<{ key: string; partition?: number; value: unknown; format: string; schemaId?: number }[]> {
  const codec = new EventCodec({ registryUrl: REGISTRY_URL });
  return Promise.all(
    messages.map(async (m) => {
      const d = await codec.decode(m.value);
      return { key: m.key!.toString(), value: d.value, format: d.format, schemaId: d.schemaId };
    }),
  );
}

afterAll(async () => {
  await Promise.allSettled(open.map((e) => e.close()));
});

describe('createInferenceEmitter (Avro)', () => {
  const topic = uniqueName('emitter-inference');
  const gtTopic = uniqueName('emitter-labels');

  beforeAll(async () => {
    await createTopics(kafka, [topic, gtTopic], 3);
  });

  it('emits inference and ground-truth events that decode to what was emitted, keyed by modelId', async () => {
    const emitter = track(createInferenceEmitter({ brokers: BROKERS, registryUrl: REGISTRY_URL, topic, groundTruthTopic: gtTopic, batchSize: 7, lingerMs: 10 }));
    const inputs = Array.from({ length: 25 }, (_, i) => input(i));
    const ids = await Promise.all(inputs.map((e) => emitter.emit(e)));
    expect(ids).toEqual(inputs.map((e) => e.eventId));
    const labels = inputs.slice(0, 10).map((e, i) => ({ eventId: e.eventId!, modelId: e.modelId, timestamp: new Date(1_764_000_100_000 + i), label: i % 2 === 0 }));
    for (const l of labels) await emitter.emitGroundTruth(l);
    await emitter.flush();
    expect(emitter.stats).toMatchObject({ emitted: 35, delivered: 35, failed: 0 });

    const got = await decodeAll(await consumeMessages(kafka, topic, 25));
    const expected = new Map(inputs.map((e) => [e.eventId!, toInferenceEvent(e)]));
    for (const g of got) {
      expect(g.format).toBe('avro');
      const event = toInferenceEvent(g.value);
      expect(event).toEqual(expected.get(event.eventId));
      expect(g.key).toBe(event.modelId);
    }
    expect(new Set(got.map((g) => toInferenceEvent(g.value).eventId)).size).toBe(25);

    const gotLabels = await decodeAll(await consumeMessages(kafka, gtTopic, 10));
    expect(gotLabels.map((g) => toGroundTruthEvent(g.value)).sort((a, b) => a.timestamp - b.timestamp)).toEqual(
      labels.map((l) => ({ ...l, timestamp: l.timestamp.getTime() })),
    );
    expect(gotLabels.every((g) => g.format === 'avro' && g.key === toGroundTruthEvent(g.value).modelId)).toBe(true);
    // Inference and ground-truth schemas are registered under their topics' subjects.
    expect(new Set(got.map((g) => g.schemaId)).size).toBe(1);
    expect(gotLabels[0].schemaId).not.toBe(got[0].schemaId);
  });

  it('puts all events of a model on one partition', async () => {
    const t = uniqueName('emitter-keys');
    await createTopics(kafka, [t], 3);
    const emitter = track(createInferenceEmitter({ brokers: BROKERS, registryUrl: REGISTRY_URL, topic: t, batchSize: 50 }));
    for (let i = 0; i < 30; i++) await emitter.emit(input(i));
    await emitter.close();
    const byModel = new Map<string, Set<number>>();
    const consumer = kafka.consumer({ groupId: uniqueName('keys') });
    await consumer.connect();
    await consumer.subscribe({ topic: t, fromBeginning: true });
    let seen = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${seen} of 30`)), 30_000);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const model = message.key!.toString();
          byModel.set(model, (byModel.get(model) ?? new Set()).add(partition));
          if (++seen === 30) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    expect([...byModel.keys()].sort()).toEqual([...MODELS].sort());
    for (const [model, partitions] of byModel) expect(partitions.size, model).toBe(1);
  });

  it('sends full batches at once and the rest after lingerMs or on flush', async () => {
    const emitter = track(createInferenceEmitter({ brokers: BROKERS, registryUrl: REGISTRY_URL, topic, batchSize: 10, lingerMs: 60_000 }));
    for (let i = 0; i < 25; i++) await emitter.emit(input(100 + i));
    expect(emitter.stats.batches).toBe(2);
    await emitter.flush();
    expect(emitter.stats).toMatchObject({ batches: 3, delivered: 25 });

    const lingering = track(createInferenceEmitter({ brokers: BROKERS, registryUrl: REGISTRY_URL, topic, batchSize: 1000, lingerMs: 50 }));
    await lingering.emit(input(200));
    expect(lingering.stats.batches).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(lingering.stats.batches).toBe(1);
  });

  it('fills in eventId and timestamp', async () => {
    const t = uniqueName('emitter-defaults');
    await createTopics(kafka, [t]);
    const emitter = track(createInferenceEmitter({ brokers: BROKERS, registryUrl: REGISTRY_URL, topic: t }));
    const before = Date.now();
    const id = await emitter.emit({ modelId: 'minimal', features: { x: 1 } });
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    await emitter.flush();
    const [got] = await decodeAll(await consumeMessages(kafka, t, 1));
    const event = toInferenceEvent(got.value);
    expect(event.eventId).toBe(id);
    expect(event.timestamp).toBeGreaterThanOrEqual(before);
    expect(event).toMatchObject({ modelId: 'minimal', modelVersion: null, prediction: null, score: null, attributes: {}, features: { x: 1 } });
  });
});

describe('createInferenceEmitter (JSON)', () => {
  it('writes JSON values the detector reads, without a registry', async () => {
    const topic = uniqueName('emitter-json');
    await createTopics(kafka, [topic]);
    const emitter = track(createInferenceEmitter({ brokers: BROKERS.join(','), topic, format: 'json' }));
    const inputs = Array.from({ length: 5 }, (_, i) => input(i));
    for (const e of inputs) await emitter.emit(e);
    await emitter.close();
    const raw = await consumeMessages(kafka, topic, 5);
    expect(raw.every((m) => m.value![0] === 0x7b)).toBe(true);
    const got = (await decodeAll(raw)).map((g) => toInferenceEvent(g.value));
    expect(got).toEqual(inputs.map((e) => toInferenceEvent(e)));
  });
});

describe('createInferenceEmitter errors', () => {
  it('rejects an invalid event before sending it', async () => {
    const emitter = track(createInferenceEmitter({ brokers: BROKERS, format: 'json', topic: uniqueName('never') }));
    await expect(emitter.emit({ modelId: '', features: {} })).rejects.toThrow(ValidationError);
    await expect(emitter.emit({ modelId: 'm', features: { x: Number.NaN } })).rejects.toThrow(/feature x/);
    await expect(emitter.emit({ modelId: 'm', features: {}, timestamp: 1_700_000_000 })).rejects.toThrow(/epoch milliseconds/);
    await expect(emitter.emitGroundTruth({ eventId: 'e', modelId: 'm', label: { bad: true } as never })).rejects.toMatchObject({ code: 'EVENT_INVALID' });
    expect(emitter.stats.emitted).toBe(0);
  });

  it('rejects bad options', () => {
    expect(() => createInferenceEmitter({ brokers: [] })).toThrow(/brokers/);
    expect(() => createInferenceEmitter({ brokers: BROKERS })).toThrow(/registryUrl/);
    expect(() => createInferenceEmitter({ brokers: BROKERS, format: 'json', batchSize: 0 })).toThrow(/batchSize/);
  });

  it('reports batches Kafka does not accept through flush and onError', async () => {
    const failures: number[] = [];
    const emitter = track(
      createInferenceEmitter({
        brokers: BROKERS,
        format: 'json',
        topic: uniqueName('missing-topic'),
        kafka: { retry: { retries: 0 }, logLevel: logLevel.NOTHING },
        onError: (_err, events) => failures.push(events),
      }),
    );
    await emitter.emit({ modelId: 'm', features: { x: 1 } });
    await emitter.emit({ modelId: 'm', features: { x: 2 } });
    const err = await emitter.flush().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DriftstreamError);
    expect(err).toMatchObject({ code: 'EMIT_FAILED' });
    expect(failures).toEqual([2]);
    expect(emitter.stats).toMatchObject({ emitted: 2, delivered: 0, failed: 2 });
    // Reported once: the next flush starts clean.
    await expect(emitter.flush()).resolves.toBeUndefined();
  });

  it('says so when the registry is unreachable, and refuses events after close', async () => {
    const emitter = track(createInferenceEmitter({ brokers: BROKERS, registryUrl: 'http://127.0.0.1:9/apis/ccompat/v7', topic: uniqueName('noreg') }));
    await expect(emitter.emit({ modelId: 'm', features: {} })).rejects.toThrow(UnavailableError);
    await emitter.close();
    await expect(emitter.emit({ modelId: 'm', features: {} })).rejects.toMatchObject({ code: 'EMITTER_CLOSED' });
  });

  it('refuses, without retry, a topic whose subject holds an incompatible schema', async () => {
    const t = uniqueName('emitter-taken');
    await createTopics(kafka, [t]);
    // The inference topic's subject already holds the ground-truth schema.
    const labels = track(createInferenceEmitter({ brokers: BROKERS, registryUrl: REGISTRY_URL, groundTruthTopic: t }));
    await labels.emitGroundTruth({ eventId: 'e-1', modelId: 'm', label: 1 });
    await labels.close();
    const emitter = track(createInferenceEmitter({ brokers: BROKERS, registryUrl: REGISTRY_URL, topic: t }));
    await expect(emitter.emit({ modelId: 'm', features: {} })).rejects.toMatchObject({ code: 'SCHEMA_INCOMPATIBLE', retriable: false });
  });

  it('waits for deliveries when maxBufferedEvents are pending', async () => {
    const topic = uniqueName('emitter-backpressure');
    await createTopics(kafka, [topic]);
    const emitter = track(createInferenceEmitter({ brokers: BROKERS, format: 'json', topic, batchSize: 5, maxBufferedEvents: 10, lingerMs: 5 }));
    const inputs: InferenceEvent[] = [];
    for (let i = 0; i < 60; i++) {
      await emitter.emit(input(i));
      inputs.push(toInferenceEvent(input(i)));
      expect(emitter.stats.emitted - emitter.stats.delivered - emitter.stats.failed).toBeLessThanOrEqual(10);
    }
    await emitter.close();
    expect(emitter.stats).toMatchObject({ emitted: 60, delivered: 60 });
  });
});
