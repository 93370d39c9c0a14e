// Connections to PostgreSQL and Redis are reset and cut while queries, transactions and scripts are
// in flight, under load: every failure must reach its caller as an error, none may escape the
// process as an unhandled 'error' event or rejection (which ends a production detector).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { createPgPool, pgCall, pgTransaction } from '../../src/adapters/postgres/pg-pool.js';
import { createRedisClient, redisCall } from '../../src/adapters/redis/redis-connection.js';
import { DATABASE_URL, testDatabase, type TestDatabase } from '../support/postgres.js';
import { REDIS_URL, deletePrefix, testRedis, uniquePrefix } from '../support/redis.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const RUN_MS = Number(process.env.HOSTILE_RESET_MS ?? (process.env.HOSTILE_FULL ? 30_000 : 6_000));

const escaped: unknown[] = [];
const onEscape = (err: unknown) => void escaped.push(err);

let db: TestDatabase;
let pgProxy: TcpProxy;
let redisProxy: TcpProxy;
let pool: pg.Pool;
let redis: Redis;
const prefix = uniquePrefix('reset');

beforeAll(async () => {
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
  db = await testDatabase('reset');
  await db.pool.query('CREATE TABLE counters (id int PRIMARY KEY, n bigint NOT NULL)');
  await db.pool.query('INSERT INTO counters SELECT g, 0 FROM generate_series(1, 16) g');
  pgProxy = await startTcpProxy({ port: Number(new URL(DATABASE_URL).port || 5432) });
  redisProxy = await startTcpProxy({ port: Number(new URL(REDIS_URL).port || 6379) });
  pool = createPgPool(pgProxy.url(DATABASE_URL), { schema: db.schema, max: 8, queryTimeoutMs: 2_000, connectTimeoutMs: 1_000 });
  redis = createRedisClient(redisProxy.url(REDIS_URL), { commandTimeoutMs: 1_000, connectTimeoutMs: 1_000, maxBackoffMs: 200 });
});

afterAll(async () => {
  process.off('uncaughtException', onEscape);
  process.off('unhandledRejection', onEscape);
  redis?.disconnect();
  await pool?.end().catch(() => undefined);
  await pgProxy?.close();
  await redisProxy?.close();
  const direct = testRedis();
  await deletePrefix(direct, prefix).finally(() => direct.quit());
  await db?.drop();
});

describe('connection resets under load', () => {
  it('cutting and resetting PostgreSQL and Redis connections mid-query lets no error escape', async () => {
    let stop = false;
    const outcome = { ok: 0, failed: 0 };
    const settle = (p: Promise<unknown>) =>
      p.then(
        () => void outcome.ok++,
        () => void outcome.failed++,
      );
    // Transactions hold a checked-out client across several statements, with a sleep inside so resets
    // land while it is checked out and between statements.
    const pgWorker = async (w: number) => {
      while (!stop) {
        await settle(
          pgTransaction(pool, 'bump', async (client) => {
            await client.query('UPDATE counters SET n = n + 1 WHERE id = $1', [(w % 16) + 1]);
            await client.query('SELECT pg_sleep(0.02)');
            await client.query('UPDATE counters SET n = n + 1 WHERE id = $1', [((w + 1) % 16) + 1]);
          }),
        );
        await settle(pgCall('read', () => pool.query('SELECT sum(n) FROM counters')));
      }
    };
    const redisWorker = async (w: number) => {
      while (!stop) {
        const key = `${prefix}k${w}`;
        await settle(redisCall('multi', () => redis.multi().incr(key).pexpire(key, 60_000).exec()));
        await settle(redisCall('eval', () => redis.eval("redis.call('incr', KEYS[1]); return redis.call('get', KEYS[1])", 1, key)));
      }
    };
    const workers = [...Array.from({ length: 6 }, (_, w) => pgWorker(w)), ...Array.from({ length: 4 }, (_, w) => redisWorker(w))];
    const started = Date.now();
    let cuts = 0;
    while (Date.now() - started < RUN_MS) {
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 250));
      pgProxy.cut();
      redisProxy.cut();
      cuts++;
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
      pgProxy.restore();
      redisProxy.restore();
    }
    stop = true;
    await Promise.all(workers);
    // The resets happened and hit work in flight; the servers are back and answer through the proxies.
    expect(cuts).toBeGreaterThan(5);
    expect(outcome.failed).toBeGreaterThan(0);
    expect(outcome.ok).toBeGreaterThan(0);
    await expect(pgCall('after', () => pool.query('SELECT 1 AS one'))).resolves.toMatchObject({ rows: [{ one: 1 }] });
    await expect(redisCall('after', () => redis.ping())).resolves.toBe('PONG');
    expect(escaped.map((e) => String((e as Error)?.stack ?? e))).toEqual([]);
  });
});
