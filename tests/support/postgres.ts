import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createPgPool } from '../../src/adapters/postgres/pg-pool.js';
import { runMigrations } from '../../src/adapters/postgres/migrate.js';

export const DATABASE_URL = process.env.DRIFTSTREAM_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A schema name no other test run uses. */
export function uniqueSchema(label = 't'): string {
  return `ds_${label}_${Date.now().toString(36)}_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
}

export interface TestDatabase {
  schema: string;
  pool: pg.Pool;
  /** Drops the schema and closes the pool. */
  drop(): Promise<void>;
}

/** A migrated private schema on the shared server; `url` may point at a proxy in front of it. */
export async function testDatabase(label = 't', url = DATABASE_URL): Promise<TestDatabase> {
  const schema = uniqueSchema(label);
  const pool = createPgPool(url, { schema });
  await runMigrations(pool, { schema });
  return {
    schema,
    pool,
    async drop() {
      await pool.end().catch(() => undefined);
      await dropSchema(schema);
    },
  };
}

export async function dropSchema(schema: string): Promise<void> {
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await admin.end();
  }
}
