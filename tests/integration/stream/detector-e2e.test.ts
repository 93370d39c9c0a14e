import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Producer } from 'kafkajs';
import { MemoryModelRepository } from '../../../src/adapters/memory/memory-model-repository.js';
import { MemoryAlertStateStore } from '../../../src/adapters/memory/memory-alert-state-store.js';
import { parseModelConfig } from '../../../src/core/model/model-config.js';
import { readSampleBatches } from '../../../src/io/sample-reader.js';
import { startDetector, type DetectorHandle } from '../../../src/app/detector.js';
import { buildReferenceFromSamples } from '../../../src/stream/reference-from-samples.js';
import { testKafka, uniqueName } from '../../support/kafka.js';
import {
  AlertCollector,
  CATEGORICAL,
  NUMERIC,
  TrafficProducer,
  createStreamTopics,
  inference,
  rng,
  sleep,
  streamConfig,
  waitFor,
  writeReferenceSample,
  type StreamTopics,
} from './stream-support.js';

const PANE_MS = 2000;
const LATENESS_MS = 1000;
const RATE = 1000; // events per second
const TICK_MS = 50;

const kafka = testKafka();
let producer: Producer;
let topics: StreamTopics;
let collector: AlertCollector;
let traffic: TrafficProducer;
const handles: DetectorHandle[] = [];

const modelId = uniqueName('credit');
const model = parseModelConfig({
  modelId,
  features: Object.fromEntries([...NUMERIC.map((f) => [f, 'numeric']), ...CATEGORICAL.map((f) => [f, 'categorical'])]),
  windows: [{ name: '2s', size: '2s' }],
  allowedLateness: '1s',
  resolveAfter: 2,
  minSamples: 100,
});

beforeAll(async () => {
  producer = kafka.producer();
  await producer.connect();
  topics = await createStreamTopics(kafka, 'e2e');
  collector = new AlertCollector(kafka, topics.alerts);
  await collector.start();
  traffic = new TrafficProducer(producer, topics.inference);
  await traffic.init();
});

afterAll(async () => {
  for (const h of handles) await h.stop().catch(() => {});
  await collector?.stop();
  await producer?.disconnect();
});

/** Produces real-time traffic (event time = now) until `until`, drifted in [driftFrom, driftTo). */
async function produce(until: number, driftFrom: number, driftTo: number, r: () => number): Promise<void> {
  let i = 0;
  while (Date.now() < until) {
    const tickStart = Date.now();
    const events = [];
    for (let k = 0; k < (RATE * TICK_MS) / 1000; k++) {
      const ts = Date.now();
      events.push(inference(modelId, r, ts, ts >= driftFrom && ts < driftTo, i++));
    }
    await traffic.send(events, r);
    const spent = Date.now() - tickStart;
    if (spent < TICK_MS) await sleep(TICK_MS - spent);
  }
}

describe('driftstream run end to end (real Kafka and registry)', () => {
  it('alerts on exactly the drifted features in time, resolves, and never publishes an alert record twice', async () => {
    // A reference built from a sample file, as `driftstream reference build --from` does.
    const models = new MemoryModelRepository();
    const samplePath = await writeReferenceSample(modelId, 5000);
    const { profile } = await buildReferenceFromSamples(model, readSampleBatches(samplePath), { createdAt: Date.now() });
    await models.putModel({ modelId });
    await models.addReference(modelId, profile.id, profile);
    const alertState = new MemoryAlertStateStore();

    const config = streamConfig(topics);
    const detector = await startDetector(config, { models, alertState }, { models: [model] });
    handles.push(detector);
    await detector.joined;
    expect(detector.state.modelStatus(modelId)?.status).toBe('ok');

    const r = rng(7);
    const start = Date.now();
    const driftFrom = Math.ceil((start + 8000) / PANE_MS) * PANE_MS;
    const driftTo = driftFrom + 6000;
    const end = driftTo + 8000;
    await produce(end, driftFrom, driftTo, r);

    const firing = () => collector.alerts.filter((a) => a.alert.status === 'FIRING');
    const resolved = () => collector.alerts.filter((a) => a.alert.status === 'RESOLVED');
    await waitFor(() => resolved().length >= 2 && resolved().length >= new Set(firing().map((a) => a.alert.alertId)).size, 15_000, 'RESOLVED alerts');

    // Steady traffic raised nothing: every alert is about a window that holds drifted events.
    for (const { alert } of collector.alerts.filter((a) => a.alert.status === 'FIRING')) {
      expect(alert.windowEnd).toBeGreaterThan(driftFrom);
      expect(alert.windowStart).toBeLessThan(driftTo);
    }
    // Exactly the two drifted features fire (dataset drift stays below the 0.5 share: 2 of 10).
    const featureDrift = firing().filter((a) => a.alert.kind === 'FEATURE_DRIFT');
    expect([...new Set(featureDrift.map((a) => a.alert.feature))].sort()).toEqual(['c0', 'f0']);
    for (const { alert } of collector.alerts) expect(['c0', 'f0']).toContain(alert.feature);
    expect(collector.alerts.some((a) => a.alert.kind === 'DATASET_DRIFT')).toBe(false);

    // Within pane + lateness + 2 s of the first drifted event.
    const firstFiring = Math.min(...featureDrift.map((a) => a.receivedAt));
    const delay = firstFiring - driftFrom;
    console.log(
      `detection delay ${delay} ms (budget ${PANE_MS + LATENESS_MS + 2000} ms); alerts:`,
      collector.alerts.map((a) => `${a.alert.kind}:${a.alert.feature}:${a.alert.statistic}:${a.alert.status}:${a.alert.severity}`).join(' '),
    );
    expect(delay).toBeLessThanOrEqual(PANE_MS + LATENESS_MS + 2000);
    for (const f of ['f0', 'c0']) {
      const first = featureDrift.filter((a) => a.alert.feature === f).sort((a, b) => a.receivedAt - b.receivedAt)[0];
      expect(first.receivedAt - driftFrom).toBeLessThanOrEqual(PANE_MS + LATENESS_MS + 2000);
      expect(first.alert.windowStart).toBe(driftFrom);
    }

    // Removing the drift resolves every incident, under the id it fired with.
    const ids = new Set(firing().map((a) => a.alert.alertId));
    expect(new Set(resolved().map((a) => a.alert.alertId))).toEqual(ids);
    for (const { alert } of resolved()) expect(alert.windowStart).toBeGreaterThanOrEqual(driftTo);

    const before = collector.alerts.length;
    const key = (a: { alertId: string; status: string; severity: string }) => `${a.alertId}|${a.status}|${a.severity}`;
    expect(new Set(collector.alerts.map((a) => key(a.alert))).size).toBe(before);
    expect(detector.state.modelStatus(modelId)?.status).toBe('ok');
    expect(detector.state.counters.deadLettered).toBe(0);
    await detector.stop();

    // Restart over the same topic from the beginning (a new consumer group) with the same alert state.
    const again = await startDetector(streamConfig(topics), { models, alertState }, { models: [model] });
    handles.push(again);
    await again.joined;
    await waitFor(() => again.state.counters.consumed + again.state.counters.late >= traffic.produced, 30_000, 'the replay to finish');
    let evaluations = -1;
    await waitFor(() => {
      const settled = again.state.counters.evaluations === evaluations && evaluations > 0;
      evaluations = again.state.counters.evaluations;
      return settled;
    }, 20_000, 'the replayed evaluations');
    await sleep(1000);
    expect(again.state.counters.consumed).toBe(traffic.produced);
    expect(collector.alerts.length).toBe(before);
    expect(new Set(collector.alerts.map((a) => key(a.alert))).size).toBe(collector.alerts.length);
    await again.stop();
  }, 120_000);
});
