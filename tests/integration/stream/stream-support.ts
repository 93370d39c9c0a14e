import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import { EventCodec } from '../../../src/adapters/registry/event-codec.js';
import { loadConfig, type Config } from '../../../src/config/index.js';
import type { DriftAlert, InferenceEvent } from '../../../src/core/events.js';
import { REGISTRY_URL, createTopics, uniqueName } from '../../support/kafka.js';
import { mulberry32 } from '../../../src/core/random.js';
import { MemoryModelRepository } from '../../../src/adapters/memory/index.js';
import { parseModelConfig, type ModelConfig } from '../../../src/core/model/model-config.js';
import { readSampleBatches } from '../../../src/io/sample-reader.js';
import { buildReferenceFromSamples } from '../../../src/stream/reference-from-samples.js';

export const NUMERIC = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];
export const CATEGORICAL = ['c0', 'c1'];
export const C0 = ['a', 'b', 'c', 'd'];
export const C1 = ['x', 'y', 'z'];

/** Deterministic pseudo-random numbers (mulberry32). */
export const rng = mulberry32;

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());
}

/**
 * A model with 8 numeric and 2 categorical features. Drift shifts f0 by 1.5
 * standard deviations and makes c0 mostly 'a'; the score depends on f1 only,
 * so drifting f0 and c0 moves no output.
 */
export function features(r: () => number, drift: boolean): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const f of NUMERIC) out[f] = normal(r);
  if (drift) out.f0 = (out.f0 as number) + 1.5;
  out.c0 = drift && r() < 0.7 ? 'a' : C0[Math.floor(r() * C0.length)];
  out.c1 = C1[Math.floor(r() * C1.length)];
  return out;
}

export function inference(modelId: string, r: () => number, ts: number, drift: boolean, i: number): InferenceEvent {
  const f = features(r, drift);
  const score = 1 / (1 + Math.exp(-(f.f1 as number)));
  return { eventId: `e-${ts}-${i}`, modelId, modelVersion: 'v1', timestamp: ts, features: f, prediction: score >= 0.5 ? '1' : '0', score, attributes: {} };
}

/** Writes an NDJSON reference sample of `n` events from the undrifted distribution. */
export async function writeReferenceSample(modelId: string, n: number, seed = 42): Promise<string> {
  const r = rng(seed);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const e = inference(modelId, r, 0, false, i);
    lines.push(JSON.stringify({ ...e.features, score: e.score, prediction: e.prediction }));
  }
  const path = join(tmpdir(), `${uniqueName('reference')}.ndjson`);
  await writeFile(path, lines.join('\n') + '\n');
  return path;
}

/**
 * A model of this file's features with one 1-minute window, and a model repository holding it with a
 * reference built from {@link writeReferenceSample}.
 */
export async function modelWithReference(modelId: string): Promise<{ model: ModelConfig; models: MemoryModelRepository }> {
  const model = parseModelConfig({
    modelId,
    features: Object.fromEntries([...NUMERIC.map((f) => [f, 'numeric']), ...CATEGORICAL.map((f) => [f, 'categorical'])]),
    windows: [{ name: '1m', size: '1m' }],
  });
  const models = new MemoryModelRepository();
  const { profile } = await buildReferenceFromSamples(model, readSampleBatches(await writeReferenceSample(modelId, 2000)), { createdAt: Date.now() });
  await models.putModel({ modelId });
  await models.addReference(modelId, profile.id, profile);
  return { model, models };
}

export interface StreamTopics {
  inference: string;
  alerts: string;
  metrics: string;
  dlq: string;
}

export async function createStreamTopics(kafka: Kafka, prefix: string, partitions = 3): Promise<StreamTopics> {
  const topics = {
    inference: uniqueName(`${prefix}-inference`),
    alerts: uniqueName(`${prefix}-alerts`),
    metrics: uniqueName(`${prefix}-metrics`),
    dlq: uniqueName(`${prefix}-dlq`),
  };
  await createTopics(kafka, [topics.inference, topics.dlq], partitions);
  await createTopics(kafka, [topics.alerts, topics.metrics], 1);
  return topics;
}

export function streamConfig(topics: StreamTopics, extra: Record<string, string> = {}): Config {
  return loadConfig({
    DRIFTSTREAM_INFERENCE_TOPIC: topics.inference,
    DRIFTSTREAM_ALERTS_TOPIC: topics.alerts,
    DRIFTSTREAM_METRICS_TOPIC: topics.metrics,
    DRIFTSTREAM_DLQ_TOPIC: topics.dlq,
    // The detector consumes ground truth too: never the shared default topic.
    DRIFTSTREAM_GROUND_TRUTH_TOPIC: `${topics.inference}-ground-truth`,
    DRIFTSTREAM_GROUP_ID: uniqueName('detector'),
    DRIFTSTREAM_SCHEMA_REGISTRY_URL: REGISTRY_URL,
    DRIFTSTREAM_IDLE_TIMEOUT: '3s',
    DRIFTSTREAM_CHECKPOINT_INTERVAL: '1s',
    DRIFTSTREAM_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    // `DRIFTSTREAM_WORKERS=2 npx vitest run ...` runs a suite with ingest on worker threads.
    ...(process.env.DRIFTSTREAM_WORKERS ? { DRIFTSTREAM_WORKERS: process.env.DRIFTSTREAM_WORKERS } : {}),
    ...extra,
  });
}

/** Collects every DriftAlert published on a topic, with the wall time it was received. */
export class AlertCollector {
  readonly alerts: { alert: DriftAlert; receivedAt: number }[] = [];
  private consumer: Consumer | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly codec = new EventCodec({ registryUrl: REGISTRY_URL }),
  ) {}

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: uniqueName('alerts-reader'), maxWaitTimeInMs: 50 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    let joined: () => void = () => {};
    const ready = new Promise<void>((r) => (joined = r));
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await consumer.run({
      eachMessage: async ({ message }) => {
        const { value } = await this.codec.decode(message.value);
        const a = value as DriftAlert;
        this.alerts.push({ alert: { ...a, windowStart: Number(a.windowStart), windowEnd: Number(a.windowEnd), detectedAt: Number(a.detectedAt) }, receivedAt: Date.now() });
      },
    });
    await ready;
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

/** Produces events with random keys (so one model spans partitions), Avro or JSON at random. */
export class TrafficProducer {
  private schemaId = 0;
  private readonly codec = new EventCodec({ registryUrl: REGISTRY_URL });
  produced = 0;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  async init(): Promise<void> {
    this.schemaId = await this.codec.register(`${this.topic}-value`, 'InferenceEvent');
  }

  async send(events: readonly InferenceEvent[], r: () => number): Promise<void> {
    await this.producer.send({
      topic: this.topic,
      messages: events.map((e) => ({
        key: `k${Math.floor(r() * 1000)}`,
        value: r() < 0.7 ? this.codec.encode(this.schemaId, e) : EventCodec.encodeJson(e),
      })),
    });
    this.produced += events.length;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
