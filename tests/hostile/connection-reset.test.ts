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

interface Outcome {
  ok: number;
  failed: number;
}

/**
 * Runs transactions, plain queries, MULTIs and scripts on `pgPool` and `redisClient` until the
 * returned stop() is called; every failure must reach its caller (counted), none may escape.
 */
function startLoad(pgPool: pg.Pool, redisClient: Redis, keyPrefix: string): { outcome: Outcome; stop(): Promise<void> } {
  let stopped = false;
  const outcome: Outcome = { ok: 0, failed: 0 };
  const settle = (p: Promise<unknown>) =>
    p.then(
      () => void outcome.ok++,
      () => void outcome.failed++,
    );
  // Transactions hold a checked-out client across several statements, with a sleep inside so resets
  // land while it is checked out and between statements.
  const pgWorker = async (w: number) => {
    while (!stopped) {
      await settle(
        pgTransaction(pgPool, 'bump', async (client) => {
          await client.query('UPDATE counters SET n = n + 1 WHERE id = $1', [(w % 16) + 1]);
          await client.query('SELECT pg_sleep(0.02)');
          await client.query('UPDATE counters SET n = n + 1 WHERE id = $1', [((w + 1) % 16) + 1]);
        }),
      );
      await settle(pgCall('read', () => pgPool.query('SELECT sum(n) FROM counters')));
    }
  };
  const redisWorker = async (w: number) => {
    while (!stopped) {
      const key = `${keyPrefix}k${w}`;
      await settle(redisCall('multi', () => redisClient.multi().incr(key).pexpire(key, 60_000).exec()));
      await settle(redisCall('eval', () => redisClient.eval("redis.call('incr', KEYS[1]); return redis.call('get', KEYS[1])", 1, key)));
    }
  };
  const workers = [...Array.from({ length: 6 }, (_, w) => pgWorker(w)), ...Array.from({ length: 4 }, (_, w) => redisWorker(w))];
  return {
    outcome,
    async stop() {
      stopped = true;
      await Promise.all(workers);
    },
  };
}

const pause = (min: number, spread: number) => new Promise((r) => setTimeout(r, min + Math.random() * spread));

describe('connection resets under load', () => {
  it('cutting and resetting PostgreSQL and Redis connections mid-query lets no error escape', async () => {
    const load = startLoad(pool, redis, prefix);
    const started = Date.now();
    let cuts = 0;
    while (Date.now() - started < RUN_MS) {
      await pause(150, 250);
      pgProxy.cut();
      redisProxy.cut();
      cuts++;
      await pause(50, 200);
      pgProxy.restore();
      redisProxy.restore();
    }
    await load.stop();
    const { outcome } = load;
    // The resets happened and hit work in flight; the servers are back and answer through the proxies.
    expect(cuts).toBeGreaterThan(5);
    expect(outcome.failed).toBeGreaterThan(0);
    expect(outcome.ok).toBeGreaterThan(0);
    await expect(pgCall('after', () => pool.query('SELECT 1 AS one'))).resolves.toMatchObject({ rows: [{ one: 1 }] });
    await expect(redisCall('after', () => redis.ping())).resolves.toBe('PONG');
    expect(escaped.map((e) => String((e as Error)?.stack ?? e))).toEqual([]);
  });

  it('servers ending the connections (pg_terminate_backend, CLIENT KILL) mid-query let no error escape', async () => {
    // Straight to the servers: they end the sessions themselves (PostgreSQL sends a FATAL admin
    // shutdown to the client first), which reaches pg and ioredis another way than a cut socket.
    const direct = createPgPool(DATABASE_URL, { schema: db.schema, max: 8, queryTimeoutMs: 2_000, connectTimeoutMs: 1_000 });
    const pids = new Set<number>();
    direct.on('connect', (client) => pids.add((client as unknown as { processID: number }).processID));
    const name = `reset-${prefix.replace(/[^A-Za-z0-9]/g, '')}`;
    const killed = createRedisClient(REDIS_URL, { name, commandTimeoutMs: 1_000, connectTimeoutMs: 1_000, maxBackoffMs: 200 });
    const admin = testRedis();
    try {
      const load = startLoad(direct, killed, `${prefix}kill:`);
      const started = Date.now();
      let terminated = 0;
      let clientsKilled = 0;
      while (Date.now() - started < RUN_MS) {
        await pause(150, 250);
        // Only this test's own sessions: the servers are shared.
        const { rows } = await db.pool.query<{ n: string }>('SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE pid = ANY($1::int[])', [[...pids]]);
        terminated += Number(rows[0].n);
        const list = (await admin.client('LIST')) as string;
        for (const line of list.split('\n')) {
          if (!line.includes(` name=${name} `)) continue;
          const id = /\bid=(\d+)/.exec(line)?.[1];
          if (id) clientsKilled += Number(await admin.client('KILL', 'ID', id));
        }
      }
      await load.stop();
      expect(terminated).toBeGreaterThan(5);
      expect(clientsKilled).toBeGreaterThan(5);
      expect(load.outcome.failed).toBeGreaterThan(0);
      expect(load.outcome.ok).toBeGreaterThan(0);
      await expect(pgCall('after', () => direct.query('SELECT 1 AS one'))).resolves.toMatchObject({ rows: [{ one: 1 }] });
      await expect(redisCall('after', () => killed.ping())).resolves.toBe('PONG');
      expect(escaped.map((e) => String((e as Error)?.stack ?? e))).toEqual([]);
    } finally {
      killed.disconnect();
      await admin.quit();
      await direct.end().catch(() => undefined);
    }
  });
});
