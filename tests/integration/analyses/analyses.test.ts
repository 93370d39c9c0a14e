import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Producer } from 'kafkajs';
import { KafkaAnalysisSource } from '../../../src/adapters/kafka/kafka-analysis-source.js';
import { PostgresAnalysisRepository } from '../../../src/adapters/postgres/postgres-analysis-repository.js';
import type { AnalysisRepository } from '../../../src/ports/analysis-repository.js';
import { PostgresModelRepository } from '../../../src/adapters/postgres/postgres-model-repository.js';
import { PostgresResultRepository } from '../../../src/adapters/postgres/postgres-result-repository.js';
import { EventCodec } from '../../../src/adapters/registry/event-codec.js';
import type { Analysis, AnalysisWindow } from '../../../src/core/analysis/analysis.js';
import type { InferenceEvent } from '../../../src/core/events.js';
import { parseModelConfig } from '../../../src/core/model/model-config.js';
import { buildApp } from '../../../src/http/app.js';
import { readSampleBatches } from '../../../src/io/sample-reader.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { AnalysisRunner } from '../../../src/stream/analysis-runner.js';
import { buildReferenceFromSamples } from '../../../src/stream/reference-from-samples.js';
import { createTopics, REGISTRY_URL, testKafka, uniqueName } from '../../support/kafka.js';
import { DATABASE_URL, testDatabase, type TestDatabase } from '../../support/postgres.js';
import { analyzeCommand } from '../../../src/commands/analyze.js';
import { loadConfig } from '../../../src/config/config.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { textSink } from '../../support/text-sink.js';
import { KEYS, httpConfig } from '../../unit/http/fixtures.js';
import { CATEGORICAL, NUMERIC, inference, rng, sleep, writeReferenceSample } from '../stream/stream-support.js';

const WINDOW_MS = 10_000;
const PER_WINDOW = 300;
const kafka = testKafka();
const modelId = uniqueName('backfill');
const topic = uniqueName('backfill-inference');
const logger = createLogger('warn', textSink());
// Six 10 s windows of past traffic, drifted (f0 and c0) in the last three.
const base = Math.floor((Date.now() - 30 * 60_000) / WINDOW_MS) * WINDOW_MS;
const events: InferenceEvent[] = [];
{
  const r = rng(5);
  for (let w = 0; w < 6; w++) for (let i = 0; i < PER_WINDOW; i++) events.push(inference(modelId, r, base + w * WINDOW_MS + Math.floor((i * WINDOW_MS) / PER_WINDOW), w >= 3, w * 1000 + i));
}

let db: TestDatabase;
let producer: Producer;
let app: FastifyInstance;
let analyses: PostgresAnalysisRepository;
let models: PostgresModelRepository;
let runner: AnalysisRunner;
const decoder = new EventCodec({ registryUrl: REGISTRY_URL });

function newRunner(chunkWindows: number, repository: AnalysisRepository = analyses): AnalysisRunner {
  return new AnalysisRunner({ analyses: repository, models, source: new KafkaAnalysisSource(kafka, decoder, 10_000), logger, concurrency: 2, chunkWindows, pollMs: 200 });
}

async function finished(id: string, timeoutMs = 60_000): Promise<Analysis> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const a = (await analyses.get(id))!;
    if (['completed', 'failed', 'cancelled'].includes(a.state)) return a;
    if (Date.now() > until) throw new Error(`analysis ${id} still ${a.state} after ${timeoutMs} ms`);
    await sleep(200);
  }
}

async function post(body: unknown, query = '', contentType = 'application/json') {
  return app.inject({ method: 'POST', url: `/api/v1/models/${modelId}/analyses${query}`, headers: { 'content-type': contentType, 'x-api-key': KEYS.editor }, payload: typeof body === 'string' ? body : JSON.stringify(body) });
}

beforeAll(async () => {
  db = await testDatabase('analyses');
  analyses = new PostgresAnalysisRepository(db.pool);
  models = new PostgresModelRepository(db.pool);
  const model = { modelId, features: Object.fromEntries([...NUMERIC.map((f) => [f, 'numeric']), ...CATEGORICAL.map((f) => [f, 'categorical'])]), importance: { f0: 0.5, c0: 0.3 } };
  const { profile } = await buildReferenceFromSamples(parseModelConfig(model), readSampleBatches(await writeReferenceSample(modelId, 5000)), { createdAt: Date.now() });
  await models.putModel(model);
  await models.addReference(modelId, profile.id, profile);
  await createTopics(kafka, [topic], 2);
  producer = kafka.producer();
  await producer.connect();
  // Record timestamps are the events' times, as a producer stamping at send would give.
  await producer.send({ topic, messages: events.map((e, i) => ({ key: `k${i % 7}`, value: EventCodec.encodeJson(e), timestamp: String(e.timestamp) })) });
  runner = newRunner(3);
  app = await buildApp({
    config: httpConfig(),
    models,
    results: new PostgresResultRepository(db.pool),
    healthChecks: [],
    metrics: createMetrics({ defaultMetrics: false }),
    logger,
    readCacheMs: 0,
    analyses,
    analysisQueue: runner,
    analysisTopic: topic,
  });
}, 60_000);

afterAll(async () => {
  await runner?.stop();
  await app?.close();
  await producer?.disconnect();
  await db?.drop();
});

describe('backfill analyses (real Kafka and PostgreSQL)', () => {
  it('runs a topic time range to completion: windows and verdicts stored, drift found where it was, a report for it', async () => {
    await runner.start();
    const res = await post({ from: new Date(base).toISOString(), to: String(base + 6 * WINDOW_MS), window: '10s', tags: ['nightly', 'q3'] });
    expect(res.statusCode).toBe(202);
    const queued = res.json() as Analysis;
    expect(queued.state).toBe('queued');
    expect(res.headers.location).toBe(`/api/v1/models/${modelId}/analyses/${queued.analysisId}`);
    const done = await finished(queued.analysisId);
    expect(done.state).toBe('completed');
    expect(done.progress).toMatchObject({ events: events.length, windows: 6, skipped: 0, fraction: 1 });
    expect(done.summary).toMatchObject({ windows: 6, driftWindows: 3 });
    expect(Object.keys(done.summary!.driftingFeatures).slice(0, 2).sort()).toEqual(['c0', 'f0']);
    const windows = (await app.inject({ url: `/api/v1/models/${modelId}/analyses/${queued.analysisId}/windows` })).json() as { windows: AnalysisWindow[] };
    expect(windows.windows.map((w) => [w.windowStart - base, w.drift, w.evaluation.sampleSize])).toEqual([0, 1, 2, 3, 4, 5].map((i) => [i * WINDOW_MS, i >= 3, PER_WINDOW]));
    const report = await app.inject({ url: `/api/v1/models/${modelId}/analyses/${queued.analysisId}/report` });
    expect(report.statusCode).toBe(200);
    expect(report.headers['content-type']).toContain('text/html');
    // The last drifting window, its most important drifting feature first, the six windows as its trend.
    expect(report.body).toContain(new Date(base + 5 * WINDOW_MS).toISOString().replace('.000Z', 'Z'));
    expect(report.body.indexOf('data-feature="f0"')).toBeLessThan(report.body.indexOf('data-feature="c0"'));
    expect(report.body).toContain('Trend over the last 6 windows');
  }, 90_000);

  it('analyses an uploaded NDJSON file, lists by tag in pages, cancels a queued one', async () => {
    const ndjson = events.slice(0, 3 * PER_WINDOW).map((e) => JSON.stringify(e)).join('\n');
    const first = await post(ndjson, '?window=10s&tags=upload,nightly', 'application/x-ndjson');
    expect(first.statusCode).toBe(202);
    const done = await finished((first.json() as Analysis).analysisId);
    expect(done.state).toBe('completed');
    expect(done.summary).toMatchObject({ windows: 3, driftWindows: 0 });

    await runner.stop();
    const queued = (await post(ndjson, '?window=10s&tags=upload', 'application/x-ndjson')).json() as Analysis;
    const cancelled = await app.inject({ method: 'POST', url: `/api/v1/models/${modelId}/analyses/${queued.analysisId}/cancel`, headers: { 'x-api-key': KEYS.editor } });
    expect(cancelled.json()).toMatchObject({ state: 'cancelled', cancelRequested: true });

    const page1 = (await app.inject({ url: `/api/v1/models/${modelId}/analyses?tags=nightly&limit=1` })).json() as { analyses: Analysis[]; nextCursor?: string };
    expect(page1.analyses.map((a) => a.request.tags)).toEqual([['upload', 'nightly']]);
    const page2 = (await app.inject({ url: `/api/v1/models/${modelId}/analyses?tags=nightly&limit=1&cursor=${page1.nextCursor}` })).json() as { analyses: Analysis[]; nextCursor?: string };
    expect(page2.analyses.map((a) => a.request.tags)).toEqual([['nightly', 'q3']]);
    expect(page2.nextCursor).toBeUndefined();
    const both = (await app.inject({ url: `/api/v1/models/${modelId}/analyses?tags=upload&state=cancelled` })).json() as { analyses: Analysis[] };
    expect(both.analyses.map((a) => a.analysisId)).toEqual([queued.analysisId]);
  }, 90_000);

  it('resumes an interrupted analysis from its stored progress after a restart, counting every event once', async () => {
    // The runner is told to stop as the first step (two windows) is stored, as a restart would
    // between two steps: the run leaves the analysis running.
    let stopped: Promise<void> | undefined;
    const stopAfterFirstStep = new Proxy(analyses, {
      get(target, key, receiver) {
        if (key !== 'saveWindows') return Reflect.get(target, key, receiver) as unknown;
        return async (...args: Parameters<AnalysisRepository['saveWindows']>) => {
          const saved = await target.saveWindows(...args);
          stopped ??= first.stop();
          return saved;
        };
      },
    });
    const first = newRunner(2, stopAfterFirstStep);
    const { analysisId } = await analyses.create(`an-${crypto.randomUUID()}`, { modelId, source: { kind: 'topic', topic, from: base, to: base + 6 * WINDOW_MS }, windowMs: WINDOW_MS, tags: ['resume'] }, Date.now());
    await first.start();
    for (let a = await analyses.get(analysisId); a!.progress.windows === 0; a = await analyses.get(analysisId)) await sleep(50);
    await stopped;
    const interrupted = (await analyses.get(analysisId))!;
    expect(interrupted.state).toBe('running');
    expect(interrupted.progress.resumeFrom).toBeDefined();
    expect(interrupted.progress.windows).toBeLessThan(6);

    const second = newRunner(2);
    await second.start();
    const done = await finished(analysisId);
    await second.stop();
    expect(done.state).toBe('completed');
    expect(done.startedAt).toBe(interrupted.startedAt);
    expect(done.progress).toMatchObject({ events: events.length, windows: 6, fraction: 1 });
    expect(done.summary).toMatchObject({ windows: 6, driftWindows: 3 });
  }, 90_000);

  it('cancels a running analysis between two steps; the windows of later steps are never stored', async () => {
    const stepwise = newRunner(1);
    const { analysisId } = await analyses.create(`an-${crypto.randomUUID()}`, { modelId, source: { kind: 'topic', topic, from: base, to: base + 6 * WINDOW_MS }, windowMs: WINDOW_MS, tags: [] }, Date.now());
    await stepwise.start();
    for (let a = await analyses.get(analysisId); a!.progress.windows === 0; a = await analyses.get(analysisId)) await sleep(20);
    const asked = await app.inject({ method: 'POST', url: `/api/v1/models/${modelId}/analyses/${analysisId}/cancel`, headers: { 'x-api-key': KEYS.editor } });
    expect(asked.json()).toMatchObject({ state: 'running', cancelRequested: true });
    const done = await finished(analysisId);
    await stepwise.stop();
    expect(done.state).toBe('cancelled');
    expect(done.progress.windows).toBeLessThan(6);
    expect((await analyses.windows(analysisId)).length).toBe(done.progress.windows);
  }, 60_000);

  it('driftstream analyze runs one in this process against the configured store and writes its report', async () => {
    const config = loadConfig({ DRIFTSTREAM_DATABASE_URL: DATABASE_URL, DRIFTSTREAM_DATABASE_SCHEMA: db.schema, DRIFTSTREAM_INFERENCE_TOPIC: topic, DRIFTSTREAM_SCHEMA_REGISTRY_URL: REGISTRY_URL, DRIFTSTREAM_LOG_LEVEL: 'silent' });
    const dir = mkdtempSync(join(tmpdir(), 'driftstream-analyze-'));
    const out = textSink();
    const err = textSink();
    const output = join(dir, 'report.html');
    const code = await analyzeCommand({ model: modelId, window: '10s', from: String(base), to: String(base + 6 * WINDOW_MS), tag: ['cli'], output }, config, { out, err });
    expect(err.text()).toContain(`report written to ${output}`);
    expect(code).toBe(0);
    const printed = JSON.parse(out.text()) as { analysisId: string; state: string; summary: { windows: number; driftWindows: number } };
    expect(printed).toMatchObject({ state: 'completed', summary: { windows: 6, driftWindows: 3 } });
    expect(readFileSync(output, 'utf8')).toContain(`Analysis ${printed.analysisId}`);
    expect((await analyses.get(printed.analysisId))!.request.tags).toEqual(['cli']);
    const bad = await analyzeCommand({ model: 'no-such-model', window: '10s', from: String(base), to: String(base + 1), tag: [] }, config, { out: textSink(), err });
    expect(bad).toBe(2);
    expect(err.text()).toContain('no-such-model is not registered');
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('answers bad requests with a clear 4xx', async () => {
    expect((await post({ from: String(base), to: String(base + 1000) })).json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await post({ from: String(base), to: String(base - 1), window: '10s' })).json().message).toMatch(/to: must be after from/);
    expect((await post({ from: '0', to: String(base), window: '1s' })).json().message).toMatch(/more than 10000 windows/);
    expect((await post({ from: String(base), to: String(base + 1000), window: '10s', referenceId: 'nope' })).json().message).toMatch(/no reference nope/);
    expect((await post({ from: String(base), to: String(base + 1000), window: '10s', tags: ['bad tag'] })).statusCode).toBe(400);
    expect((await post({ from: String(base), to: String(base + 1000), window: '10s', extra: 1 })).statusCode).toBe(400);
    const badUpload = await post(`${JSON.stringify(events[0])}\nnot json`, '?window=10s', 'application/x-ndjson');
    expect(badUpload.statusCode).toBe(400);
    expect(badUpload.json().message).toMatch(/^upload line 2: /);
    expect((await post('', '?window=10s', 'application/x-ndjson')).statusCode).toBe(400);
    const missing = await app.inject({ url: `/api/v1/models/${modelId}/analyses/an-00000000-0000-0000-0000-000000000000` });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('ANALYSIS_NOT_FOUND');
    expect((await app.inject({ url: `/api/v1/models/${modelId}/analyses?cursor=garbage` })).json().code).toBe('INVALID_CURSOR');
  });
});
