import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type pg from 'pg';
import { DriftstreamError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { pgCall, quoteSchema } from './pg-pool.js';

/** The repository's migrations/ folder, from src/ (tsx) and from dist/ alike. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/', import.meta.url));

const FILE_NAME = /^(\d{3,})_([a-z0-9_-]+)\.sql$/;

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationStatus {
  version: number;
  name: string;
  appliedAt?: Date;
}

export interface MigrateOptions {
  schema?: string;
  dir?: string;
  logger?: Logger;
  /** Stop after this version (an older schema, for tests of the migrations themselves). */
  until?: number;
}

/** Reads `NNN_name.sql` files in version order; versions must be unique and increasing (a number may be skipped). */
export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const out: Migration[] = [];
  for (const file of files) {
    const m = FILE_NAME.exec(file);
    if (!m) throw new DriftstreamError('MIGRATION_INVALID', `migration file ${file} does not match NNN_name.sql`);
    const sql = await readFile(path.join(dir, file), 'utf8');
    out.push({ version: Number(m[1]), name: m[2], sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  out.forEach((m, i) => {
    const previous = i === 0 ? 0 : out[i - 1].version;
    if (m.version <= previous) throw new DriftstreamError('MIGRATION_INVALID', `migration versions must be unique and increasing from 1; found ${m.version} after ${previous}`);
  });
  return out;
}

async function withLock<T>(pool: pg.Pool, schema: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    // Several detectors start at once: the lock makes one migrate and the others wait, then find nothing to do.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`driftstream-migrate:${schema}`]);
    try {
      return await fn(client);
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`driftstream-migrate:${schema}`]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}

async function prepare(client: pg.PoolClient, schema: string | undefined): Promise<string> {
  if (schema) {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteSchema(schema)}`);
    await client.query(`SET search_path TO ${quoteSchema(schema)}`);
  }
  await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  const { rows } = await client.query<{ s: string }>('SELECT current_schema() AS s');
  return rows[0].s;
}

/**
 * Applies the pending numbered SQL migrations, each in its own transaction,
 * under an advisory lock. An applied migration whose file changed since is
 * refused: migrations are append-only. Returns the versions applied.
 */
export async function runMigrations(pool: pg.Pool, options: MigrateOptions = {}): Promise<number[]> {
  const migrations = await readMigrations(options.dir);
  const lockName = options.schema ?? 'default';
  return pgCall('migrate', () =>
    withLock(pool, lockName, async (client) => {
      const schema = await prepare(client, options.schema);
      const { rows } = await client.query<{ version: number; checksum: string }>('SELECT version, checksum FROM schema_migrations ORDER BY version');
      const applied = new Map(rows.map((r) => [r.version, r.checksum]));
      const done: number[] = [];
      for (const m of migrations.filter((x) => options.until === undefined || x.version <= options.until)) {
        const sum = applied.get(m.version);
        if (sum !== undefined) {
          if (sum !== m.checksum) {
            throw new DriftstreamError('MIGRATION_CHANGED', `migration ${m.version}_${m.name} was changed after it was applied; add a new migration instead`);
          }
          continue;
        }
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new DriftstreamError('MIGRATION_FAILED', `migration ${m.version}_${m.name} failed: ${(err as Error).message}`, { cause: err });
        }
        options.logger?.info({ schema, version: m.version, name: m.name }, 'migration applied');
        done.push(m.version);
      }
      return done;
    }),
  );
}

/** Every known migration with the time it was applied, if it was. */
export async function migrationStatus(pool: pg.Pool, options: MigrateOptions = {}): Promise<MigrationStatus[]> {
  const migrations = await readMigrations(options.dir);
  return pgCall('migration status', () =>
    withLock(pool, options.schema ?? 'default', async (client) => {
      await prepare(client, options.schema);
      const { rows } = await client.query<{ version: number; applied_at: Date }>('SELECT version, applied_at FROM schema_migrations');
      const at = new Map(rows.map((r) => [r.version, r.applied_at]));
      return migrations.map((m) => ({ version: m.version, name: m.name, appliedAt: at.get(m.version) }));
    }),
  );
}
