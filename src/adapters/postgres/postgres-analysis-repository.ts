import type pg from 'pg';
import type { Analysis, AnalysisProgress, AnalysisRequest, AnalysisState, AnalysisSummary, AnalysisWindow } from '../../core/analysis/analysis.js';
import { INITIAL_PROGRESS } from '../../core/analysis/analysis.js';
import type { AnalysisQuery, AnalysisRepository } from '../../ports/analysis-repository.js';
import { decodeAnalysisCursor, encodeAnalysisCursor } from '../analysis-cursor.js';
import { pgCall } from './pg-pool.js';

interface AnalysisRow {
  analysis_id: string;
  model_id: string;
  state: AnalysisState;
  request: AnalysisRequest;
  progress: AnalysisProgress;
  summary: AnalysisSummary | null;
  error: string | null;
  cancel_requested: boolean;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const COLUMNS = 'analysis_id, model_id, state, request, progress, summary, error, cancel_requested, created_at, updated_at, started_at, finished_at';

function toAnalysis(r: AnalysisRow): Analysis {
  return {
    analysisId: r.analysis_id,
    modelId: r.model_id,
    state: r.state,
    request: r.request,
    progress: r.progress,
    ...(r.summary ? { summary: r.summary } : {}),
    ...(r.error !== null ? { error: r.error } : {}),
    cancelRequested: r.cancel_requested,
    createdAt: r.created_at.getTime(),
    updatedAt: r.updated_at.getTime(),
    ...(r.started_at ? { startedAt: r.started_at.getTime() } : {}),
    ...(r.finished_at ? { finishedAt: r.finished_at.getTime() } : {}),
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Analyses and their windows in PostgreSQL (migrations/005_analyses.sql). */
export class PostgresAnalysisRepository implements AnalysisRepository {
  constructor(private readonly pool: pg.Pool) {}

  private async one(what: string, sql: string, params: unknown[]): Promise<Analysis | undefined> {
    const { rows } = await pgCall(what, () => this.pool.query<AnalysisRow>(sql, params));
    return rows[0] && toAnalysis(rows[0]);
  }

  async create(analysisId: string, request: AnalysisRequest, now: number, upload?: Uint8Array): Promise<Analysis> {
    const created = await this.one(
      'create analysis',
      `INSERT INTO analyses (analysis_id, model_id, state, request, tags, progress, upload, created_at, updated_at)
       VALUES ($1, $2, 'queued', $3, $4, $5, $6, $7, $7) RETURNING ${COLUMNS}`,
      [analysisId, request.modelId, JSON.stringify(request), [...request.tags], JSON.stringify(INITIAL_PROGRESS), upload ? Buffer.from(upload) : null, iso(now)],
    );
    return created!;
  }

  get(analysisId: string): Promise<Analysis | undefined> {
    return this.one('get analysis', `SELECT ${COLUMNS} FROM analyses WHERE analysis_id = $1`, [analysisId]);
  }

  async upload(analysisId: string): Promise<Uint8Array | undefined> {
    const { rows } = await pgCall('read analysis upload', () => this.pool.query<{ upload: Buffer | null }>('SELECT upload FROM analyses WHERE analysis_id = $1', [analysisId]));
    return rows[0]?.upload ?? undefined;
  }

  async list(q: AnalysisQuery): Promise<{ analyses: Analysis[]; nextCursor?: string }> {
    const limit = q.limit ?? 50;
    const after = q.cursor ? decodeAnalysisCursor(q.cursor) : undefined;
    const { rows } = await pgCall('list analyses', () =>
      this.pool.query<AnalysisRow>(
        `SELECT ${COLUMNS} FROM analyses
         WHERE ($1::text IS NULL OR model_id = $1)
           AND ($2::text[] IS NULL OR tags @> $2)
           AND ($3::text IS NULL OR state = $3)
           AND ($4::timestamptz IS NULL OR (created_at, analysis_id) < ($4, $5))
         ORDER BY created_at DESC, analysis_id DESC
         LIMIT $6`,
        [q.modelId ?? null, q.tags && q.tags.length > 0 ? [...q.tags] : null, q.state ?? null, after ? iso(after.createdAt) : null, after?.analysisId ?? null, limit + 1],
      ),
    );
    const analyses = rows.slice(0, limit).map(toAnalysis);
    const last = analyses[analyses.length - 1];
    return rows.length > limit && last ? { analyses, nextCursor: encodeAnalysisCursor(last) } : { analyses };
  }

  claimNext(now: number, analysisId?: string): Promise<Analysis | undefined> {
    // SKIP LOCKED: runners in several processes each take a different analysis.
    return this.one(
      'claim analysis',
      `UPDATE analyses SET state = 'running', updated_at = $1, started_at = COALESCE(started_at, $1)
       WHERE analysis_id = (SELECT analysis_id FROM analyses WHERE state = 'queued' AND ($2::text IS NULL OR analysis_id = $2) ORDER BY created_at, analysis_id LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING ${COLUMNS}`,
      [iso(now), analysisId ?? null],
    );
  }

  async requeueRunning(now: number): Promise<number> {
    const { rowCount } = await pgCall('requeue analyses', () => this.pool.query(`UPDATE analyses SET state = 'queued', updated_at = $1 WHERE state = 'running'`, [iso(now)]));
    return rowCount ?? 0;
  }

  async saveWindows(analysisId: string, windows: readonly AnalysisWindow[], progress: AnalysisProgress, now: number): Promise<boolean> {
    const client = await pgCall('save analysis windows', () => this.pool.connect());
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ state: string; cancel_requested: boolean }>('SELECT state, cancel_requested FROM analyses WHERE analysis_id = $1 FOR UPDATE', [analysisId]);
      if (rows[0]?.state !== 'running' || rows[0].cancel_requested) {
        await client.query('ROLLBACK');
        return false;
      }
      if (windows.length > 0) {
        await client.query(
          `INSERT INTO analysis_windows (analysis_id, window_start, window_end, drift, evaluation)
           SELECT $1, w.window_start, w.window_end, w.drift, w.evaluation
           FROM jsonb_to_recordset($2::jsonb) AS w(window_start timestamptz, window_end timestamptz, drift boolean, evaluation jsonb)
           ON CONFLICT (analysis_id, window_start) DO UPDATE SET window_end = EXCLUDED.window_end, drift = EXCLUDED.drift, evaluation = EXCLUDED.evaluation`,
          [analysisId, JSON.stringify(windows.map((w) => ({ window_start: iso(w.windowStart), window_end: iso(w.windowEnd), drift: w.drift, evaluation: w.evaluation })))],
        );
      }
      await client.query('UPDATE analyses SET progress = $2, updated_at = $3 WHERE analysis_id = $1', [analysisId, JSON.stringify(progress), iso(now)]);
      await client.query('COMMIT');
      return true;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      return pgCall('save analysis windows', () => Promise.reject(err));
    } finally {
      client.release();
    }
  }

  async finish(analysisId: string, state: 'completed' | 'failed' | 'cancelled', now: number, outcome: { summary?: AnalysisSummary; error?: string }): Promise<boolean> {
    const done = await this.one(
      'finish analysis',
      `UPDATE analyses SET state = $2, summary = $3, error = $4, updated_at = $5, finished_at = $5
       WHERE analysis_id = $1 AND state = 'running' RETURNING ${COLUMNS}`,
      [analysisId, state, outcome.summary ? JSON.stringify(outcome.summary) : null, outcome.error ?? null, iso(now)],
    );
    return done !== undefined;
  }

  async cancel(analysisId: string, now: number): Promise<Analysis | undefined> {
    await pgCall('cancel analysis', () =>
      this.pool.query(
        `UPDATE analyses SET
           state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END,
           finished_at = CASE WHEN state = 'queued' THEN $2::timestamptz ELSE finished_at END,
           cancel_requested = state IN ('queued', 'running'),
           updated_at = $2
         WHERE analysis_id = $1 AND state IN ('queued', 'running')`,
        [analysisId, iso(now)],
      ),
    );
    return this.get(analysisId);
  }

  async windows(analysisId: string, options: { from?: number; limit?: number } = {}): Promise<AnalysisWindow[]> {
    const { rows } = await pgCall('list analysis windows', () =>
      this.pool.query<{ window_start: Date; window_end: Date; drift: boolean; evaluation: AnalysisWindow['evaluation'] }>(
        `SELECT window_start, window_end, drift, evaluation FROM analysis_windows
         WHERE analysis_id = $1 AND ($2::timestamptz IS NULL OR window_start >= $2)
         ORDER BY window_start LIMIT $3`,
        [analysisId, options.from === undefined ? null : iso(options.from), options.limit ?? 1000],
      ),
    );
    return rows.map((r) => ({ windowStart: r.window_start.getTime(), windowEnd: r.window_end.getTime(), drift: r.drift, evaluation: r.evaluation }));
  }
}
