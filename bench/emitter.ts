// The producer helper: events per second one process emits (Avro and JSON,
// 20 numeric + 5 categorical features, batches of 500, acks from all replicas)
// and the bytes per event of each format.
// Run alone: `npx tsx bench/emitter.ts` (DRIFTSTREAM_KAFKA_BROKERS and
// DRIFTSTREAM_SCHEMA_REGISTRY_URL, defaults the local stack's).
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { EventCodec } from '../src/adapters/registry/event-codec.js';
import { createInferenceEmitter, type InferenceInput } from '../src/index.js';
import type { BenchLine } from './stats.js';

const BROKERS = (process.env.DRIFTSTREAM_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const REGISTRY_URL = process.env.DRIFTSTREAM_SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7';
const REGIONS = ['north', 'south', 'east', 'west', 'central'];

function event(i: number): InferenceInput {
  const features: Record<string, number | string> = {};
  for (let f = 0; f < 20; f++) features[`num_${f}`] = Math.round(Math.random() * 1e6) / 1e3;
  for (let f = 0; f < 5; f++) features[`cat_${f}`] = REGIONS[(i + f) % REGIONS.length];
  return {
    eventId: randomUUID(),
    modelId: `model-${i % 10}`,
    modelVersion: 'v1',
    timestamp: 1_764_000_000_000 + i,
    features,
    prediction: i % 2 ? '1' : '0',
    score: Math.random(),
    attributes: { segment: 'retail' },
  };
}

async function run(format: 'avro' | 'json', n: number): Promise<{ perSecond: number }> {
  const topic = `bench-emitter-${format}-${Date.now().toString(36)}`;
  const kafka = new Kafka({ clientId: 'bench', brokers: BROKERS, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
  const emitter = createInferenceEmitter({ brokers: BROKERS, registryUrl: REGISTRY_URL, format, topic, batchSize: 500 });
  // A pool of feature sets, each event with its own id and time, as a service would send.
  const pool = Array.from({ length: 1000 }, (_, i) => event(i));
  await emitter.emit(pool[0]); // connect and register outside the clock
  await emitter.flush();
  const t0 = process.hrtime.bigint();
  for (let i = 1; i < n; i++) await emitter.emit({ ...pool[i % pool.length], eventId: `e-${i}`, timestamp: 1_764_000_000_000 + i });
  await emitter.close();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
  return { perSecond: (n - 1) / seconds };
}

async function reachable(): Promise<boolean> {
  const admin = new Kafka({ clientId: 'bench', brokers: BROKERS, logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 2000 }).admin();
  try {
    await admin.connect();
    await admin.disconnect();
    return true;
  } catch {
    return false;
  }
}

export async function benchEmitter(n = 200_000): Promise<BenchLine[]> {
  if (!(await reachable())) {
    console.error(`emitter: skipped, Kafka is not reachable at ${BROKERS.join(',')} (npm run stack:up)`);
    return [];
  }
  const codec = new EventCodec({ registryUrl: REGISTRY_URL });
  const id = await codec.register(`bench-emitter-size-${Date.now().toString(36)}-value`, 'InferenceEvent');
  const sample = Array.from({ length: 1000 }, (_, i) => ({ ...event(i), modelVersion: 'v1', prediction: '1', score: 0.5 }));
  const avroBytes = sample.reduce((s, e) => s + codec.encode(id, e).length, 0) / sample.length;
  const jsonBytes = sample.reduce((s, e) => s + EventCodec.encodeJson(e).length, 0) / sample.length;
  const avro = await run('avro', n);
  const json = await run('json', n);
  return [
    { name: 'emitter avro: events/s, one process (25 features, batch 500, acks all)', value: avro.perSecond, unit: 'events/s' },
    { name: 'emitter json: events/s, one process (25 features, batch 500, acks all)', value: json.perSecond, unit: 'events/s' },
    { name: 'event size avro (25 features, wire format incl. 5-byte header)', value: avroBytes, unit: 'bytes' },
    { name: 'event size json (25 features)', value: jsonBytes, unit: 'bytes' },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await benchEmitter()) console.log(`${line.name.padEnd(72)} ${Math.round(line.value).toLocaleString('en-US')} ${line.unit}`);
}
