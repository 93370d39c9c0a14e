import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaHealthCheck } from '../../../src/adapters/kafka/kafka-health-check.js';
import { MemoryModelRepository } from '../../../src/adapters/memory/memory-model-repository.js';
import { MemoryResultRepository } from '../../../src/adapters/memory/memory-result-repository.js';
import { startHttp, type HttpHandle } from '../../../src/commands/serve.js';
import { startDetector, type DetectorHandle } from '../../../src/app/detector.js';
import { testKafka, uniqueName } from '../../support/kafka.js';
import { ARTIFACTS, CHROMIUM, launchChromium } from '../../browser/browser.js';
import {
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
} from '../stream/stream-support.js';

const KEY = 'http-e2e-editor-key';
const PANE_MS = 2000;
const RATE = 1000;
const TICK_MS = 50;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (r: Response): Promise<any> => r.json();

describe('the HTTP service beside the running detector (real Kafka and registry)', () => {
  const kafka = testKafka();
  const modelId = uniqueName('http-credit');
  let topics: StreamTopics;
  let producer: Producer;
  let traffic: TrafficProducer;
  let detector: DetectorHandle;
  let http: HttpHandle;
  const kafkaCheck = kafkaHealthCheck(kafka);
  let producing = true;
  let produced: Promise<void> = Promise.resolve();
  let driftFrom = Infinity;

  beforeAll(async () => {
    topics = await createStreamTopics(kafka, 'http');
    producer = kafka.producer();
    await producer.connect();
    traffic = new TrafficProducer(producer, topics.inference);
    await traffic.init();
    const config = streamConfig(topics, { DRIFTSTREAM_API_KEYS: `editor:${KEY}`, DRIFTSTREAM_HTTP_PORT: '0', DRIFTSTREAM_ALLOWED_LATENESS: '1s' });
    detector = await startDetector(config, { models: new MemoryModelRepository(), results: new MemoryResultRepository() }, { modelRefreshIntervalMs: 300 });
    http = await startHttp(config, {
      logger: detector.logger,
      metrics: detector.metrics,
      models: detector.models,
      results: detector.results,
      state: detector.state,
      healthChecks: [kafkaCheck],
    });
    await detector.joined;
  }, 90_000);

  afterAll(async () => {
    producing = false;
    await produced.catch(() => undefined);
    await http?.close();
    await detector?.stop();
    await kafkaCheck.close();
    await producer?.disconnect();
  });

  const url = (path: string) => `${http.url}${path}`;

  it('takes a model and its reference over HTTP, and the detector picks both up', async () => {
    const features = Object.fromEntries([...NUMERIC.map((f) => [f, 'numeric']), ...CATEGORICAL.map((f) => [f, 'categorical'])]);
    let r = await fetch(url(`/api/v1/models/${modelId}`), {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify({ features, windows: [{ name: '2s', size: '2s' }], allowedLateness: '1s', resolveAfter: 2, minSamples: 100 }),
    });
    expect(r.status).toBe(201);
    expect((await json(r)).status).toBe('warming_up');
    const sample = await readFile(await writeReferenceSample(modelId, 5000));
    r = await fetch(url(`/api/v1/models/${modelId}/reference`), { method: 'POST', headers: { 'content-type': 'application/x-ndjson', 'x-api-key': KEY }, body: sample });
    expect(r.status).toBe(201);
    const ref = await json(r);
    expect(ref.rows).toBe(5000);
    await waitFor(async () => (await json(await fetch(url(`/api/v1/models/${modelId}`)))).status === 'ok', 15_000, 'the detector to load the reference');
    const m = await json(await fetch(url(`/api/v1/models/${modelId}`)));
    expect(m.detector.referenceId).toBe(ref.referenceId);
    const ready = await fetch(url('/readyz'));
    expect(ready.status).toBe(200);
    expect((await json(ready)).checks).toEqual({ kafka: 'up' });
  }, 60_000);

  it('serves the drift of live traffic: the drifted features are marked, alerts listed, metrics exported', async () => {
    const r = rng(11);
    driftFrom = Math.ceil((Date.now() + 6000) / PANE_MS) * PANE_MS;
    // Traffic in real time (event time = now), drifted from driftFrom on, until the test ends.
    produced = (async () => {
      // Start on a pane boundary: a first window cut short by the start would hold a thin sample.
      // A timer counts from the event loop's cached clock and can fire before Date.now() reaches
      // the boundary, so wait until the clock itself has passed it.
      const boundary = Math.ceil(Date.now() / PANE_MS) * PANE_MS;
      while (Date.now() < boundary) await sleep(Math.max(1, boundary - Date.now()));
      let i = 0;
      while (producing) {
        const tick = Date.now();
        const events = [];
        for (let k = 0; k < (RATE * TICK_MS) / 1000; k++) {
          const ts = Date.now();
          events.push(inference(modelId, r, ts, ts >= driftFrom, i++));
        }
        await traffic.send(events, r);
        const spent = Date.now() - tick;
        if (spent < TICK_MS) await sleep(TICK_MS - spent);
      }
    })();

    await waitFor(async () => (await fetch(url(`/api/v1/models/${modelId}/drift?window=2s`))).status === 200, 30_000, 'a first evaluation');

    await waitFor(
      async () => {
        const e = await json(await fetch(url(`/api/v1/models/${modelId}/drift?window=2s`)));
        return e.windowStart >= driftFrom && e.features.f0?.drift === true;
      },
      30_000,
      'drift of f0 on the drift endpoint',
    );
    const e = await json(await fetch(url(`/api/v1/models/${modelId}/drift?window=2s`)));
    expect(e.features.f0.drift).toBe(true);
    expect(e.features.f0.ks.statistic).toBeGreaterThan(0.2);
    expect(e.features.c0.drift).toBe(true);
    expect(e.features.f1.drift).toBe(false);
    expect(Object.keys(e.features).sort()).toEqual([...NUMERIC, ...CATEGORICAL].sort());

    const m = await json(await fetch(url(`/api/v1/models/${modelId}`)));
    expect(m.status).toBe('drifting');
    expect(m.windows[0].latest.driftingFeatures).toEqual(expect.arrayContaining(['f0', 'c0']));

    await waitFor(async () => (await json(await fetch(url(`/api/v1/alerts?modelId=${modelId}&status=FIRING`)))).alerts.length > 0, 10_000, 'FIRING alerts');
    const alerts = (await json(await fetch(url(`/api/v1/alerts?modelId=${modelId}&status=FIRING`)))).alerts;
    expect(new Set(alerts.map((a: { feature: string }) => a.feature))).toEqual(new Set(['f0', 'c0']));

    const f = await json(await fetch(url(`/api/v1/models/${modelId}/features/f0?window=2s&limit=50`)));
    expect(f.reference.edges.length).toBeGreaterThan(5);
    // The evaluation carries both sides on the same bins: the drifted feature's mass moved right.
    expect(f.current.proportions).toHaveLength(f.reference.proportions.length);
    const upper = (p: number[]) => p.slice(Math.floor(p.length / 2)).reduce((a, b) => a + b, 0);
    expect(upper(f.current.proportions)).toBeGreaterThan(upper(f.reference.proportions) + 0.2);
    expect(f.history.length).toBeGreaterThan(2);
    expect(f.history.at(-1).drift).toBe(true);
    expect(f.history[0].drift).toBe(false);

    // Before the drift: evaluated windows, nothing drifting.
    const windows = await json(await fetch(url(`/api/v1/models/${modelId}/windows?window=2s&limit=100`)));
    const before = windows.evaluations.filter((w: { windowEnd: number }) => w.windowEnd <= driftFrom);
    expect(before.length).toBeGreaterThan(0);
    for (const w of before) {
      expect(w.sampleSize).toBeGreaterThan(100);
      expect(Object.values(w.features).some((x) => (x as { drift: boolean }).drift)).toBe(false);
    }

    const metrics = await (await fetch(url('/metrics'))).text();
    expect(metrics).toMatch(new RegExp(`driftstream_events_consumed_total\\{model="${modelId}"\\} \\d+`));
    expect(metrics).toMatch(new RegExp(`driftstream_drift_severity\\{model="${modelId}",feature="f0",window="2s"\\} [12]`));
    expect(metrics).toContain('driftstream_http_request_duration_seconds_bucket');
  }, 90_000);

  it.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('shows the drifting model in the dashboard (screenshot)', async () => {
    const { browser, close } = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(url(`/?refresh=1000#/models/${modelId}`));
      const f0 = page.locator('#features-table tr[data-feature="f0"][data-drift="true"]');
      await f0.waitFor({ timeout: 15_000 });
      await page.waitForSelector('#history-panel circle.pt');
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-live-detector.png'), fullPage: true });
      await page.goto(url('/?refresh=1000'));
      await page.waitForSelector(`tr[data-model="${modelId}"] [data-status="drifting"]`, { timeout: 15_000 });
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-live-overview.png'), fullPage: true });
    } finally {
      await close();
    }
  }, 60_000);
});
