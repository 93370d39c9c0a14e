import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCodec } from '../../../src/adapters/registry/event-codec.js';
import { toInferenceEvent, type InferenceEvent } from '../../../src/core/events.js';
import { DecodeError } from '../../../src/errors.js';
import { REGISTRY_URL, consumeMessages, createTopics, testKafka, uniqueName } from '../../support/kafka.js';

const kafka = testKafka();
const producer = kafka.producer();
const topic = uniqueName('codec-inference');
let codec: EventCodec;
let schemaId: number;

function event(i: number): InferenceEvent {
  return {
    eventId: `e-${i}`,
    modelId: 'credit-risk',
    modelVersion: i % 2 ? 'v3' : null,
    timestamp: 1_764_000_000_000 + i,
    features: { age: 30 + i, income: 52_000.5, region: 'north', vip: i % 3 === 0, debt: null },
    prediction: i % 2 ? '1' : 0.25,
    score: i % 4 === 0 ? null : 0.125 * i,
    attributes: { segment: 'retail' },
  };
}

beforeAll(async () => {
  codec = new EventCodec({ registryUrl: REGISTRY_URL });
  schemaId = await codec.register(`${topic}-value`, 'InferenceEvent');
  await createTopics(kafka, [topic]);
  await producer.connect();
});

afterAll(async () => {
  await producer.disconnect();
});

describe('EventCodec against the real registry and broker', () => {
  it('registers a schema and gets the same id again', async () => {
    expect(schemaId).toBeGreaterThan(0);
    expect(await codec.register(`${topic}-value`, 'InferenceEvent')).toBe(schemaId);
  });

  it('registers one new subject from several processes at once', async () => {
    // Detectors starting together race for the alerts subject: the first to register it gives it its
    // rule while the others read it, so the rule one reads may change before it registers.
    for (let round = 0; round < 3; round++) {
      const subject = `${uniqueName('codec-race')}-value`;
      const codecs = Array.from({ length: 6 }, () => new EventCodec({ registryUrl: REGISTRY_URL }));
      const outcomes = await Promise.allSettled(codecs.map((c) => c.register(subject, 'DriftAlert')));
      const failed = outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason));
      expect(failed).toEqual([]);
      expect(new Set(outcomes.map((o) => (o as PromiseFulfilledResult<number>).value)).size).toBe(1);
    }
  });

  it('round-trips Avro and JSON inference events through a topic', async () => {
    const events = Array.from({ length: 20 }, (_, i) => event(i));
    await producer.send({
      topic,
      messages: events.map((e, i) => ({
        key: e.modelId,
        value: i % 2 === 0 ? codec.encode(schemaId, e) : EventCodec.encodeJson(e),
      })),
    });
    const messages = await consumeMessages(kafka, topic, events.length);
    // A fresh codec has no cached schema, so Avro values make it fetch the writer schema by id.
    const reader = new EventCodec({ registryUrl: REGISTRY_URL });
    const decoded = await Promise.all(messages.map((m) => reader.decode(m.value)));
    expect(decoded.map((d) => d.format)).toEqual(events.map((_, i) => (i % 2 === 0 ? 'avro' : 'json')));
    expect(decoded.filter((d) => d.format === 'avro').every((d) => d.schemaId === schemaId)).toBe(true);
    expect(decoded.map((d) => toInferenceEvent(d.value))).toEqual(events);
  });

  it('turns malformed values into typed decode errors', async () => {
    const good = codec.encode(schemaId, event(1));
    const unknownId = Buffer.from(good);
    unknownId.writeUInt32BE(2_000_000_000, 1);
    const cases: [Buffer | null, string][] = [
      [null, 'empty_value'],
      [Buffer.from('{"eventId": '), 'bad_json'],
      [Buffer.from('hello'), 'bad_wire_format'],
      [Buffer.from([0, 0, 0]), 'bad_wire_format'],
      [good.subarray(0, good.length - 6), 'avro_decode'],
      [Buffer.concat([good, Buffer.from([1, 2, 3])]), 'avro_decode'],
      [unknownId, 'unknown_schema'],
      [Buffer.alloc(2_000_000, 0x7b), 'oversize'],
    ];
    for (const [value, reason] of cases) {
      const err = await codec.decode(value).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, reason).toBeInstanceOf(DecodeError);
      expect((err as DecodeError).reason).toBe(reason);
    }
  });

  it('reads values whose writer schema it fetched with the InferenceEvent reader, to the same events as avsc', async () => {
    const fresh = new EventCodec({ registryUrl: REGISTRY_URL });
    const withNul = { ...event(7), features: { ...event(7).features, region: 'no\u0000rth' } };
    const plain = await fresh.decode(codec.encode(schemaId, event(3)));
    const nul = await fresh.decode(codec.encode(schemaId, withNul));
    expect(plain).toMatchObject({ format: 'avro', schemaId, nulFree: true });
    expect(toInferenceEvent(plain.value)).toEqual(event(3));
    expect(nul.nulFree).toBe(false);
    expect((nul.value as InferenceEvent).features.region).toBe('no\u0000rth');
  });
});
