import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresResultRepository } from '../../../src/adapters/postgres/postgres-result-repository.js';
import { loadConfig } from '../../../src/config/config.js';
import { startServe, type ServeHandle } from '../../../src/commands/serve.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { makeAlert, makeEvaluation, T0 } from '../../support/fixtures.js';
import { DATABASE_URL, testDatabase, type TestDatabase } from '../../support/postgres.js';
import { REDIS_URL, deletePrefix, testRedis, uniquePrefix } from '../../support/redis.js';
import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy.js';

const EDITOR = 'editor:integration-editor-key';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (r: Response): Promise<any> => r.json();
const KEY = 'integration-editor-key';

describe('driftstream serve over PostgreSQL and Redis', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let prefix: string;
  let serve: ServeHandle;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await testDatabase('http');
    prefix = uniquePrefix('http');
    proxy = await startTcpProxy({ port: Number(new URL(DATABASE_URL).port || 5432) });
    env = {
      DRIFTSTREAM_DATABASE_URL: proxy.url(DATABASE_URL),
      DRIFTSTREAM_DATABASE_SCHEMA: db.schema,
      DRIFTSTREAM_REDIS_URL: REDIS_URL,
      DRIFTSTREAM_REDIS_KEY_PREFIX: prefix,
      DRIFTSTREAM_HTTP_PORT: '0',
      DRIFTSTREAM_API_KEYS: EDITOR,
      DRIFTSTREAM_LOG_LEVEL: 'silent',
      // The history written here is dated 2026-01-01 (T0): keep it whatever its age, or the history
      // maintenance that serve starts drops its partitions whenever a run ends after the writes.
      DRIFTSTREAM_HISTORY_RETENTION: '0',
    };
    serve = await startServe(loadConfig(env), { logger: createLogger('silent'), metrics: createMetrics({ defaultMetrics: false }) });
  });

  afterAll(async () => {
    await serve?.close();
    await proxy?.close();
    await db?.drop();
    const redis = testRedis();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  const get = (path: string) => fetch(`${serve.url}${path}`);

  it('is ready when PostgreSQL and Redis answer', async () => {
    const r = await get('/readyz');
    expect(r.status).toBe(200);
    expect(await json(r)).toEqual({ status: 'ready', checks: { redis: 'up', postgres: 'up' } });
  });

  it('stores a model and a streamed reference upload in PostgreSQL', async () => {
    let r = await fetch(`${serve.url}/api/v1/models/credit-risk`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify({ features: { age: 'numeric', region: 'categorical' }, windows: [{ name: '1m', size: '1m' }] }),
    });
    expect(r.status).toBe(201);
    const rows = ['age,region'];
    for (let i = 0; i < 20_000; i++) rows.push(`${18 + (i % 60)},${['north', 'south', 'east'][i % 3]}`);
    const body = new Blob([rows.join('\n')]).stream();
    r = await fetch(`${serve.url}/api/v1/models/credit-risk/reference`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', 'x-api-key': KEY },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(r.status).toBe(201);
    const ref = await json(r);
    expect(ref).toMatchObject({ modelId: 'credit-risk', version: 1, rows: 20_000 });
    const stored = await db.pool.query(`SELECT reference_id FROM "${db.schema}".reference_profiles WHERE model_id = $1`, ['credit-risk']);
    expect(stored.rows.map((row) => row.reference_id)).toEqual([ref.referenceId]);
    const m = await json(await get('/api/v1/models/credit-risk'));
    expect(m.reference).toMatchObject({ referenceId: ref.referenceId, version: 1, rows: 20_000 });
  });

  it('serves what a detector wrote to the shared history', async () => {
    // A detector elsewhere writes evaluations and alerts to the same schema.
    const detector = new PostgresResultRepository(db.pool);
    await detector.saveEvaluations([0, 1, 2].map((i) => makeEvaluation({ windowStart: T0 + i * 60_000 })));
    await detector.saveAlerts([makeAlert({ alertId: 'i1', detectedAt: T0 + 1000 }), makeAlert({ alertId: 'i2', detectedAt: T0 + 2000, status: 'RESOLVED' })]);
    // What another process wrote shows within the read cache's second.
    let r = await get('/api/v1/models/credit-risk/drift?window=1m');
    for (let i = 0; i < 30 && r.status === 404; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      r = await get('/api/v1/models/credit-risk/drift?window=1m');
    }
    expect(r.status).toBe(200);
    const e = await json(r);
    expect(e).toMatchObject({ windowStart: T0 + 120_000, sampleSize: 1234, datasetDrift: { share: 0.5, drift: true } });
    expect(e.features.age).toMatchObject({ severity: 'CRITICAL', ks: { statistic: 0.21, errorBound: 0.004 } });
    r = await get(`/api/v1/models/credit-risk/windows?window=1m&from=${T0 + 60_000}`);
    expect((await json(r)).evaluations).toHaveLength(2);
    const page1 = await json(await get('/api/v1/alerts?limit=1'));
    expect(page1.alerts[0].alertId).toBe('i2');
    const page2 = await json(await get(`/api/v1/alerts?limit=1&cursor=${encodeURIComponent(page1.nextCursor)}`));
    expect(page2.alerts[0].alertId).toBe('i1');
    r = await get('/api/v1/alerts?cursor=not-a-cursor');
    expect(r.status).toBe(400);
    expect((await json(r)).code).toBe('INVALID_CURSOR');
    const m = await json(await get('/api/v1/models/credit-risk'));
    expect(m.status).toBe('drifting');
  });

  it('answers 503 naming PostgreSQL while it is unreachable, and recovers', async () => {
    proxy.cut();
    try {
      const r = await get('/readyz');
      expect(r.status).toBe(503);
      const body = await json(r);
      expect(body).toMatchObject({ code: 'NOT_READY', down: ['postgres'], checks: { redis: 'up', postgres: 'down' } });
      const m = await get('/api/v1/models/credit-risk');
      expect(m.status).toBe(503);
      expect((await json(m)).code).toBe('DEPENDENCY_UNAVAILABLE');
    } finally {
      proxy.restore();
    }
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      status = (await get('/readyz')).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
  });

  it('runs as `driftstream serve` and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--port', '0'], {
      env: { ...process.env, ...env, DRIFTSTREAM_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('serve did not start')), 30_000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const rec = JSON.parse(line);
        if (rec.msg === 'HTTP service listening') {
          clearTimeout(timer);
          resolve(rec.url);
        }
      });
      child.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
    });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const models = await json(await fetch(`${url}/api/v1/models`));
    expect(models.models.map((m: { modelId: string }) => m.modelId)).toEqual(['credit-risk']);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
