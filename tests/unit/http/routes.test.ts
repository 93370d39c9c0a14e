import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { CREDIT_MODEL, KEYS, MINUTE, T0, creditEvaluations, seededApp } from './fixtures.js';

const edit = { 'x-api-key': KEYS.editor };
const admin = { 'x-api-key': KEYS.admin };

describe('operations routes', () => {
  it('answers /healthz', async () => {
    const { app } = await seededApp();
    const r = await app.inject({ url: '/healthz' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz 200 when every check passes and 503 naming what is down', async () => {
    const up = { name: 'kafka', check: async () => true };
    const down = { name: 'redis', check: async () => false };
    const throws = { name: 'postgres', check: async () => { throw new Error('ECONNREFUSED'); } };
    const hangs = { name: 'registry', check: () => new Promise<boolean>(() => undefined) };
    let { app } = await seededApp({ healthChecks: [up] });
    let r = await app.inject({ url: '/readyz' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ status: 'ready', checks: { kafka: 'up' } });

    ({ app } = await seededApp({ healthChecks: [up, down, throws, hangs], healthTimeoutMs: 50 }));
    r = await app.inject({ url: '/readyz' });
    expect(r.statusCode).toBe(503);
    const body = r.json();
    expect(body.code).toBe('NOT_READY');
    expect(body.down).toEqual(['redis', 'postgres', 'registry']);
    expect(body.message).toBe('not ready: redis, postgres, registry are down');
    expect(body.checks).toEqual({ kafka: 'up', redis: 'down', postgres: 'down', registry: 'down' });
  });

  it('exposes Prometheus metrics including HTTP latency by route pattern', async () => {
    const { app, deps } = await seededApp();
    await app.inject({ url: '/api/v1/models/credit-risk/drift' });
    await app.inject({ url: '/api/v1/models/unknown-model' });
    deps.metrics.eventsConsumed.inc({ model: 'credit-risk' }, 5);
    const r = await app.inject({ url: '/metrics' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain/);
    expect(r.body).toContain('driftstream_events_consumed_total{model="credit-risk"} 5');
    expect(r.body).toMatch(/driftstream_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/models\/:modelId\/drift",status="200"\} 1/);
    expect(r.body).toMatch(/route="\/api\/v1\/models\/:modelId",status="404"\} 1/);
    expect(r.body).not.toContain('unknown-model');
  });
});

describe('models', () => {
  it('lists models with status, reference and windows', async () => {
    const { app } = await seededApp();
    const r = await app.inject({ url: '/api/v1/models' });
    expect(r.statusCode).toBe(200);
    const [m] = r.json().models;
    expect(m.modelId).toBe('credit-risk');
    expect(m.status).toBe('drifting');
    expect(m.reference).toMatchObject({ referenceId: 'ref-credit-1', version: 1, rows: 5000 });
    expect(m.windows.map((w: { name: string }) => w.name)).toEqual(['1m', '1h']);
    expect(m.windows[0].latest.driftingFeatures).toEqual(['age', 'income']);
    expect(m.windows[1].latest).toBeNull();
  });

  it('answers 404 MODEL_NOT_FOUND for an unknown model and 400 for a malformed id', async () => {
    const { app } = await seededApp();
    let r = await app.inject({ url: '/api/v1/models/nope' });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ statusCode: 404, code: 'MODEL_NOT_FOUND', error: 'Not Found', message: 'model nope is not registered' });
    expect(r.json().requestId).toBe(r.headers['x-request-id']);
    r = await app.inject({ url: '/api/v1/models/%20bad%20' });
    expect(r.statusCode).toBe(400);
    expect(r.json().code).toBe('VALIDATION_FAILED');
  });

  it('derives status: warming_up without reference or evaluation, ok without drift; live detector state wins', async () => {
    // This test writes to the repositories behind the service's back: no read cache.
    const { app, models, results } = await seededApp({ readCacheMs: 0 }, {}, false);
    await models.putModel({ modelId: 'm1', features: { x: 'numeric' } });
    let m = (await app.inject({ url: '/api/v1/models/m1' })).json();
    expect(m).toMatchObject({ status: 'warming_up', statusReason: 'no reference profile yet', reference: null });
    await models.addReference('m1', 'r1', { rows: 10, features: {} });
    m = (await app.inject({ url: '/api/v1/models/m1' })).json();
    expect(m).toMatchObject({ status: 'warming_up', statusReason: 'no window evaluated yet' });
    const e = creditEvaluations()[0];
    await results.saveEvaluations([{ ...e, modelId: 'm1', evaluationId: 'x', features: { x: { ...e.features.age } } }]);
    m = (await app.inject({ url: '/api/v1/models/m1' })).json();
    expect(m.status).toBe('ok');

    const live = await seededApp({ state: { modelStatus: (id) => (id === 'credit-risk' ? { status: 'warming_up', reason: 'bootstrapping reference: 1200/5000 events', eventsSeen: 1200 } : undefined) } });
    m = (await live.app.inject({ url: '/api/v1/models/credit-risk' })).json();
    expect(m).toMatchObject({ status: 'warming_up', statusReason: 'bootstrapping reference: 1200/5000 events', detector: { eventsSeen: 1200 } });
  });

  it('creates (201), then updates (200) a model; the stored config is normalized', async () => {
    const { app } = await seededApp({}, {}, false);
    const config = { features: { a: 'numeric', b: 'categorical' }, windows: [{ name: '5m', size: '5m' }] };
    let r = await app.inject({ method: 'PUT', url: '/api/v1/models/m2', headers: edit, payload: config });
    expect(r.statusCode).toBe(201);
    expect(r.json()).toMatchObject({ modelId: 'm2', status: 'warming_up', features: { a: 'numeric', b: 'categorical' }, windows: [{ name: '5m', size: '5m', latest: null }] });
    expect(r.json().config).toMatchObject({ modelId: 'm2', prediction: 'score', minSamples: 100 });
    r = await app.inject({ method: 'PUT', url: '/api/v1/models/m2', headers: edit, payload: { ...config, modelId: 'm2', minSamples: 500 } });
    expect(r.statusCode).toBe(200);
    expect(r.json().config.minSamples).toBe(500);
    r = await app.inject({ url: '/api/v1/models' });
    expect(r.json().models).toHaveLength(1);
  });

  it('rejects invalid configurations with a code and a message naming the field', async () => {
    const { app } = await seededApp();
    let r = await app.inject({ method: 'PUT', url: '/api/v1/models/m3', headers: edit, payload: { modelId: 'other' } });
    expect(r.statusCode).toBe(400);
    expect(r.json().code).toBe('MODEL_ID_MISMATCH');
    r = await app.inject({ method: 'PUT', url: '/api/v1/models/m3', headers: edit, payload: { features: { a: 'text' } } });
    expect(r.statusCode).toBe(400);
    expect(r.json().code).toBe('VALIDATION_FAILED');
    expect(r.json().message).toMatch(/features/);
    r = await app.inject({ method: 'PUT', url: '/api/v1/models/m3', headers: edit, payload: { windows: [{ name: '1h', size: '1h', slide: '7m' }] } });
    expect(r.statusCode).toBe(400);
    expect(r.json().code).toBe('MODEL_INVALID');
    expect(r.json().message).toMatch(/^windows\[0\]/);
    r = await app.inject({ method: 'PUT', url: '/api/v1/models/m3', headers: edit, payload: [1, 2] });
    expect(r.statusCode).toBe(400);
  });

  it('uses an injected model parser and maps its errors', async () => {
    const { app } = await seededApp({ parseModelConfig: () => { throw new ConfigError('windows: no'); } });
    const r = await app.inject({ method: 'PUT', url: '/api/v1/models/m4', headers: edit, payload: {} });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ code: 'MODEL_INVALID', message: 'windows: no' });
  });

  it('answers malformed and empty JSON with 400 MALFORMED_JSON and oversize bodies with 413', async () => {
    const { app } = await seededApp({}, { DRIFTSTREAM_BODY_LIMIT_BYTES: '2048' });
    let r = await app.inject({ method: 'PUT', url: '/api/v1/models/m5', headers: { ...edit, 'content-type': 'application/json' }, payload: '{"features": {' });
    expect(r.statusCode).toBe(400);
    expect(r.json().code).toBe('MALFORMED_JSON');
    expect(r.json().message).toMatch(/malformed JSON/);
    expect(r.body).not.toMatch(/at .*\.js:\d+/);
    r = await app.inject({ method: 'PUT', url: '/api/v1/models/m5', headers: { ...edit, 'content-type': 'application/json' }, payload: '' });
    expect(r.statusCode).toBe(400);
    expect(r.json().code).toBe('MALFORMED_JSON');
    r = await app.inject({ method: 'PUT', url: '/api/v1/models/m5', headers: edit, payload: { features: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`feature_${i}`, 'numeric'])) } });
    expect(r.statusCode).toBe(413);
    expect(r.json().code).toBe('PAYLOAD_TOO_LARGE');
    r = await app.inject({ method: 'PUT', url: '/api/v1/models/m5', headers: { ...edit, 'content-type': 'application/xml' }, payload: '<a/>' });
    expect(r.statusCode).toBe(415);
    expect(r.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('deletes a model (admin), then answers 404', async () => {
    const { app } = await seededApp();
    let r = await app.inject({ method: 'DELETE', url: '/api/v1/models/credit-risk', headers: admin });
    expect(r.statusCode).toBe(204);
    expect(r.body).toBe('');
    r = await app.inject({ method: 'DELETE', url: '/api/v1/models/credit-risk', headers: admin });
    expect(r.statusCode).toBe(404);
    r = await app.inject({ url: '/api/v1/models/credit-risk' });
    expect(r.statusCode).toBe(404);
  });
});

describe('drift and history', () => {
  it('answers the latest evaluation of the first window by default', async () => {
    const { app } = await seededApp();
    const r = await app.inject({ url: '/api/v1/models/credit-risk/drift' });
    expect(r.statusCode).toBe(200);
    const e = r.json();
    expect(e).toMatchObject({ modelId: 'credit-risk', windowName: '1m', windowStart: T0 + 9 * MINUTE, windowEnd: T0 + 10 * MINUTE, sampleSize: 1000, datasetDrift: { drift: true } });
    expect(e.features.income).toMatchObject({ type: 'numeric', severity: 'CRITICAL', drift: true, ks: { pValue: 1e-9, errorBound: 0.005 } });
    expect(e.features.region).toMatchObject({ type: 'categorical', chiSquare: { statistic: 2.1, pValue: 0.55, dof: 3 }, severity: 'NONE' });
    expect(e.features.income.histogram).toBeUndefined();
    expect(e.proxy.positiveRate).toBeCloseTo(0.2);
    // The verdict travels with its evidence; an unreachable MDE is null.
    expect(e.features.income.verdict).toMatchObject({ verdict: 'drift', test: 'location', pValue: 1e-9, level: 1e-5, effect: expect.any(Number), floor: { warning: 0.1, critical: 0.2 }, n: 1000, mde: 0.08 });
    expect(e.features.region.verdict).toMatchObject({ verdict: 'insufficient', mde: null, nNeeded: null, tests: { chiSquare: 0.55 } });
  });

  it("answers from the running detector's in-memory latest evaluation when it has one", async () => {
    const live = { ...creditEvaluations()[0], evaluationId: 'live', windowStart: T0 + 30 * MINUTE, windowEnd: T0 + 31 * MINUTE, sampleSize: 77 };
    const { app } = await seededApp({ state: { modelStatus: () => undefined, latestEvaluations: (id) => (id === 'credit-risk' ? [live] : []) } });
    let r = await app.inject({ url: '/api/v1/models/credit-risk/drift?window=1m' });
    expect(r.json()).toMatchObject({ evaluationId: 'live', sampleSize: 77 });
    r = await app.inject({ url: '/api/v1/models/credit-risk' });
    expect(r.json().windows[0].latest.sampleSize).toBe(77);
    // A window the detector has not evaluated since it started comes from the repository.
    r = await app.inject({ url: '/api/v1/models/credit-risk/drift?window=1h' });
    expect(r.json().code).toBe('NO_EVALUATION');
  });

  it('serializes a live evaluation once and answers from that until a newer one replaces it', async () => {
    let live = { ...creditEvaluations()[0], evaluationId: 'live-1', windowStart: T0 + 30 * MINUTE, windowEnd: T0 + 31 * MINUTE, sampleSize: 77 };
    let version = {};
    let reads = 0;
    const state = {
      modelStatus: () => undefined,
      latestEvaluations: (id: string) => (reads++, id === 'credit-risk' ? [live] : []),
      latestEvaluationVersion: (id: string, window: string) => (id === 'credit-risk' && window === '1m' ? version : undefined),
    };
    const { app } = await seededApp({ state });
    const plain = await seededApp({ state: { modelStatus: () => undefined, latestEvaluations: state.latestEvaluations } });
    const first = await app.inject({ url: '/api/v1/models/credit-risk/drift?window=1m' });
    const second = await app.inject({ url: '/api/v1/models/credit-risk/drift' });
    expect(reads).toBe(1);
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('application/json; charset=utf-8');
    // The same bytes as the route serializes without the detector's version.
    const uncached = await plain.app.inject({ url: '/api/v1/models/credit-risk/drift?window=1m' });
    expect(second.body).toBe(first.body);
    expect(first.body).toBe(uncached.body);
    expect(first.json()).toMatchObject({ evaluationId: 'live-1', sampleSize: 77 });
    expect(first.json().features.income.histogram).toBeUndefined();
    // A newer evaluation: a new version, read and serialized again.
    live = { ...live, evaluationId: 'live-2', windowStart: T0 + 31 * MINUTE, windowEnd: T0 + 32 * MINUTE, sampleSize: 78 };
    version = {};
    reads = 0;
    const third = await app.inject({ url: '/api/v1/models/credit-risk/drift?window=1m' });
    expect(reads).toBe(1);
    expect(third.json()).toMatchObject({ evaluationId: 'live-2', sampleSize: 78 });
    await plain.app.close();
  });

  it('answers 404 for an unknown window and for a window not yet evaluated', async () => {
    const { app } = await seededApp();
    let r = await app.inject({ url: '/api/v1/models/credit-risk/drift?window=7m' });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ code: 'WINDOW_NOT_FOUND', message: 'model credit-risk has no window 7m; it has 1m, 1h' });
    r = await app.inject({ url: '/api/v1/models/credit-risk/drift?window=1h' });
    expect(r.statusCode).toBe(404);
    expect(r.json().code).toBe('NO_EVALUATION');
    r = await app.inject({ url: '/api/v1/models/credit-risk/drift?windw=1m' });
    expect(r.statusCode).toBe(400);
    expect(r.json().code).toBe('VALIDATION_FAILED');
  });

  it('lists windows newest first with from, to and limit', async () => {
    const { app } = await seededApp();
    let r = await app.inject({ url: '/api/v1/models/credit-risk/windows?window=1m&limit=3' });
    expect(r.statusCode).toBe(200);
    const starts = r.json().evaluations.map((e: { windowStart: number }) => e.windowStart);
    expect(starts).toEqual([T0 + 9 * MINUTE, T0 + 8 * MINUTE, T0 + 7 * MINUTE]);
    const from = new Date(T0 + 2 * MINUTE).toISOString();
    r = await app.inject({ url: `/api/v1/models/credit-risk/windows?from=${from}&to=${T0 + 5 * MINUTE}` });
    expect(r.json().evaluations.map((e: { windowStart: number }) => e.windowStart)).toEqual([T0 + 4 * MINUTE, T0 + 3 * MINUTE, T0 + 2 * MINUTE]);
    expect(r.json().window).toBeNull();
    r = await app.inject({ url: `/api/v1/models/credit-risk/windows?from=${T0 + 5 * MINUTE}&to=${T0}` });
    expect(r.statusCode).toBe(400);
    r = await app.inject({ url: '/api/v1/models/credit-risk/windows?from=yesterday' });
    expect(r.statusCode).toBe(400);
    expect(r.json().code).toBe('VALIDATION_FAILED');
    r = await app.inject({ url: '/api/v1/models/credit-risk/windows?limit=0' });
    expect(r.statusCode).toBe(400);
  });

  it('answers performance from the evaluation, or from the label-join reader when it has newer numbers', async () => {
    let { app } = await seededApp();
    let r = await app.inject({ url: '/api/v1/models/credit-risk/performance?window=1m&limit=5' });
    expect(r.statusCode).toBe(200);
    expect(r.json().latest).toMatchObject({ windowEnd: T0 + 10 * MINUTE, performance: { coverage: 0.6, metrics: { accuracy: 0.81 } } });
    expect(r.json().history).toHaveLength(5);
    expect(r.json().history[0].windowStart).toBeLessThan(r.json().history[4].windowStart);
    // Estimated (from calibrated scores) beside realized (from labels), for the latest window and every window of the history.
    expect(r.json().latest).toMatchObject({ realized: { metrics: { accuracy: 0.81 } }, estimated: { status: 'estimated', metrics: { accuracy: 0.83 }, interval: { accuracy: [0.81, 0.85] } } });
    expect(r.json().history[0].estimated.metrics.accuracy).toBe(0.91);
    const joined = { windowStart: T0 + 9 * MINUTE, windowEnd: T0 + 10 * MINUTE, performance: { labelled: 950, predictions: 1000, coverage: 0.95, metrics: { accuracy: 0.8 } } };
    ({ app } = await seededApp({ performance: { latestPerformance: async () => joined } }));
    r = await app.inject({ url: '/api/v1/models/credit-risk/performance' });
    expect(r.json().latest).toMatchObject({ performance: { coverage: 0.95 }, realized: { coverage: 0.95 }, estimated: { metrics: { accuracy: 0.83 } }, proxy: { positiveRate: expect.any(Number) } });
    r = await app.inject({ url: '/api/v1/models/credit-risk/performance?window=1h' });
    expect(r.statusCode).toBe(200);
  });

  it('answers a numeric feature with reference and current histograms and its history', async () => {
    const { app } = await seededApp();
    const r = await app.inject({ url: '/api/v1/models/credit-risk/features/income?limit=5' });
    expect(r.statusCode).toBe(200);
    const f = r.json();
    expect(f).toMatchObject({ feature: 'income', type: 'numeric', window: '1m', referenceId: 'ref-credit-1' });
    expect(f.reference.edges).toHaveLength(9);
    expect(f.reference.range).toEqual([9000, 190000]);
    expect(f.reference.proportions).toHaveLength(10);
    expect(f.current.proportions[9]).toBe(0.2);
    expect(f.latest.severity).toBe('CRITICAL');
    expect(f.latest.histogram).toBeUndefined();
    expect(f.history).toHaveLength(5);
    expect(f.history.map((h: { windowStart: number }) => h.windowStart)).toEqual([5, 6, 7, 8, 9].map((i) => T0 + i * MINUTE));
    expect(f.history[4]).toMatchObject({ severity: 'CRITICAL', drift: true, ksPValue: 1e-9 });
  });

  it('derives the reference histogram from the stored profile when the evaluation carries none', async () => {
    const { app, results } = await seededApp();
    const e = creditEvaluations(1)[0];
    delete e.features.region.histogram;
    await results.saveEvaluations([{ ...e, evaluationId: 'late', windowStart: T0 + 20 * MINUTE, windowEnd: T0 + 21 * MINUTE }]);
    const f = (await app.inject({ url: '/api/v1/models/credit-risk/features/region' })).json();
    expect(f.type).toBe('categorical');
    expect(f.reference.categories).toEqual(['north', 'south', 'east', 'west']);
    expect(f.reference.proportions).toEqual([0.32, 0.28, 0.24, 0.16]);
    expect(f.current.proportions).toBeNull();
  });

  it('answers 404 FEATURE_NOT_FOUND for an unknown feature', async () => {
    const { app } = await seededApp();
    const r = await app.inject({ url: '/api/v1/models/credit-risk/features/height' });
    expect(r.statusCode).toBe(404);
    expect(r.json().code).toBe('FEATURE_NOT_FOUND');
  });
});

describe('alerts', () => {
  it('pages through alerts with a cursor, newest first', async () => {
    const { app } = await seededApp();
    let r = await app.inject({ url: '/api/v1/alerts?limit=2' });
    expect(r.statusCode).toBe(200);
    const first = r.json();
    expect(first.alerts.map((a: { alertId: string }) => a.alertId)).toEqual(['a-age', 'a-income']);
    expect(first.nextCursor).toEqual(expect.any(String));
    r = await app.inject({ url: `/api/v1/alerts?limit=2&cursor=${first.nextCursor}` });
    expect(r.json().alerts.map((a: { alertId: string }) => a.alertId)).toEqual(['a-old']);
    expect(r.json().nextCursor).toBeNull();
  });

  it('filters by status, model and since', async () => {
    const { app } = await seededApp();
    let r = await app.inject({ url: '/api/v1/alerts?status=RESOLVED' });
    expect(r.json().alerts.map((a: { alertId: string }) => a.alertId)).toEqual(['a-old']);
    r = await app.inject({ url: `/api/v1/alerts?modelId=credit-risk&since=${new Date(T0).toISOString()}` });
    expect(r.json().alerts).toHaveLength(2);
    r = await app.inject({ url: '/api/v1/alerts?modelId=other' });
    expect(r.json().alerts).toEqual([]);
    r = await app.inject({ url: '/api/v1/alerts?status=OPEN' });
    expect(r.statusCode).toBe(400);
    expect(r.json().code).toBe('VALIDATION_FAILED');
    r = await app.inject({ url: '/api/v1/alerts?limit=501' });
    expect(r.statusCode).toBe(400);
  });
});

describe('errors', () => {
  it('answers unknown routes with ROUTE_NOT_FOUND and never leaks a stack trace', async () => {
    const { app, logs } = await seededApp({
      results: {
        ...(await seededApp()).results,
        latestEvaluation: async () => { throw new Error('connection reset by peer at /secret/path.js:1'); },
      } as never,
    });
    let r = await app.inject({ url: '/api/v2/everything' });
    expect(r.statusCode).toBe(404);
    expect(r.json().code).toBe('ROUTE_NOT_FOUND');
    r = await app.inject({ url: '/api/v1/models/credit-risk/drift' });
    expect(r.statusCode).toBe(500);
    expect(r.json()).toEqual({ statusCode: 500, code: 'INTERNAL_ERROR', error: 'Internal Server Error', message: 'internal error', requestId: r.headers['x-request-id'] });
    const logged = logs.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'request failed');
    expect(logged.err.message).toContain('connection reset');
    expect(logged.reqId).toBe(r.headers['x-request-id']);
  });

  it('maps an unavailable dependency to 503 with Retry-After', async () => {
    const { UnavailableError } = await import('../../../src/errors.js');
    const base = await seededApp();
    const { app } = await seededApp({
      models: { ...base.models, getModel: async () => { throw new UnavailableError('postgres', 'connection refused'); } } as never,
    });
    const r = await app.inject({ url: '/api/v1/models/credit-risk' });
    expect(r.statusCode).toBe(503);
    expect(r.headers['retry-after']).toBe('5');
    expect(r.json()).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', message: 'postgres is unavailable; retry later' });
  });

  it('keeps the caller request id', async () => {
    const { app } = await seededApp();
    const r = await app.inject({ url: '/api/v1/models', headers: { 'x-request-id': 'trace-123' } });
    expect(r.headers['x-request-id']).toBe('trace-123');
  });
});

describe('model fixture', () => {
  it('is accepted by the model parser', async () => {
    const { app } = await seededApp({}, {}, false);
    const r = await app.inject({ method: 'PUT', url: '/api/v1/models/credit-risk', headers: edit, payload: CREDIT_MODEL });
    expect(r.statusCode).toBe(201);
  });
});
