import pg from 'pg';
import { DriftstreamError, UnavailableError } from '../../errors.js';
import { redactUrl } from '../../config/config.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { HealthCheck } from '../../ports/health-check.js';

export interface PgPoolOptions {
  /** Schema the tables live in (search_path); unset uses the server's default. */
  schema?: string;
  max?: number;
  logger?: Logger;
  metrics?: Metrics;
  /** A query that gets no answer within this time fails (a stalled link, not only a closed one). */
  queryTimeoutMs?: number;
  connectTimeoutMs?: number;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Quotes an identifier after checking it is a plain name. */
export function quoteSchema(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) throw new DriftstreamError('CONFIG_INVALID', `schema name ${JSON.stringify(schema)} is not a plain identifier`);
  return `"${schema}"`;
}

/** Opens a pg pool whose connections use `schema`, with timeouts so a lost server surfaces as errors, not hangs. */
export function createPgPool(url: string, options: PgPoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 4,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    query_timeout: options.queryTimeoutMs ?? 15_000,
    keepAlive: true,
    idleTimeoutMillis: 30_000,
    application_name: 'driftstream',
    options: options.schema ? `-c search_path=${quoteSchema(options.schema)}` : undefined,
  });
  const lost = (err: Error) => {
    options.logger?.warn({ db: redactUrl(url), err: err.message }, 'postgres connection lost');
    options.metrics?.dependencyUp.set({ dependency: 'postgres' }, 0);
  };
  // An idle client losing its server must not crash the process: the next query reports it.
  pool.on('error', lost);
  // Nor may a checked-out one (inside a transaction, between its statements): pg emits 'error' on the
  // client, and the pool listens only while it is idle. The statement in flight fails on its own.
  pool.on('connect', (client) => {
    client.on('error', lost);
  });
  return pool;
}

// SQLSTATE classes and codes that mean "the server is away or restarting", not "the query is wrong".
const TRANSIENT_SQLSTATE = /^(08|53|57P0[1-4]|40001|40P01|55P03)/;

/** True when a pg error says the database is unreachable or restarting. */
export function isTransientPgError(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  if (!e) return false;
  if (typeof e.code === 'string') {
    if (TRANSIENT_SQLSTATE.test(e.code)) return true;
    if (/^E[A-Z]+/.test(e.code)) return true; // ECONNREFUSED, ECONNRESET, ETIMEDOUT, EPIPE, ...
  }
  return /Connection terminated|timeout|Client has encountered a connection error|not queryable|ECONN|socket/i.test(e.message ?? '');
}

/** Runs a database operation, mapping connection failures onto a retriable {@link UnavailableError}. */
export async function pgCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof DriftstreamError) throw err;
    if (isTransientPgError(err)) {
      throw new UnavailableError('postgres', `postgres unavailable during ${what}: ${(err as Error).message}`, { cause: err });
    }
    throw new DriftstreamError('POSTGRES_QUERY_FAILED', `postgres ${what} failed: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Runs `fn` in one transaction on a pooled client (through {@link pgCall}):
 * COMMIT when it returns, ROLLBACK when it throws.
 */
export async function pgTransaction<T>(pool: pg.Pool, what: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return pgCall(what, async () => {
    const client = await pool.connect();
    let failed: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      failed = err as Error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      // A client that failed mid-transaction may be broken: drop it instead of pooling it.
      client.release(failed);
    }
  });
}

/** /readyz check: a pooled connection answers `SELECT 1` promptly. */
export function pgHealthCheck(pool: pg.Pool, metrics?: Metrics, timeoutMs = 2_000): HealthCheck {
  return {
    name: 'postgres',
    async check(): Promise<boolean> {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          pool.query('SELECT 1'),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
          }),
        ]);
        metrics?.dependencyUp.set({ dependency: 'postgres' }, 1);
        return true;
      } catch {
        metrics?.dependencyUp.set({ dependency: 'postgres' }, 0);
        return false;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
