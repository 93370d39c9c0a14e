// PostgreSQL goes away under the history writer (through a proxy the test controls; the machine's
// server keeps running): the buffer fills, says so, and everything is written once it returns.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BufferedResultWriter } from '../../../src/adapters/postgres/buffered-result-writer.js';
import { createPgPool, pgHealthCheck } from '../../../src/adapters/postgres/pg-pool.js';
import { PostgresResultRepository } from '../../../src/adapters/postgres/postgres-result-repository.js';
import type pg from 'pg';
import { DATABASE_URL, testDatabase, type TestDatabase } from '../../support/postgres.js';
import { makeAlert, makeEvaluation, T0 } from '../../support/fixtures.js';
import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy.js';

const M = 60_000;
let db: TestDatabase;
let proxy: TcpProxy;
let pool: pg.Pool;

beforeAll(async () => {
  db = await testDatabase('pgout');
  proxy = await startTcpProxy({ port: Number(new URL(DATABASE_URL).port || 5432) });
  pool = createPgPool(proxy.url(DATABASE_URL), { schema: db.schema, queryTimeoutMs: 1_500, connectTimeoutMs: 1_000 });
});

afterEach(() => proxy.restore());

afterAll(async () => {
  await pool?.end().catch(() => undefined);
  await proxy?.close();
  await db?.drop();
});

async function countRows(table: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
  return Number(rows[0].n);
}

const until = async (cond: () => boolean, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('BufferedResultWriter when PostgreSQL goes away', () => {
  it.each(['cut', 'stall'] as const)('%s: fills, signals backpressure, writes everything once PostgreSQL returns', async (how) => {
    const model = `model-${how}`;
    const writer = new BufferedResultWriter(new PostgresResultRepository(pool), { capacity: 120, batchSize: 25, flushIntervalMs: 10, maxBackoffMs: 200 });
    const health = pgHealthCheck(pool, undefined, 1_000);
    const events: string[] = [];
    writer.on('full', () => events.push('full')).on('drained', () => events.push('drained'));
    writer.on('unavailable', () => events.push('unavailable')).on('available', () => events.push('available'));
    let produced = 0;
    const produce = async (n: number) => {
      for (let i = 0; i < n; i++, produced++) {
        await writer.saveEvaluations([makeEvaluation({ modelId: model, windowStart: T0 + produced * M })]);
        if (produced % 10 === 0) await writer.saveAlerts([makeAlert({ modelId: model, alertId: `${model}-${produced}` })]);
      }
    };

    await produce(50);
    await writer.durable();
    expect(await health.check()).toBe(true);

    if (how === 'cut') proxy.cut();
    else proxy.stall();
    // A consumer that pauses while the buffer is full: it stops at the capacity instead of growing the buffer.
    const consumer = (async () => {
      for (let batch = 0; batch < 30; batch++) {
        if (writer.isFull()) await writer.whenWritable();
        await produce(10);
      }
    })();
    await until(() => writer.isFull() && !writer.isHealthy());
    expect(await health.check()).toBe(false);
    const held = produced;
    await new Promise((r) => setTimeout(r, 1_000));
    expect(produced).toBe(held); // paused, not dropping
    expect(writer.size).toBeLessThan(120 + 10 + 1 + 10);

    proxy.restore();
    await consumer;
    await writer.durable();
    expect(events).toEqual(expect.arrayContaining(['unavailable', 'full', 'available', 'drained']));
    expect(await health.check()).toBe(true);
    const { rows } = await db.pool.query<{ n: string; windows: string }>(
      'SELECT count(*) AS n, count(DISTINCT window_start) AS windows FROM evaluations WHERE model_id = $1',
      [model],
    );
    expect(Number(rows[0].n)).toBe(350);
    expect(Number(rows[0].windows)).toBe(350);
    const alerts = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM alerts WHERE model_id = $1', [model]);
    expect(Number(alerts.rows[0].n)).toBe(35);
    expect(await writer.close(1_000)).toBe(0);
  });

  it('close() flushes what is buffered', async () => {
    const before = await countRows('evaluations');
    const writer = new BufferedResultWriter(new PostgresResultRepository(pool), { capacity: 1_000, flushIntervalMs: 60_000 });
    await writer.saveEvaluations(Array.from({ length: 40 }, (_, i) => makeEvaluation({ modelId: 'closing', windowStart: T0 + i * M })));
    expect(writer.size).toBe(40);
    expect(await writer.close()).toBe(0);
    expect(await countRows('evaluations')).toBe(before + 40);
  });
});
