import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Producer } from 'kafkajs';
import { EventCodec } from '../../../src/adapters/registry/event-codec.js';
import { MemoryModelRepository } from '../../../src/adapters/memory/memory-model-repository.js';
import { parseModelConfig } from '../../../src/core/model/model-config.js';
import { readSampleBatches } from '../../../src/io/sample-reader.js';
import { startDetector, type DetectorHandle } from '../../../src/app/detector.js';
import { buildReferenceFromSamples } from '../../../src/stream/reference-from-samples.js';
import { DLQ_HEADERS } from '../../../src/stream/processing-error-policy.js';
import { REGISTRY_URL, consumeMessages, testKafka, uniqueName } from '../../support/kafka.js';
import { CATEGORICAL, NUMERIC, createStreamTopics, inference, rng, streamConfig, waitFor, writeReferenceSample, type StreamTopics } from './stream-support.js';

const kafka = testKafka();
let producer: Producer;
let topics: StreamTopics;
let handle: DetectorHandle | undefined;
const codec = new EventCodec({ registryUrl: REGISTRY_URL });
let schemaId: number;

const modelId = uniqueName('fuzz');
const model = parseModelConfig({
  modelId,
  features: Object.fromEntries([...NUMERIC.map((f) => [f, 'numeric']), ...CATEGORICAL.map((f) => [f, 'categorical'])]),
  windows: [{ name: '5s', size: '5s' }],
  allowedLateness: '5m',
});

beforeAll(async () => {
  producer = kafka.producer();
  await producer.connect();
  topics = await createStreamTopics(kafka, 'fuzz');
  schemaId = await codec.register(`${topics.inference}-value`, 'InferenceEvent');
});

afterAll(async () => {
  await handle?.stop().catch(() => {});
  await producer?.disconnect();
});

interface Bad {
  value: Buffer | null;
  reason: string;
}

/** Malformed record number `i`: cycles through every way a record can be wrong. */
function malformed(i: number, r: () => number): Bad {
  const ts = Date.now();
  const valid = inference(modelId, r, ts, false, i);
  const avro = codec.encode(schemaId, valid);
  switch (i % 14) {
    case 0:
      return { value: Buffer.from(JSON.stringify(valid).slice(0, 20 + (i % 30))), reason: 'bad_json' };
    case 1:
      return { value: Buffer.from('{"eventId": "x", "modelId": '), reason: 'bad_json' };
    case 2: {
      const b = Buffer.from(avro);
      b.writeUInt32BE(0x7ff00000 + (i % 3), 1);
      return { value: b, reason: 'unknown_schema' };
    }
    case 3:
      return { value: avro.subarray(0, 5 + (i % Math.max(1, avro.length - 10))), reason: 'avro_decode' };
    case 4:
      return { value: Buffer.concat([avro, Buffer.from([1, 2, 3])]), reason: 'avro_decode' };
    case 5: {
      const { modelId: _m, ...rest } = valid;
      return { value: EventCodec.encodeJson(rest), reason: 'invalid_event' };
    }
    case 6: {
      const { eventId: _e, ...rest } = valid;
      return { value: EventCodec.encodeJson(rest), reason: 'invalid_event' };
    }
    case 7: {
      const { timestamp: _t, ...rest } = valid;
      return { value: EventCodec.encodeJson(rest), reason: 'invalid_event' };
    }
    case 8:
      // 1e400 parses to Infinity; "NaN" and fractions are not epoch milliseconds either.
      return { value: Buffer.from(JSON.stringify({ ...valid, timestamp: 0 }).replace('"timestamp":0', ['"timestamp":1e400', '"timestamp":"NaN"', '"timestamp":1764000000000.5', '"timestamp":-1e400'][i % 4])), reason: 'invalid_event' };
    case 9:
      return { value: EventCodec.encodeJson({ ...valid, features: { ...valid.features, f3: 'not-a-number' } }), reason: 'type_mismatch' };
    case 10:
      return { value: EventCodec.encodeJson({ ...valid, features: { ...valid.features, c1: { nested: true } } }), reason: 'invalid_event' };
    case 11:
      // Oversize values are big: one in ten of this case, the others a boolean where a number belongs.
      if (Math.floor(i / 14) % 10 === 0) return { value: Buffer.from(JSON.stringify({ ...valid, attributes: { pad: 'x'.repeat(70_000) } })), reason: 'oversize' };
      return { value: EventCodec.encodeJson({ ...valid, features: { ...valid.features, f0: true } }), reason: 'type_mismatch' };
    case 12:
      return { value: i % 2 ? null : Buffer.alloc(0), reason: 'empty_value' };
    default:
      return { value: Buffer.from([0x05, ...avro.subarray(1)]), reason: 'bad_wire_format' };
  }
}

describe('detector fuzz (real Kafka and registry)', () => {
  it('dead-letters every malformed record with its reason, counts every valid one, and keeps running', async () => {
    const models = new MemoryModelRepository();
    const { profile } = await buildReferenceFromSamples(model, readSampleBatches(await writeReferenceSample(modelId, 3000)), { createdAt: Date.now() });
    await models.putModel({ modelId });
    await models.addReference(modelId, profile.id, profile);
    handle = await startDetector(streamConfig(topics, { DRIFTSTREAM_MAX_MESSAGE_BYTES: '65536' }), { models }, { models: [model] });
    await handle.joined;

    const r = rng(11);
    const BAD = 10_500;
    const GOOD = 6_000;
    const expected = new Map<string, Bad>();
    const messages: { key: string; value: Buffer | null }[] = [];
    let bad = 0;
    let good = 0;
    while (bad < BAD || good < GOOD) {
      if (bad < BAD && (good >= GOOD || r() < BAD / (BAD + GOOD))) {
        const m = malformed(bad, r);
        const key = `bad-${bad++}`;
        expected.set(key, m);
        messages.push({ key, value: m.value });
      } else {
        const e = inference(modelId, r, Date.now(), false, good);
        messages.push({ key: `good-${good++}`, value: r() < 0.5 ? codec.encode(schemaId, e) : EventCodec.encodeJson(e) });
      }
      if (messages.length === 200) await producer.send({ topic: topics.inference, messages: messages.splice(0) });
    }
    if (messages.length > 0) await producer.send({ topic: topics.inference, messages });

    await waitFor(() => handle!.state.counters.consumed + handle!.state.counters.deadLettered >= GOOD + BAD, 60_000, 'every record to be processed');
    expect(handle.state.counters.deadLettered).toBe(BAD);
    expect(handle.state.counters.consumed).toBe(GOOD);
    expect(handle.state.counters.late).toBe(0);

    const dlq = await consumeMessages(kafka, topics.dlq, BAD, 60_000);
    expect(dlq).toHaveLength(BAD);
    const reasons = new Map<string, number>();
    for (const m of dlq) {
      const key = m.key!.toString();
      const want = expected.get(key);
      expect(want, `unexpected DLQ record ${key}`).toBeDefined();
      const error = m.headers![DLQ_HEADERS.error]!.toString();
      expect(error.startsWith(`${want!.reason}: `), `${key}: ${error}`).toBe(true);
      expect(m.headers![DLQ_HEADERS.sourceTopic]!.toString()).toBe(topics.inference);
      expect(Number(m.headers![DLQ_HEADERS.sourcePartition]!.toString())).toBeGreaterThanOrEqual(0);
      expect(m.headers![DLQ_HEADERS.sourceOffset]!.toString()).toMatch(/^\d+$/);
      // The value is copied unchanged (a tombstone stays a tombstone).
      if (want!.value === null || want!.value.length === 0) expect(m.value === null || m.value.length === 0).toBe(true);
      else expect(Buffer.compare(m.value!, want!.value)).toBe(0);
      expected.delete(key);
      reasons.set(want!.reason, (reasons.get(want!.reason) ?? 0) + 1);
    }
    expect(expected.size).toBe(0);
    console.log('dead-lettered by reason:', Object.fromEntries(reasons));

    const invalid = await handle.metrics.registry.getSingleMetric('driftstream_events_invalid_total')!.get();
    expect(invalid.values.reduce((a, v) => a + v.value, 0)).toBe(BAD);

    // Still up: more valid traffic is counted.
    await producer.send({ topic: topics.inference, messages: [{ key: 'late-good', value: EventCodec.encodeJson(inference(modelId, r, Date.now(), false, 999_999)) }] });
    await waitFor(() => handle!.state.counters.consumed === GOOD + 1, 15_000, 'the detector to keep consuming');
    let failed = false;
    handle.done.catch(() => (failed = true));
    await new Promise((res) => setTimeout(res, 10));
    expect(failed).toBe(false);
  }, 120_000);
});
