/**
 * Drives an inference topic with realistic events: N models x 20 numeric + 5
 * categorical features, Avro through the schema registry (or JSON), keyed by
 * modelId, with drift injected from a known event time on.
 *
 * Two modes:
 * - `count` without `rate`: as fast as possible, event time simulated (it
 *   starts at `eventTimeStart` and advances `eventTimeRate` events per second
 *   of event time), to pre-fill a topic;
 * - `rate`: live, at a target rate for `durationMs`, event time = now.
 *
 * As a command: `npx tsx load-tests/produce.ts --topic T --count 1000000` or
 * `--rate 5000 --duration 60s --drift-at 30s`; `--help` lists the options.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Kafka, Partitioners, logLevel, type Message, type Producer } from 'kafkajs';
import { EventCodec } from '../src/adapters/registry/event-codec.js';
import { parseDuration } from '../src/core/duration.js';
import { TrafficGenerator, modelIds } from './traffic.js';

export interface ProduceOptions {
  readonly brokers: readonly string[];
  readonly registryUrl: string;
  readonly topic: string;
  readonly format?: 'avro' | 'json';
  readonly models: readonly string[];
  /** Events to produce (fast mode; also caps live mode). */
  readonly count?: number;
  /** Target events per second (live mode: event time = now). */
  readonly rate?: number;
  /** Live mode: how long to produce. */
  readonly durationMs?: number;
  /** Fast mode: event time of the first event (default: now minus the span). */
  readonly eventTimeStart?: number;
  /** Fast mode: events per second of simulated event time (default 50,000). */
  readonly eventTimeRate?: number;
  /** Event time from which a model's events are drifted (default: never). */
  readonly driftFrom?: (modelId: string) => number;
  /** Event time from which a model's events are clean again (default: never). */
  readonly driftUntil?: (modelId: string) => number;
  readonly seed?: number;
  /** Messages per produce request (default 1000). */
  readonly batchSize?: number;
  /** Produce requests in flight (default 4). */
  readonly concurrency?: number;
  /** Partitions when the topic has to be created (default 3). */
  readonly partitions?: number;
  readonly onProgress?: (produced: number) => void;
  /** Live mode stops early when this returns true. */
  readonly shouldStop?: () => boolean;
}

export interface ProduceResult {
  readonly topic: string;
  readonly produced: number;
  readonly bytes: number;
  readonly elapsedMs: number;
  readonly eventsPerSecond: number;
  readonly firstEventTime: number;
  readonly lastEventTime: number;
  /** Event time of the first drifted event of each model that drifted. */
  readonly firstDrifted: Record<string, number>;
  readonly drifted: number;
}

/** Creates the topic when it does not exist; returns its partition count. */
export async function ensureTopic(kafka: Kafka, topic: string, partitions: number): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return meta.topics[0].partitions.length;
  } finally {
    await admin.disconnect();
  }
}

/** Produces load-test traffic to a topic (see the module comment for the two modes). */
export async function produce(options: ProduceOptions): Promise<ProduceResult> {
  const format = options.format ?? 'avro';
  const kafka = new Kafka({ clientId: 'driftstream-load-producer', brokers: [...options.brokers], logLevel: logLevel.ERROR });
  await ensureTopic(kafka, options.topic, options.partitions ?? 3);
  const codec = new EventCodec({ registryUrl: options.registryUrl });
  const schemaId = format === 'avro' ? await codec.register(`${options.topic}-value`, 'InferenceEvent') : 0;
  // Same partitioner as the producer helper (the Java client's murmur2): keyed by modelId.
  const producer: Producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();

  const gen = new TrafficGenerator(options.seed ?? 1, `ev${Date.now().toString(36)}`);
  const models = options.models;
  const driftFrom = options.driftFrom ?? (() => Infinity);
  const driftUntil = options.driftUntil ?? (() => Infinity);
  const firstDrifted: Record<string, number> = {};
  const batchSize = options.batchSize ?? 1000;
  const concurrency = options.concurrency ?? 4;
  const live = options.rate !== undefined;
  const count = options.count ?? (live ? Number.POSITIVE_INFINITY : 100_000);
  const eventTimeRate = options.eventTimeRate ?? 50_000;
  const eventTimeStart = options.eventTimeStart ?? Date.now() - Math.ceil((count / eventTimeRate) * 1000);

  let produced = 0;
  let bytes = 0;
  let drifted = 0;
  let firstTs = Infinity;
  let lastTs = -Infinity;
  let failure: Error | undefined;
  const inFlight = new Set<Promise<void>>();

  const encode = (modelId: string, ts: number): Message => {
    const isDrifted = ts >= driftFrom(modelId) && ts < driftUntil(modelId);
    if (isDrifted) {
      drifted++;
      if (firstDrifted[modelId] === undefined || ts < firstDrifted[modelId]) firstDrifted[modelId] = ts;
    }
    const event = gen.event(modelId, ts, isDrifted);
    const value = format === 'avro' ? codec.encode(schemaId, event) : EventCodec.encodeJson(event);
    bytes += value.length;
    if (ts < firstTs) firstTs = ts;
    if (ts > lastTs) lastTs = ts;
    return { key: modelId, value };
  };

  const send = async (messages: Message[]): Promise<void> => {
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (failure) throw failure;
    const p = producer
      .send({ topic: options.topic, messages, acks: 1 })
      .then(
        () => {
          produced += messages.length;
          options.onProgress?.(produced);
        },
        (err: Error) => {
          failure ??= err;
        },
      )
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  const started = performance.now();
  let generated = 0;
  try {
    if (!live) {
      while (generated < count) {
        const n = Math.min(batchSize, count - generated);
        const messages: Message[] = new Array(n);
        for (let k = 0; k < n; k++, generated++) {
          messages[k] = encode(models[generated % models.length], eventTimeStart + Math.floor((generated * 1000) / eventTimeRate));
        }
        await send(messages);
      }
    } else {
      const rate = options.rate!;
      const until = Date.now() + (options.durationMs ?? 60_000);
      const tickMs = 20;
      while (Date.now() < until && generated < count && !options.shouldStop?.()) {
        const tickStart = performance.now();
        const due = Math.min(count, Math.floor(((tickStart - started) / 1000) * rate)) - generated;
        for (let sent = 0; sent < due; ) {
          const n = Math.min(batchSize, due - sent);
          const messages: Message[] = new Array(n);
          const now = Date.now();
          for (let k = 0; k < n; k++, generated++) messages[k] = encode(models[generated % models.length], now);
          sent += n;
          await send(messages);
        }
        const spent = performance.now() - tickStart;
        if (spent < tickMs) await new Promise((r) => setTimeout(r, tickMs - spent));
      }
    }
    await Promise.all(inFlight);
    if (failure) throw failure;
  } finally {
    await Promise.allSettled(inFlight);
    await producer.disconnect().catch(() => undefined);
  }
  const elapsedMs = performance.now() - started;
  return {
    topic: options.topic,
    produced,
    bytes,
    elapsedMs,
    eventsPerSecond: produced / (elapsedMs / 1000),
    firstEventTime: firstTs,
    lastEventTime: lastTs,
    firstDrifted,
    drifted,
  };
}

const HELP = `npx tsx load-tests/produce.ts [options]

  --topic T            topic to produce to (created with --partitions if missing)  [required]
  --count N            events to produce as fast as possible (event time simulated)  [default 100000]
  --rate R             live mode: R events/s with event time = now
  --duration D         live mode: how long (e.g. 60s)  [default 60s]
  --models N           number of models (ids <prefix>-00 ...)  [default 10]
  --model-prefix P     model id prefix  [default load]
  --format F           avro (via the schema registry) or json  [default avro]
  --event-rate R       fast mode: events per second of simulated event time  [default 50000]
  --drift-at D         drift f00 and c0 from this offset after the first event (e.g. 30s)
  --partitions N       partitions when the topic is created  [default 3]
  --brokers B          [default DRIFTSTREAM_KAFKA_BROKERS or 127.0.0.1:9092]
  --registry URL       [default DRIFTSTREAM_SCHEMA_REGISTRY_URL or http://127.0.0.1:8081/apis/ccompat/v7]
`;

async function cli(): Promise<void> {
  const { values } = parseArgs({
    options: {
      topic: { type: 'string' },
      count: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string', default: '60s' },
      models: { type: 'string', default: '10' },
      'model-prefix': { type: 'string', default: 'load' },
      format: { type: 'string', default: 'avro' },
      'event-rate': { type: 'string', default: '50000' },
      'drift-at': { type: 'string' },
      partitions: { type: 'string', default: '3' },
      brokers: { type: 'string', default: process.env.DRIFTSTREAM_KAFKA_BROKERS ?? '127.0.0.1:9092' },
      registry: { type: 'string', default: process.env.DRIFTSTREAM_SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.topic) {
    process.stdout.write(HELP);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  if (values.format !== 'avro' && values.format !== 'json') throw new Error(`--format: expected avro or json, got ${values.format}`);
  const duration = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const ms = parseDuration(v);
    if (ms === undefined) throw new Error(`--${name}: expected a duration like 30s, got ${v}`);
    return ms;
  };
  const rate = values.rate === undefined ? undefined : Number(values.rate);
  const count = values.count === undefined ? undefined : Number(values.count);
  const eventRate = Number(values['event-rate']);
  const driftOffset = duration('drift-at', values['drift-at']);
  const start = rate === undefined ? Date.now() - Math.ceil(((count ?? 100_000) / eventRate) * 1000) : Date.now();
  const result = await produce({
    brokers: values.brokers!.split(','),
    registryUrl: values.registry!,
    topic: values.topic,
    format: values.format,
    models: modelIds(values['model-prefix']!, Number(values.models)),
    count,
    rate,
    durationMs: duration('duration', values.duration),
    eventTimeStart: start,
    eventTimeRate: eventRate,
    driftFrom: driftOffset === undefined ? undefined : () => start + driftOffset,
    partitions: Number(values.partitions),
  });
  process.stdout.write(JSON.stringify({ ...result, bytesPerEvent: result.bytes / Math.max(1, result.produced) }, null, 2) + '\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  cli().catch((err: Error) => {
    process.stderr.write(`produce: ${err.message}\n`);
    process.exitCode = 1;
  });
}
