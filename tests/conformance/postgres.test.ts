// Conformance of the PostgreSQL adapters (directly and behind the buffered writer), each test in its own schema.
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresModelRepository } from '../../src/adapters/postgres/postgres-model-repository.js';
import { PostgresResultRepository } from '../../src/adapters/postgres/postgres-result-repository.js';
import { BufferedResultWriter } from '../../src/adapters/postgres/buffered-result-writer.js';
import { migrationStatus, runMigrations } from '../../src/adapters/postgres/migrate.js';
import type { ResultRepository } from '../../src/ports/result-repository.js';
import { testDatabase, type TestDatabase } from '../support/postgres.js';
import { makeEvaluation } from '../support/fixtures.js';
import { modelRepositoryConformance } from './model-repository.conformance.js';
import { resultRepositoryConformance } from './result-repository.conformance.js';
import { analysisRepositoryConformance } from './analysis-repository.conformance.js';
import { PostgresAnalysisRepository } from '../../src/adapters/postgres/postgres-analysis-repository.js';
import { PostgresChannelRepository } from '../../src/adapters/postgres/postgres-channel-repository.js';
import { PostgresNotificationLog } from '../../src/adapters/postgres/postgres-notification-log.js';
import { channelRepositoryConformance, notificationLogConformance } from './notification-log.conformance.js';

const dbs: TestDatabase[] = [];
const writers: BufferedResultWriter[] = [];
async function db(): Promise<TestDatabase> {
  const d = await testDatabase('conf');
  dbs.push(d);
  return d;
}

afterAll(async () => {
  await Promise.all(writers.map((w) => w.close(1_000)));
  await Promise.all(dbs.map((d) => d.drop()));
});

modelRepositoryConformance('postgres', async () => new PostgresModelRepository((await db()).pool));
resultRepositoryConformance('postgres', async () => new PostgresResultRepository((await db()).pool));
analysisRepositoryConformance('postgres', async () => new PostgresAnalysisRepository((await db()).pool));
notificationLogConformance('postgres', async () => new PostgresNotificationLog((await db()).pool));
channelRepositoryConformance('postgres', async () => new PostgresChannelRepository((await db()).pool));
resultRepositoryConformance(
  'postgres behind BufferedResultWriter',
  async () => {
    const w = new BufferedResultWriter(new PostgresResultRepository((await db()).pool), { capacity: 100, batchSize: 7, flushIntervalMs: 20 });
    writers.push(w);
    return w;
  },
  (repo: ResultRepository) => (repo as BufferedResultWriter).durable(),
);

describe('PostgreSQL schema', () => {
  it('migrations are idempotent and recorded', async () => {
    const d = await db();
    expect(await runMigrations(d.pool, { schema: d.schema })).toEqual([]);
    const status = await migrationStatus(d.pool, { schema: d.schema });
    expect(status.length).toBeGreaterThanOrEqual(1);
    expect(status.every((s) => s.appliedAt instanceof Date)).toBe(true);
  });

  it('concurrent migrations of one schema apply each migration once', async () => {
    const d = await db();
    const schema = `${d.schema}_race`;
    const results = await Promise.all([1, 2, 3].map(() => runMigrations(d.pool, { schema })));
    expect(results.flat().sort()).toEqual((await migrationStatus(d.pool, { schema })).map((s) => s.version));
    await d.pool.query(`DROP SCHEMA "${schema}" CASCADE`);
  });

  it('reference profiles cannot be updated', async () => {
    const d = await db();
    await new PostgresModelRepository(d.pool).addReference('m', 'ref-1', { a: 1 });
    await expect(d.pool.query(`UPDATE reference_profiles SET profile = '{}' WHERE reference_id = 'ref-1'`)).rejects.toThrow(/immutable/);
  });

  it('stores a window as one row with its statistics per feature, and keeps the fuller of two evaluations', async () => {
    const d = await db();
    const repo = new PostgresResultRepository(d.pool);
    const e = makeEvaluation();
    await repo.saveEvaluations([e]);
    await repo.saveEvaluations([{ ...e, sampleSize: 10, features: {} }]);
    const { rows } = await d.pool.query(
      `SELECT l.names, e.psi, e.flags, e.sample_size, e.performance->>'labelled' AS labelled
       FROM evaluations e JOIN history_layouts l USING (layout_id)`,
    );
    // One row per window, its statistics as arrays on the layout's names, severity in the flags' low bits.
    expect(rows).toEqual([{ names: ['age', 'region', 'score'], psi: [0.31, 0.01, 0.02], flags: [2 | 4, 0, 0], sample_size: '1234', labelled: '600' }]);
    expect((await repo.latestEvaluation(e.modelId, e.windowName))?.sampleSize).toBe(1_234);
  });

  it('rejects a cursor it did not issue', async () => {
    const repo = new PostgresResultRepository((await db()).pool);
    await expect(repo.listAlerts({ cursor: 'bm9wZQ' })).rejects.toMatchObject({ code: 'INVALID_CURSOR' });
  });
});
