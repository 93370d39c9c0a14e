import type pg from 'pg';
import type { ModelConfigJson, ModelEntry, ModelRepository, StoredReference } from '../../ports/model-repository.js';
import { pgCall, pgTransaction } from './pg-pool.js';

interface ReferenceRow {
  reference_id: string;
  model_id: string;
  version: number;
  created_at: Date;
  profile: unknown;
}

function toReference(r: ReferenceRow): StoredReference {
  return Object.freeze({ referenceId: r.reference_id, modelId: r.model_id, version: r.version, createdAt: r.created_at.getTime(), profile: r.profile });
}

/** Models and their immutable, versioned reference profiles in PostgreSQL. */
export class PostgresModelRepository implements ModelRepository {
  constructor(private readonly pool: pg.Pool) {}

  async listModels(): Promise<ModelConfigJson[]> {
    const { rows } = await pgCall('list models', () => this.pool.query<{ config: ModelConfigJson }>('SELECT config FROM models ORDER BY model_id'));
    return rows.map((r) => r.config);
  }

  async getModel(modelId: string): Promise<ModelConfigJson | undefined> {
    const { rows } = await pgCall('get model', () => this.pool.query<{ config: ModelConfigJson }>('SELECT config FROM models WHERE model_id = $1', [modelId]));
    return rows[0]?.config;
  }

  async getModelEntry(modelId: string): Promise<ModelEntry | undefined> {
    const { rows } = await pgCall('get model', () =>
      this.pool.query<{ config: ModelConfigJson; version: string }>('SELECT config, version FROM models WHERE model_id = $1', [modelId]),
    );
    return rows[0] && { config: rows[0].config, version: Number(rows[0].version) };
  }

  async putModel(config: ModelConfigJson): Promise<number> {
    const { rows } = await pgCall('put model', () =>
      this.pool.query<{ version: string }>(
        `INSERT INTO models (model_id, config) VALUES ($1, $2)
         ON CONFLICT (model_id) DO UPDATE SET config = EXCLUDED.config, version = models.version + 1, updated_at = now()
         RETURNING version`,
        [config.modelId, JSON.stringify(config)],
      ),
    );
    return Number(rows[0].version);
  }

  async putModelIf(config: ModelConfigJson, expectedVersion: number | null): Promise<number | undefined> {
    // One statement each: the row lock of the insert or update makes the check and the write atomic.
    const { rows } = await pgCall('put model if', () =>
      expectedVersion === null
        ? this.pool.query<{ version: string }>(
            'INSERT INTO models (model_id, config) VALUES ($1, $2) ON CONFLICT (model_id) DO NOTHING RETURNING version',
            [config.modelId, JSON.stringify(config)],
          )
        : this.pool.query<{ version: string }>(
            'UPDATE models SET config = $2, version = version + 1, updated_at = now() WHERE model_id = $1 AND version = $3 RETURNING version',
            [config.modelId, JSON.stringify(config), expectedVersion],
          ),
    );
    return rows[0] ? Number(rows[0].version) : undefined;
  }

  async deleteModel(modelId: string): Promise<boolean> {
    const res = await pgCall('delete model', () => this.pool.query('DELETE FROM models WHERE model_id = $1', [modelId]));
    return (res.rowCount ?? 0) > 0;
  }

  async addReference(modelId: string, referenceId: string, profile: unknown): Promise<StoredReference> {
    return pgTransaction(this.pool, 'add reference', async (client) => {
      // Versions of one model are numbered under a per-model lock, so two writers never take the same number.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`driftstream-reference:${modelId}`]);
      const existing = await client.query<ReferenceRow>('SELECT * FROM reference_profiles WHERE reference_id = $1', [referenceId]);
      if (existing.rows[0]) return toReference(existing.rows[0]);
      const { rows } = await client.query<ReferenceRow>(
        `INSERT INTO reference_profiles (reference_id, model_id, version, profile)
         VALUES ($1, $2, (SELECT COALESCE(MAX(version), 0) + 1 FROM reference_profiles WHERE model_id = $2), $3)
         RETURNING *`,
        [referenceId, modelId, JSON.stringify(profile)],
      );
      return toReference(rows[0]);
    });
  }

  async latestReference(modelId: string): Promise<StoredReference | undefined> {
    const { rows } = await pgCall('latest reference', () =>
      this.pool.query<ReferenceRow>('SELECT * FROM reference_profiles WHERE model_id = $1 ORDER BY version DESC LIMIT 1', [modelId]),
    );
    return rows[0] && toReference(rows[0]);
  }

  /**
   * The latest reference's id, version, time and row count, without its
   * profile: model answers show these, and a profile can weigh megabytes.
   */
  async latestReferenceSummary(modelId: string): Promise<{ referenceId: string; version: number; createdAt: number; rows: number | null } | undefined> {
    const { rows } = await pgCall('latest reference summary', () =>
      this.pool.query<{ reference_id: string; version: number; created_at: Date; rows: string | null }>(
        `SELECT reference_id, version, created_at, CASE WHEN jsonb_typeof(profile->'rows') = 'number' THEN profile->>'rows' END AS rows
         FROM reference_profiles WHERE model_id = $1 ORDER BY version DESC LIMIT 1`,
        [modelId],
      ),
    );
    const r = rows[0];
    return r && { referenceId: r.reference_id, version: r.version, createdAt: r.created_at.getTime(), rows: r.rows === null ? null : Number(r.rows) };
  }

  async getReference(referenceId: string): Promise<StoredReference | undefined> {
    const { rows } = await pgCall('get reference', () => this.pool.query<ReferenceRow>('SELECT * FROM reference_profiles WHERE reference_id = $1', [referenceId]));
    return rows[0] && toReference(rows[0]);
  }
}
