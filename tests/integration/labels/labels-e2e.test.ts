import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Producer } from 'kafkajs';
import { Redis } from 'ioredis';
import { createRedisConnection, type RedisClient } from '../../../src/adapters/redis/redis-connection.js';
import { startRedisCluster, type LocalRedisCluster } from '../../support/redis-cluster.js';
import { MemoryModelRepository } from '../../../src/adapters/memory/memory-model-repository.js';
import { MemoryAlertStateStore } from '../../../src/adapters/memory/memory-alert-state-store.js';
import { MemoryResultRepository } from '../../../src/adapters/memory/memory-result-repository.js';
import { RedisLabelJoin } from '../../../src/adapters/redis/redis-label-join.js';
import { EventCodec } from '../../../src/adapters/registry/event-codec.js';
import type { GroundTruthEvent, InferenceEvent } from '../../../src/core/events.js';
import type { Evaluation } from '../../../src/core/drift/types.js';
import { parseModelConfig } from '../../../src/core/model/model-config.js';
import { DELAY_GAMMA } from '../../../src/core/performance/counters.js';
import { buildApp } from '../../../src/http/app.js';
import { readSampleBatches } from '../../../src/io/sample-reader.js';
import { startDetector, type DetectorHandle } from '../../../src/app/detector.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { buildReferenceFromSamples } from '../../../src/stream/reference-from-samples.js';
import { LabelJoinPerformanceReader } from '../../../src/stream/performance-reader.js';
import { REGISTRY_URL, consumeMessages, createTopics, testKafka, uniqueName } from '../../support/kafka.js';
import { AlertCollector, CATEGORICAL, NUMERIC, createStreamTopics, inference, rng, sleep, streamConfig, waitFor, writeReferenceSample, type StreamTopics } from '../stream/stream-support.js';
import { binaryOracle, meanStd, quantile, type Pair } from '../../unit/core/performance/oracle.js';

const REDIS_URL = process.env.DRIFTSTREAM_REDIS_URL ?? 'redis://127.0.0.1:6379';
// LABELS_REDIS=cluster (labels-e2e-redis-cluster.test.ts): the join in a local Redis Cluster of 3 masters and 3 replicas.
const IN_CLUSTER = process.env.LABELS_REDIS === 'cluster';
let cluster: LocalRedisCluster | undefined;
const HORIZON_MS = 25_000;

const kafka = testKafka();
const modelId = uniqueName('labels');
const model = parseModelConfig({
  modelId,
  features: Object.fromEntries([...NUMERIC.map((f) => [f, 'numeric']), ...CATEGORICAL.map((f) => [f, 'categorical'])]),
  windows: [{ name: '1m', size: '1m' }],
  performance: { minLabelled: 100 },
});

let producer: Producer;
let topics: StreamTopics & { groundTruth: string };
let redis: RedisClient;
let join: RedisLabelJoin;
let collector: AlertCollector;
const keyPrefix = `dstest:e2e:${randomUUID()}:`;
const handles: DetectorHandle[] = [];
const codec = new EventCodec({ registryUrl: REGISTRY_URL });
let inferenceSchema = 0;
let labelSchema = 0;

beforeAll(async () => {
  producer = kafka.producer();
  await producer.connect();
  const base = await createStreamTopics(kafka, 'labels');
  topics = { ...base, groundTruth: uniqueName('labels-ground-truth') };
  await createTopics(kafka, [topics.groundTruth], 3);
  inferenceSchema = await codec.register(`${topics.inference}-value`, 'InferenceEvent');
  labelSchema = await codec.register(`${topics.groundTruth}-value`, 'GroundTruthEvent');
  if (IN_CLUSTER) cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  redis = cluster ? createRedisConnection(cluster.url, { mode: 'cluster', nodes: cluster.seeds.slice(1) }) : new Redis(REDIS_URL);
  join = new RedisLabelJoin(redis, { keyPrefix, horizonMs: HORIZON_MS });
  collector = new AlertCollector(kafka, topics.alerts);
  await collector.start();
});

afterAll(async () => {
  for (const h of handles) await h.stop().catch(() => {});
  await collector?.stop();
  await producer?.disconnect();
  if (cluster) {
    redis.disconnect();
    await cluster.stop();
  } else if (redis instanceof Redis) {
    const stream = redis.scanStream({ match: `${keyPrefix}*`, count: 1000 });
    for await (const keys of stream as AsyncIterable<string[]>) if (keys.length) await redis.unlink(...keys);
    await redis.quit();
  }
});

// Avro or JSON at random, random keys: labels of one model span partitions.
async function send(topic: string, schemaId: number, values: readonly (InferenceEvent | GroundTruthEvent)[], r: () => number): Promise<void> {
  await producer.send({
    topic,
    messages: values.map((v) => ({ key: `k${Math.floor(r() * 100)}`, value: r() < 0.5 ? codec.encode(schemaId, v) : EventCodec.encodeJson(v) })),
  });
}

async function start(groupSuffix: string): Promise<DetectorHandle> {
  const config = streamConfig(topics, {
    DRIFTSTREAM_GROUND_TRUTH_TOPIC: topics.groundTruth,
    DRIFTSTREAM_LABEL_HORIZON: `${HORIZON_MS}ms`,
    DRIFTSTREAM_GROUP_ID: uniqueName(`labels-${groupSuffix}`),
  });
  const detector = await startDetector(config, { models: sharedModels, alertState: sharedAlertState, results: sharedResults, labelJoin: join }, { models: [model], performanceIntervalMs: 500 });
  handles.push(detector);
  await detector.joined;
  return detector;
}

const sharedModels = new MemoryModelRepository();
const sharedAlertState = new MemoryAlertStateStore();
const sharedResults = new MemoryResultRepository();

describe(`ground truth end to end (real Kafka, registry and Redis${IN_CLUSTER ? ' Cluster' : ''})`, () => {
  it('serves exactly the metrics of the joined pairs, whatever the order, duplicates, replays and expired labels', async () => {
    // A reference with labels: its performance is what PERFORMANCE alerts compare with.
    const samplePath = await writeReferenceSample(modelId, 2000);
    const { profile } = await buildReferenceFromSamples(model, readSampleBatches(samplePath), { createdAt: Date.now() });
    const reference = { ...profile, performance: { labelled: 2000, kind: 'score' as const, positiveClass: '1', metrics: { accuracy: 0.97, f1: 0.96, rocAuc: 0.99 } } };
    await sharedModels.putModel({ modelId });
    await sharedModels.addReference(modelId, reference.id, reference);

    const detector = await start('a');

    // 600 predictions in one closed minute; labels agree with the prediction 75% of the time.
    const r = rng(11);
    const windowStart = Math.floor(Date.now() / 60_000) * 60_000 - 120_000;
    const events = Array.from({ length: 600 }, (_, i) => ({ ...inference(modelId, r, windowStart + i * 90, false, i), eventId: `${modelId}-e${i}` }));
    const truth = events.map((e) => (r() < 0.75 ? (e.prediction === '1' ? 1 : 0) : e.prediction === '1' ? 0 : 1));
    const delayOf = (i: number) => 1000 * (1 + (i % 40));
    const label = (i: number, value: number = truth[i]): GroundTruthEvent => ({ eventId: events[i].eventId, modelId, timestamp: events[i].timestamp + delayOf(i), label: value });
    const range = (a: number, b: number) => Array.from({ length: b - a }, (_, k) => a + k);

    // A: labels 0..199 come before their inferences, some twice.
    await send(topics.groundTruth, labelSchema, [...range(0, 200).map((i) => label(i)), ...range(0, 50).map((i) => label(i))], r);
    // A record that is not a label goes to the DLQ, the consumer carries on.
    await producer.send({ topic: topics.groundTruth, messages: [{ value: Buffer.from('{"eventId": 12') }] });
    await waitFor(async () => (await join.stats(modelId)).waited >= 200, 30_000, 'labels waiting for their inferences');

    // Every inference, 0..99 twice.
    await send(topics.inference, inferenceSchema, [...events, ...events.slice(0, 100)], r);
    await waitFor(async () => (await join.stats(modelId)).inferences >= 600 && (await join.stats(modelId)).joined >= 200, 30_000, 'inferences recorded');

    // B: labels 200..499 after their inferences, 200..299 twice.
    await send(topics.groundTruth, labelSchema, [...range(200, 500).map((i) => label(i)), ...range(200, 300).map((i) => label(i))], r);
    await waitFor(async () => (await join.stats(modelId)).joined >= 500, 30_000, 'labels joined');
    // Then 300..349 again with the other class: the first label stands.
    await send(topics.groundTruth, labelSchema, range(300, 350).map((i) => label(i, 1 - truth[i])), r);
    await waitFor(async () => (await join.stats(modelId)).labelDuplicates >= 200, 30_000, 'corrections counted as duplicates');
    const inferredAt = Date.now();

    // Replay: a second detector group reads both topics from the beginning, within the horizon; nothing may count twice.
    await detector.stop();
    const replay = await start('b');
    await waitFor(async () => (await join.stats(modelId)).inferenceDuplicates >= 100 + 700 && (await join.stats(modelId)).labelDuplicates >= 200 + 700, 45_000, 'the replay');
    expect((await join.stats(modelId)).joined).toBe(500);

    // C: labels 500..549 come after their inferences expired; G: labels of predictions never made. Both expire, counted.
    // (An inference is kept at least the horizon and, in Redis, where entries expire by bucket, at most 1.25 times it.)
    await sleep(Math.max(0, inferredAt + HORIZON_MS * 1.25 + 1000 - Date.now()));
    const ghosts: GroundTruthEvent[] = range(0, 20).map((k) => ({ eventId: `${modelId}-ghost-${k}`, modelId, timestamp: windowStart, label: 1 }));
    await send(topics.groundTruth, labelSchema, [...range(500, 550).map((i) => label(i)), ...ghosts], r);
    await waitFor(async () => (await join.stats(modelId)).waited >= 270, 30_000, 'late labels waiting');
    expect((await join.stats(modelId)).joined).toBe(500);
    await waitFor(async () => (await join.stats(modelId)).expired >= 70, HORIZON_MS + 30_000, 'late labels expiring');
    expect(await replay.metrics.registry.getSingleMetricAsString('driftstream_labels_unmatched_total')).toMatch(/reason="expired"} 70/);

    // The pairs that joined: 0..499 with their first label.
    const pairs: Pair[] = range(0, 500).map((i) => ({ score: events[i].score, prediction: events[i].prediction, label: truth[i] }));
    const want = binaryOracle(pairs);
    const delays = range(0, 500).map(delayOf);

    const app = await buildApp({
      config: { ...streamConfig(topics).http },
      models: sharedModels,
      results: sharedResults,
      healthChecks: [],
      metrics: createMetrics({ defaultMetrics: false }),
      logger: createLogger('silent'),
      performance: new LabelJoinPerformanceReader(join, sharedModels),
    });
    const res = await app.inject({ method: 'GET', url: `/api/v1/models/${modelId}/performance?window=1m` });
    await app.close();
    expect(res.statusCode).toBe(200);
    const latest = res.json().latest as { windowStart: number; windowEnd: number; performance: Evaluation['performance'] & {}; proxy: Record<string, number | null> };
    expect(latest.windowStart).toBe(windowStart);
    expect(latest.windowEnd).toBe(windowStart + 60_000);
    const perf = latest.performance;
    expect(perf.labelled).toBe(500);
    expect(perf.predictions).toBe(600);
    expect(perf.coverage).toBeCloseTo(500 / 600, 12);
    for (const k of ['accuracy', 'precision', 'recall', 'f1', 'brier'] as const) expect(perf.metrics[k], k).toBeCloseTo(want[k]!, 9);
    expect(Math.abs(perf.metrics.rocAuc! - want.rocAuc!)).toBeLessThan(0.01);
    const rel = (DELAY_GAMMA - 1) / (DELAY_GAMMA + 1);
    expect(Math.abs(perf.labelDelayP50Ms! - quantile(delays, 0.5))).toBeLessThanOrEqual(rel * quantile(delays, 0.5));
    expect(Math.abs(perf.labelDelayP95Ms! - quantile(delays, 0.95))).toBeLessThanOrEqual(rel * quantile(delays, 0.95));
    const scores = events.map((e) => e.score!);
    expect(latest.proxy.scoreMean).toBeCloseTo(scores.reduce((a, b) => a + b, 0) / scores.length, 9);
    expect(latest.proxy.positiveRate).toBeCloseTo(scores.filter((s) => s >= 0.5).length / scores.length, 12);
    const ms = meanStd(scores);
    expect(latest.proxy.scoreStd).toBeCloseTo(ms.std, 9);
    const pos = scores.filter((s) => s >= 0.5).length / scores.length;
    expect(latest.proxy.predictionEntropy).toBeCloseTo(-(pos * Math.log(pos) + (1 - pos) * Math.log(1 - pos)), 12);
    expect(latest.proxy.meanScoreEntropy).toBeCloseTo(scores.reduce((h, p) => h - (p * Math.log(p) + (1 - p) * Math.log(1 - p)), 0) / scores.length, 9);
    expect(perf.metrics.labelPositiveRate).toBeCloseTo(range(0, 500).filter((i) => truth[i] === 1).length / 500, 12);
    expect(Math.abs(perf.metrics.rocAuc! - want.rocAuc!)).toBeLessThanOrEqual(perf.metrics.rocAucErrorBound! + 1e-12);

    // The metrics topic carries the same numbers for the window.
    const published = (await readAll(topics.metrics))
      .map((v) => JSON.parse(v) as Evaluation)
      .filter((e) => e.modelId === modelId && e.windowStart === windowStart && e.performance?.labelled === 500);
    expect(published.length).toBeGreaterThan(0);
    expect(published.at(-1)!.performance!.metrics.accuracy).toBeCloseTo(want.accuracy!, 9);

    // Accuracy fell from 0.97 to about 0.75: one CRITICAL PERFORMANCE alert, never published twice.
    await waitFor(() => collector.alerts.some((a) => a.alert.kind === 'PERFORMANCE' && a.alert.statistic === 'accuracy'), 15_000, 'the PERFORMANCE alert');
    const perfAlerts = collector.alerts.filter((a) => a.alert.kind === 'PERFORMANCE');
    const accuracy = perfAlerts.filter((a) => a.alert.statistic === 'accuracy');
    expect(accuracy).toHaveLength(1);
    expect(accuracy[0].alert).toMatchObject({ severity: 'CRITICAL', status: 'FIRING', windowStart, windowName: '1m' });
    // It fired as soon as the window had enough labels: valued on the pairs joined by then.
    const details = accuracy[0].alert.details;
    expect(Number(details.labelled)).toBeGreaterThanOrEqual(100);
    expect(accuracy[0].alert.value).toBeCloseTo(0.97 - Number(details.current), 9);
    expect(accuracy[0].alert.value).toBeGreaterThanOrEqual(0.1);
    const keys = perfAlerts.map((a) => `${a.alert.alertId}|${a.alert.status}|${a.alert.severity}`);
    expect(new Set(keys).size).toBe(keys.length);

    // The bad label went to the DLQ with its reason and source.
    const dlq = await consumeMessages(kafka, topics.dlq, 1, 30_000);
    const headers = dlq[0].headers!;
    expect(String(headers['driftstream-source-topic'])).toBe(topics.groundTruth);
    expect(String(headers['driftstream-error'])).toMatch(/^bad_json/);
  }, 240_000);
});

/** Every value on a topic so far. */
async function readAll(topic: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
  const messages = await consumeMessages(kafka, topic, total, 30_000);
  return messages.map((m) => m.value!.toString());
}
