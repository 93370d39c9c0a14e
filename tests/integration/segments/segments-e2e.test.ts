import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresModelRepository } from '../../../src/adapters/postgres/postgres-model-repository.js';
import { startServe, type ServeHandle } from '../../../src/commands/serve.js';
import { loadConfig } from '../../../src/config/config.js';
import type { InferenceEvent } from '../../../src/core/events.js';
import { modelConfigToJson } from '../../../src/core/model/model-config.js';
import { parseProfile, type ReferenceProfile } from '../../../src/core/profile/reference-profile.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { testDatabase, type TestDatabase } from '../../support/postgres.js';
import { REDIS_URL, deletePrefix, testRedis, uniquePrefix } from '../../support/redis.js';
import { buildReferenceFromSamples } from '../../../src/stream/reference-from-samples.js';
import { uniqueName } from '../../support/kafka.js';
import { rng, waitFor } from '../stream/stream-support.js';
import { paneModel, startWithReference, useStreamHarness } from '../stream/stream-harness.js';
import { regionEvents } from '../../unit/core/segments/support.js';

const PANE_MS = 2000;
const PER_WINDOW = 5000;
const modelId = uniqueName('seg');
const model = paneModel(modelId, {
  features: { f0: 'numeric', f1: 'numeric', c0: 'categorical' },
  segments: { attributes: ['region'], topK: 10 },
  dataQuality: { enabled: false },
});

const h = useStreamHarness('seg');
const KEY = 'segments-editor-key';
const reference = regionEvents(1, 10_000);

let db: TestDatabase;
let prefix: string;
let serve: ServeHandle;
/** The reference as uploaded over HTTP (a CSV with a `region` column) and stored in PostgreSQL. */
let uploaded: ReferenceProfile;

beforeAll(async () => {
  db = await testDatabase('segments');
  prefix = uniquePrefix('segments');
  const env = {
    DRIFTSTREAM_DATABASE_URL: process.env.DRIFTSTREAM_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    DRIFTSTREAM_DATABASE_SCHEMA: db.schema,
    DRIFTSTREAM_REDIS_URL: REDIS_URL,
    DRIFTSTREAM_REDIS_KEY_PREFIX: prefix,
    DRIFTSTREAM_HTTP_PORT: '0',
    DRIFTSTREAM_API_KEYS: `editor:${KEY}`,
    DRIFTSTREAM_LOG_LEVEL: 'silent',
  };
  serve = await startServe(loadConfig(env), { logger: createLogger('silent'), metrics: createMetrics({ defaultMetrics: false }) });
  const { modelId: _id, ...body } = modelConfigToJson(model);
  let r = await fetch(`${serve.url}/api/v1/models/${modelId}`, { method: 'PUT', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body: JSON.stringify(body) });
  expect(r.status).toBe(201);
  const lines = ['f0,f1,c0,score,prediction,region', ...reference.map((e) => [e.features.f0, e.features.f1, e.features.c0, e.score, e.prediction, e.attributes.region].join(','))];
  r = await fetch(`${serve.url}/api/v1/models/${modelId}/reference`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv', 'x-api-key': KEY },
    body: new Blob([lines.join('\n')]).stream(),
    duplex: 'half',
  } as RequestInit);
  expect(r.status).toBe(201);
  const stored = await new PostgresModelRepository(db.pool).latestReference(modelId);
  uploaded = parseProfile(stored!.profile);
}, 60_000);

afterAll(async () => {
  await serve?.close();
  await db?.drop();
  if (prefix) {
    const redis = testRedis();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  }
});

describe('segments end to end (real Kafka, registry and PostgreSQL)', () => {
  it('builds segment profiles from a reference uploaded over HTTP, as the bootstrap builds them from events', async () => {
    const seg = uploaded.segments!.region;
    expect(Object.keys(seg.profiles)).toHaveLength(11);
    // Known truth: the ten most frequent regions of the sample, counted directly, and the rest pooled.
    const tally = new Map<string, number>();
    for (const e of reference) tally.set(e.attributes.region, (tally.get(e.attributes.region) ?? 0) + 1);
    const top = [...tally].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 10);
    expect(seg.counts).toEqual({ ...Object.fromEntries(top), __other__: reference.length - top.reduce((n, [, c]) => n + c, 0) });
    const big = seg.profiles.big.features.f0;
    const bigMean = reference.filter((e) => e.attributes.region === 'big').reduce((m, e, _i, all) => m + e.features.f0 / all.length, 0);
    expect(big.type === 'numeric' && big.mean).toBeCloseTo(bigMean, 9);
    // The same segments, value for value, as the events' path builds (bootstrap and `reference build`).
    const { profile: fromEvents } = await buildReferenceFromSamples(model, (async function* () {
      yield reference as unknown as Record<string, unknown>[];
    })(), { createdAt: Date.now() });
    expect(seg.counts).toEqual(fromEvents.segments!.region.counts);
    for (const [value, p] of Object.entries(seg.profiles)) {
      expect(p.rows, value).toBe(fromEvents.segments!.region.profiles[value].rows);
      expect(p.features, value).toEqual(fromEvents.segments!.region.profiles[value].features);
    }
  });

  it('refuses an upload without a column for the segment attribute, saying so', async () => {
    const r = await fetch(`${serve.url}/api/v1/models/${modelId}/reference`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', 'x-api-key': KEY },
      body: ['f0,f1,c0', ...reference.slice(0, 100).map((e) => `${e.features.f0},${e.features.f1},${e.features.c0}`)].join('\n'),
    });
    expect(r.status).toBe(400);
    expect(JSON.stringify(await r.json())).toMatch(/segments by region, and the sample has no column of that name/);
  });

  it('fires for the one drifting segment (10% of the traffic) that the global verdict cannot see, and ranks it first', async () => {
    const { results } = await startWithReference(h, model, uploaded);

    // Two windows like the reference, then two where region big (10% of the events) has f0 shifted by 0.5 sd.
    const first = Math.floor(Date.now() / PANE_MS) * PANE_MS - 20 * PANE_MS;
    const shifts = [0, 0, 0.5, 0.5];
    const r = rng(9);
    for (let w = 0; w < shifts.length; w++) {
      const events: InferenceEvent[] = regionEvents(50 + w, PER_WINDOW, shifts[w]).map((e, i) => ({
        ...e,
        eventId: `${modelId}-${w}-${i}`,
        modelId,
        timestamp: first + w * PANE_MS + Math.floor((i * PANE_MS) / PER_WINDOW),
      }));
      await h.traffic.send(events, r);
    }
    const driftStart = first + 2 * PANE_MS;
    await waitFor(async () => (await results.listEvaluations({ modelId })).filter((e) => e.windowStart >= first).length >= shifts.length, 60_000, 'four evaluations');
    await waitFor(() => h.collector.alerts.some((a) => a.alert.feature === 'f0 [region=big]'), 10_000, 'the segment alert');

    const firing = h.collector.alerts.filter((a) => a.alert.status === 'FIRING').map((a) => a.alert);
    expect(firing.map((a) => a.feature)).toEqual(['f0 [region=big]']);
    expect(firing[0].windowStart).toBe(driftStart);
    expect(firing[0].details).toMatchObject({ segment: 'region=big', segmentFeature: 'f0', attributionRank: '1' });
    const evaluations = (await results.listEvaluations({ modelId })).filter((e) => e.windowStart >= driftStart);
    for (const e of evaluations) {
      expect(e.features.f0.drift).toBe(false);
      const f0 = e.segments!.attribution.find((a) => a.feature === 'f0')!;
      expect(f0.segments[0].value).toBe('big');
      // c0 did not move: its total variation is sampling noise, split exactly into mix and within.
      const c0 = e.segments!.attribution.find((a) => a.feature === 'c0')!;
      expect(c0.measure).toBe('totalVariation');
      expect(c0.change).toBeLessThan(0.03);
      expect(c0.mix + c0.within).toBeCloseTo(c0.change, 12);
    }
  }, 120_000);
});
