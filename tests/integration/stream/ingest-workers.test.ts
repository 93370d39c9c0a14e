import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Producer } from 'kafkajs';
import { MemoryModelRepository } from '../../../src/adapters/memory/memory-model-repository.js';
import { MemoryCheckpointStore } from '../../../src/adapters/memory/memory-checkpoint-store.js';
import { MemoryResultRepository } from '../../../src/adapters/memory/memory-result-repository.js';
import { EventCodec } from '../../../src/adapters/registry/event-codec.js';
import { parseModelConfig } from '../../../src/core/model/model-config.js';
import type { Evaluation } from '../../../src/core/drift/types.js';
import { readSampleBatches } from '../../../src/io/sample-reader.js';
import { startDetector } from '../../../src/app/detector.js';
import { buildReferenceFromSamples } from '../../../src/stream/reference-from-samples.js';
import type { ProcessorStateJSON } from '../../../src/stream/inference-processor.js';
import { REGISTRY_URL, testKafka, uniqueName } from '../../support/kafka.js';
import { AlertCollector, CATEGORICAL, NUMERIC, createStreamTopics, inference, rng, sleep, streamConfig, waitFor, writeReferenceSample, type StreamTopics } from './stream-support.js';

// The same input, read once with ingest on the main thread and once on two worker threads, must give
// the same evaluations, alerts, counts, dead letters and checkpoints.

const PARTITIONS = 3;
const EVENTS = 24_000;
const BASE = Date.UTC(2026, 0, 1);
const EVENT_SPACING_MS = 2; // 48 s of event time: 24 panes of 2 s
const DRIFT_FROM = BASE + 20_000;
const DRIFT_TO = BASE + 30_000;

const kafka = testKafka();
let producer: Producer;
let topics: StreamTopics;
const modelId = uniqueName('workers');
const model = parseModelConfig({
  modelId,
  features: Object.fromEntries([...NUMERIC.map((f) => [f, 'numeric']), ...CATEGORICAL.map((f) => [f, 'categorical'])]),
  windows: [
    { name: '2s', size: '2s' },
    { name: '6s', size: '6s', slide: '2s' },
  ],
  allowedLateness: '1s',
  resolveAfter: 2,
  minSamples: 100,
});
const bad = { json: 0, typeMismatch: 0, unknownModel: 0 };

beforeAll(async () => {
  producer = kafka.producer();
  await producer.connect();
  topics = await createStreamTopics(kafka, 'workers', PARTITIONS);
  const codec = new EventCodec({ registryUrl: REGISTRY_URL });
  const schemaId = await codec.register(`${topics.inference}-value`, 'InferenceEvent');
  const r = rng(11);
  const batch: { partition: number; value: Buffer }[] = [];
  for (let i = 0; i < EVENTS; i++) {
    // In order within each partition: whether an event behind the clock is late depends on where a fetch
    // cut the batches (panes close after a batch), which no run repeats, so none is.
    const ts = BASE + i * EVENT_SPACING_MS;
    const e = inference(modelId, r, ts, ts >= DRIFT_FROM && ts < DRIFT_TO, i);
    let value: Buffer = r() < 0.7 ? codec.encode(schemaId, e) : EventCodec.encodeJson(e);
    if (i % 1201 === 7) {
      value = Buffer.from('{"eventId": "broken');
      bad.json++;
    } else if (i % 1301 === 9) {
      value = EventCodec.encodeJson({ ...e, features: { ...e.features, f0: 'text' } });
      bad.typeMismatch++;
    } else if (i % 1409 === 11) {
      value = codec.encode(schemaId, { ...e, modelId: 'nobody' });
      bad.unknownModel++;
    }
    batch.push({ partition: i % PARTITIONS, value });
  }
  for (let i = 0; i < batch.length; i += 2000) {
    await producer.send({ topic: topics.inference, messages: batch.slice(i, i + 2000).map((m) => ({ ...m, key: modelId })) });
  }
});

/** Keeps every evaluation saved (the memory repository keeps only the newest per window). */
class RecordingResults extends MemoryResultRepository {
  readonly all: Evaluation[] = [];
  override async saveEvaluations(evaluations: readonly Evaluation[]): Promise<void> {
    this.all.push(...evaluations);
    await super.saveEvaluations(evaluations);
  }
}

/**
 * Statistics read from t-digests: a digest's centroids depend on the order in which the coordinator
 * merged the partitions' partials, which no two runs repeat (on the main thread or not).
 */
const DIGEST_STATISTICS = new Set(['ks', 'wasserstein', 'wassersteinNormed', 'effect', 'sequential', 'attribution']);

/**
 * Where two evaluations differ: counts, verdicts and text exactly; other numbers to 1e-9 (a mean merged
 * from partials in another order may differ in its last bit); the digest statistics only in kind.
 */
function differences(a: unknown, b: unknown, path = '$', out: string[] = []): string[] {
  if (typeof a === 'number' && typeof b === 'number' && !(Number.isInteger(a) && Number.isInteger(b))) {
    if (!(Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b)))) out.push(`${path}: ${a} != ${b}`);
  } else if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const x = (a as Record<string, unknown>)[k];
      const y = (b as Record<string, unknown>)[k];
      if (DIGEST_STATISTICS.has(k)) {
        if (typeof x !== typeof y) out.push(`${path}.${k}: ${typeof x} != ${typeof y}`);
      } else differences(x, y, `${path}.${k}`, out);
    }
  } else if (!Object.is(a, b)) out.push(`${path}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`);
  return out;
}

afterAll(async () => {
  await producer?.disconnect();
});

interface RunResult {
  workers: number;
  evaluations: Omit<Evaluation, 'evaluatedAt'>[];
  alerts: string[];
  counters: { consumed: number; late: number; deadLettered: number };
  checkpoints: { nextOffset: string; late: number; openPanes: number }[];
}

async function readOnce(workers: number, reference: Awaited<ReturnType<typeof buildReferenceFromSamples>>['profile']): Promise<RunResult> {
  const models = new MemoryModelRepository();
  await models.putModel({ modelId });
  await models.addReference(modelId, reference.id, reference);
  const results = new RecordingResults();
  const checkpoints = new MemoryCheckpointStore();
  const alertsTopic = uniqueName(`workers-alerts-${workers}`);
  const config = streamConfig(
    { ...topics, alerts: alertsTopic },
    { DRIFTSTREAM_WORKERS: String(workers), DRIFTSTREAM_AUTO_REGISTER: 'false', DRIFTSTREAM_IDLE_TIMEOUT: '4s', DRIFTSTREAM_DEDUP_WINDOW: '10m', DRIFTSTREAM_DEDUP_CAPACITY: '100000' },
  );
  const collector = new AlertCollector(kafka, alertsTopic);
  const detector = await startDetector(config, { models, results, checkpoints }, { models: [model], startFrom: 'earliest' });
  try {
    await collector.start();
    expect(detector.ingestWorkers).toBe(workers);
    await detector.joined;
    const total = () => detector.state.counters.consumed + detector.state.counters.late + detector.state.counters.deadLettered;
    await waitFor(() => total() >= EVENTS, 90_000, `all ${EVENTS} records with ${workers} workers`);
    // The last panes close on the replay's idle flush: wait for both windows' evaluations of the last pane.
    const lastEnd = BASE + EVENTS * EVENT_SPACING_MS;
    await waitFor(() => ['2s', '6s'].every((w) => results.all.some((e) => e.windowName === w && e.windowEnd === lastEnd)), 90_000, 'the evaluations of the last pane');
    await sleep(1000);
  } finally {
    await detector.stop();
    await collector.stop();
  }
  // A window is evaluated again when a partition's partial comes after it completed (on the replay's idle
  // flush the partitions close their last panes one by one, in no fixed order): compare the last of each.
  const last = new Map<string, Omit<Evaluation, 'evaluatedAt'>>();
  for (const { evaluatedAt: _, ...e } of results.all) last.set(`${e.windowName}@${e.windowStart}`, e);
  const evaluations = [...last.values()].sort((a, b) => a.windowName.localeCompare(b.windowName) || a.windowStart - b.windowStart);
  const alerts = collector.alerts.map(({ alert: a }) => `${a.alertId}|${a.kind}|${a.feature}|${a.statistic}|${a.status}|${a.severity}|${a.windowStart}|${a.value}|${a.sampleSize}`).sort();
  const cps = [];
  for (let p = 0; p < PARTITIONS; p++) {
    const cp = await checkpoints.loadCheckpoint(config.groupId, topics.inference, p);
    const state = cp?.state as ProcessorStateJSON | undefined;
    const m = state?.windows.models[modelId];
    cps.push({ nextOffset: cp?.nextOffset ?? 'none', late: m?.late ?? -1, openPanes: m?.open.length ?? -1 });
  }
  const { consumed, late, deadLettered } = detector.state.counters;
  return { workers, evaluations, alerts, counters: { consumed, late, deadLettered }, checkpoints: cps };
}

describe('ingest on worker threads', () => {
  it('gives the same evaluations, alerts, counts and checkpoints as ingest on the main thread', async () => {
    const samplePath = await writeReferenceSample(modelId, 5000);
    const { profile } = await buildReferenceFromSamples(model, readSampleBatches(samplePath), { createdAt: BASE - 1000 });
    const inThread = await readOnce(0, profile);
    const onWorkers = await readOnce(2, profile);

    // The input is what the test made it: every record counted once, each refusal with its reason.
    const dead = bad.json + bad.typeMismatch + bad.unknownModel;
    expect(inThread.counters).toEqual({ consumed: EVENTS - dead, late: 0, deadLettered: dead });
    expect(inThread.evaluations.length).toBeGreaterThan(30);
    expect(inThread.evaluations.some((e) => e.datasetDrift.share > 0)).toBe(true);
    expect(inThread.alerts.some((a) => a.includes('|FIRING|'))).toBe(true);
    const typeErrors = inThread.evaluations.filter((e) => e.windowName === '2s').reduce((n, e) => n + (e.dataQuality?.typeErrors ?? 0), 0);
    expect(typeErrors).toBeGreaterThan(0);
    const perPartition = EVENTS / PARTITIONS;
    expect(inThread.checkpoints).toEqual(Array.from({ length: PARTITIONS }, () => expect.objectContaining({ nextOffset: String(perPartition), openPanes: 0 })));

    expect(onWorkers.counters).toEqual(inThread.counters);
    expect(onWorkers.checkpoints).toEqual(inThread.checkpoints);
    expect(onWorkers.alerts).toEqual(inThread.alerts);
    expect(onWorkers.evaluations.map((e) => `${e.windowName}@${e.windowStart}:${e.sampleSize}`)).toEqual(inThread.evaluations.map((e) => `${e.windowName}@${e.windowStart}:${e.sampleSize}`));
    expect(differences(onWorkers.evaluations, inThread.evaluations)).toEqual([]);
  }, 300_000);

  it('decodes on the workers with the configuration of the codec the detector was given', async () => {
    const models = new MemoryModelRepository();
    await models.putModel({ modelId });
    const config = streamConfig({ ...topics, alerts: uniqueName('workers-alerts-codec') }, { DRIFTSTREAM_WORKERS: '2', DRIFTSTREAM_AUTO_REGISTER: 'false' });
    // A codec that takes no value over 40 bytes, where the configuration allows a megabyte: every event is oversize.
    const codec = new EventCodec({ registryUrl: REGISTRY_URL, maxBytes: 40 });
    const detector = await startDetector(config, { models, codec }, { models: [model], startFrom: 'earliest' });
    try {
      expect(detector.ingestWorkers).toBe(2);
      await detector.joined;
      const { counters } = detector.state;
      await waitFor(() => counters.consumed + counters.late + counters.deadLettered >= EVENTS, 90_000, `all ${EVENTS} records`);
      expect({ consumed: counters.consumed, deadLettered: counters.deadLettered }).toEqual({ consumed: 0, deadLettered: EVENTS });
    } finally {
      await detector.stop();
    }
  }, 120_000);
});
