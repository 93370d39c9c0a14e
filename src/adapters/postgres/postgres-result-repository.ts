import type pg from 'pg';
import type { DriftAlert } from '../../core/events.js';
import type { Evaluation, FeatureResult } from '../../core/drift/types.js';
import { hasControlCharacter } from '../../core/has-control-character.js';
import { ValidationError } from '../../errors.js';
import type { AlertQuery, ResultRepository, WindowQuery } from '../../ports/result-repository.js';
import { pgCall, pgTransaction } from './pg-pool.js';

const iso = (ms: number) => new Date(ms).toISOString();

function lastById<T>(items: readonly T[], key: (t: T) => string): T[] {
  // One statement may not upsert the same key twice; the last write of a batch wins.
  const m = new Map<string, T>();
  for (const it of items) m.set(key(it), it);
  return [...m.values()];
}

function driftRows(e: Evaluation) {
  const rows: Record<string, unknown>[] = [];
  const add = (kind: 'feature' | 'prediction', feature: string, r: FeatureResult) =>
    rows.push({
      evaluation_id: e.evaluationId,
      kind,
      feature,
      model_id: e.modelId,
      window_name: e.windowName,
      window_start: iso(e.windowStart),
      feature_type: r.type,
      n_current: r.nCurrent,
      missing_rate: Number.isFinite(r.missingRate) ? r.missingRate : null,
      psi: r.psi ?? null,
      ks_statistic: r.ks?.statistic ?? null,
      ks_p_value: r.ks?.pValue ?? null,
      wasserstein_normed: r.wassersteinNormed ?? null,
      jensen_shannon: r.jensenShannon ?? null,
      hellinger: r.hellinger ?? null,
      chi_square_p_value: r.chiSquare?.pValue ?? null,
      drift: r.drift,
      severity: r.severity,
      result: r,
    });
  for (const [name, r] of Object.entries(e.features ?? {})) add('feature', name, r);
  for (const [name, r] of Object.entries(e.prediction ?? {})) add('prediction', name, r);
  return rows;
}

function evaluationRow(e: Evaluation) {
  return {
    evaluation_id: e.evaluationId,
    model_id: e.modelId,
    model_version: e.modelVersion,
    window_name: e.windowName,
    window_start: iso(e.windowStart),
    window_end: iso(e.windowEnd),
    sample_size: e.sampleSize,
    reference_id: e.referenceId,
    evaluated_at: iso(e.evaluatedAt),
    drift_share: e.datasetDrift?.share ?? 0,
    dataset_drift: e.datasetDrift?.drift ?? false,
    alertable: e.alertable,
    document: e,
  };
}

/** An evaluation that carries its window's performance. */
type MeasuredEvaluation = Evaluation & { performance: NonNullable<Evaluation['performance']> };

function performanceRow(e: MeasuredEvaluation) {
  return {
    evaluation_id: e.evaluationId,
    model_id: e.modelId,
    window_name: e.windowName,
    window_start: iso(e.windowStart),
    labelled: e.performance.labelled,
    predictions: e.performance.predictions,
    coverage: e.performance.coverage,
    metrics: e.performance.metrics,
    label_delay_p50_ms: e.performance.labelDelayP50Ms ?? null,
    label_delay_p95_ms: e.performance.labelDelayP95Ms ?? null,
  };
}

/** Upserts the evaluations' head rows; returns the ids actually written. */
async function upsertEvaluations(client: pg.PoolClient, evals: readonly Evaluation[]): Promise<Set<string>> {
  const head = evals.map(evaluationRow);
  // A stale re-evaluation (fewer samples, e.g. from before a late partial) never replaces a fuller one.
  const { rows } = await client.query<{ evaluation_id: string }>(
    `INSERT INTO evaluations AS t (evaluation_id, model_id, model_version, window_name, window_start, window_end,
       sample_size, reference_id, evaluated_at, drift_share, dataset_drift, alertable, document)
     SELECT evaluation_id, model_id, model_version, window_name, window_start, window_end,
       sample_size, reference_id, evaluated_at, drift_share, dataset_drift, alertable, document
     FROM jsonb_to_recordset($1::jsonb) AS x(evaluation_id text, model_id text, model_version text, window_name text,
       window_start timestamptz, window_end timestamptz, sample_size bigint, reference_id text, evaluated_at timestamptz,
       drift_share double precision, dataset_drift boolean, alertable boolean, document jsonb)
     ON CONFLICT (evaluation_id) DO UPDATE SET
       model_version = EXCLUDED.model_version, window_name = EXCLUDED.window_name, window_start = EXCLUDED.window_start,
       window_end = EXCLUDED.window_end, sample_size = EXCLUDED.sample_size, reference_id = EXCLUDED.reference_id,
       evaluated_at = EXCLUDED.evaluated_at, drift_share = EXCLUDED.drift_share, dataset_drift = EXCLUDED.dataset_drift,
       alertable = EXCLUDED.alertable, document = EXCLUDED.document
     WHERE EXCLUDED.sample_size >= t.sample_size
     RETURNING evaluation_id`,
    [JSON.stringify(head)],
  );
  return new Set(rows.map((r) => r.evaluation_id));
}

/** Replaces the per-feature drift rows and the performance row of evaluations just written. */
async function replaceResults(client: pg.PoolClient, kept: readonly Evaluation[]): Promise<void> {
  const ids = kept.map((e) => e.evaluationId);
  await client.query('DELETE FROM drift_results WHERE evaluation_id = ANY($1::text[])', [ids]);
  await client.query('DELETE FROM performance_results WHERE evaluation_id = ANY($1::text[])', [ids]);
  const drift = kept.flatMap(driftRows);
  if (drift.length > 0) {
    await client.query(
      `INSERT INTO drift_results (evaluation_id, kind, feature, model_id, window_name, window_start, feature_type, n_current,
         missing_rate, psi, ks_statistic, ks_p_value, wasserstein_normed, jensen_shannon, hellinger, chi_square_p_value,
         drift, severity, result)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(evaluation_id text, kind text, feature text, model_id text,
         window_name text, window_start timestamptz, feature_type text, n_current bigint, missing_rate double precision,
         psi double precision, ks_statistic double precision, ks_p_value double precision, wasserstein_normed double precision,
         jensen_shannon double precision, hellinger double precision, chi_square_p_value double precision,
         drift boolean, severity text, result jsonb)`,
      [JSON.stringify(drift)],
    );
  }
  const perf = kept.filter((e): e is MeasuredEvaluation => Boolean(e.performance)).map(performanceRow);
  if (perf.length > 0) {
    await client.query(
      `INSERT INTO performance_results (evaluation_id, model_id, window_name, window_start, labelled, predictions, coverage,
         metrics, label_delay_p50_ms, label_delay_p95_ms)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(evaluation_id text, model_id text, window_name text,
         window_start timestamptz, labelled bigint, predictions bigint, coverage double precision, metrics jsonb,
         label_delay_p50_ms double precision, label_delay_p95_ms double precision)`,
      [JSON.stringify(perf)],
    );
  }
}

interface AlertRow {
  alert_id: string;
  status: DriftAlert['status'];
  severity: DriftAlert['severity'];
  model_id: string;
  model_version: string | null;
  kind: DriftAlert['kind'];
  feature: string | null;
  statistic: string;
  value: number;
  threshold: number;
  window_name: string;
  window_start: Date;
  window_end: Date;
  sample_size: string;
  reference_id: string;
  detected_at: Date;
  details: Record<string, string>;
}

function toAlert(r: AlertRow): DriftAlert {
  return {
    alertId: r.alert_id,
    modelId: r.model_id,
    modelVersion: r.model_version,
    kind: r.kind,
    feature: r.feature,
    statistic: r.statistic,
    value: r.value,
    threshold: r.threshold,
    severity: r.severity,
    status: r.status,
    windowName: r.window_name,
    windowStart: r.window_start.getTime(),
    windowEnd: r.window_end.getTime(),
    sampleSize: Number(r.sample_size),
    referenceId: r.reference_id,
    detectedAt: r.detected_at.getTime(),
    details: r.details ?? {},
  };
}

const MAX_CURSOR_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

type Cursor = [detectedAt: string, alertId: string, status: string, severity: string];

function decodeCursor(cursor: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    // Only what this service issues: four strings, no control character (PostgreSQL refuses NUL), a time it can store.
    if (Array.isArray(c) && c.length === 4 && c.every((x) => typeof x === 'string' && !hasControlCharacter(x))) {
      const t = Date.parse(c[0]);
      if (t >= 0 && t <= MAX_CURSOR_TIME) return c as Cursor;
    }
  } catch {
    // fall through
  }
  throw new ValidationError('cursor is not one this service issued', { code: 'INVALID_CURSOR' });
}

/**
 * Drift, performance and alert history in PostgreSQL. Writes are batched,
 * transactional, idempotent upserts on deterministic keys: an evaluation is
 * keyed by its evaluationId (a re-evaluation with at least as many samples
 * replaces it), an alert record by (alertId, status, severity) and written once.
 */
export class PostgresResultRepository implements ResultRepository {
  constructor(private readonly pool: pg.Pool) {}

  async saveEvaluations(evaluations: readonly Evaluation[]): Promise<void> {
    if (evaluations.length === 0) return;
    const evals = lastById(evaluations, (e) => e.evaluationId);
    await pgTransaction(this.pool, 'save evaluations', async (client) => {
      const written = await upsertEvaluations(client, evals);
      if (written.size === 0) return;
      await replaceResults(client, evals.filter((e) => written.has(e.evaluationId)));
    });
  }

  async saveAlerts(alerts: readonly DriftAlert[]): Promise<void> {
    if (alerts.length === 0) return;
    const rows = lastById(alerts, (a) => `${a.alertId}|${a.status}|${a.severity}`).map((a) => ({
      alert_id: a.alertId,
      status: a.status,
      severity: a.severity,
      model_id: a.modelId,
      model_version: a.modelVersion,
      kind: a.kind,
      feature: a.feature,
      statistic: a.statistic,
      value: a.value,
      threshold: a.threshold,
      window_name: a.windowName,
      window_start: iso(a.windowStart),
      window_end: iso(a.windowEnd),
      sample_size: a.sampleSize,
      reference_id: a.referenceId,
      detected_at: iso(a.detectedAt),
      details: a.details ?? {},
    }));
    await pgCall('save alerts', () =>
      this.pool.query(
        `INSERT INTO alerts (alert_id, status, severity, model_id, model_version, kind, feature, statistic, value, threshold,
           window_name, window_start, window_end, sample_size, reference_id, detected_at, details)
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(alert_id text, status text, severity text, model_id text,
           model_version text, kind text, feature text, statistic text, value double precision, threshold double precision,
           window_name text, window_start timestamptz, window_end timestamptz, sample_size bigint, reference_id text,
           detected_at timestamptz, details jsonb)
         ON CONFLICT (alert_id, status, severity) DO NOTHING`,
        [JSON.stringify(rows)],
      ),
    );
  }

  async latestEvaluation(modelId: string, windowName: string): Promise<Evaluation | undefined> {
    const { rows } = await pgCall('latest evaluation', () =>
      this.pool.query<{ document: Evaluation }>(
        'SELECT document FROM evaluations WHERE model_id = $1 AND window_name = $2 ORDER BY window_end DESC LIMIT 1',
        [modelId, windowName],
      ),
    );
    return rows[0]?.document;
  }

  async listEvaluations(q: WindowQuery): Promise<Evaluation[]> {
    const { rows } = await pgCall('list evaluations', () =>
      this.pool.query<{ document: Evaluation }>(
        `SELECT document FROM evaluations
         WHERE model_id = $1
           AND ($2::text IS NULL OR window_name = $2)
           AND ($3::timestamptz IS NULL OR window_end > $3)
           AND ($4::timestamptz IS NULL OR window_start < $4)
         ORDER BY window_end DESC, window_name COLLATE "C"
         LIMIT $5`,
        [q.modelId, q.windowName ?? null, q.from === undefined ? null : iso(q.from), q.to === undefined ? null : iso(q.to), q.limit ?? 100],
      ),
    );
    return rows.map((r) => r.document);
  }

  async listAlerts(q: AlertQuery): Promise<{ alerts: DriftAlert[]; nextCursor?: string }> {
    const limit = q.limit ?? 100;
    const c = q.cursor ? decodeCursor(q.cursor) : undefined;
    const { rows } = await pgCall('list alerts', () =>
      this.pool.query<AlertRow>(
        `SELECT * FROM alerts
         WHERE ($1::text IS NULL OR status = $1)
           AND ($2::text IS NULL OR model_id = $2)
           AND ($3::timestamptz IS NULL OR detected_at >= $3)
           AND ($4::timestamptz IS NULL OR detected_at < $4
                OR (detected_at = $4 AND (alert_id COLLATE "C", status COLLATE "C", severity COLLATE "C") > ($5, $6, $7)))
         ORDER BY detected_at DESC, alert_id COLLATE "C", status COLLATE "C", severity COLLATE "C"
         LIMIT $8`,
        [q.status ?? null, q.modelId ?? null, q.since === undefined ? null : iso(q.since), c?.[0] ?? null, c?.[1] ?? null, c?.[2] ?? null, c?.[3] ?? null, limit + 1],
      ),
    );
    const page = rows.slice(0, limit).map(toAlert);
    let nextCursor: string | undefined;
    if (rows.length > limit) {
      const last = page[page.length - 1];
      nextCursor = Buffer.from(JSON.stringify([iso(last.detectedAt), last.alertId, last.status, last.severity])).toString('base64url');
    }
    return { alerts: page, nextCursor };
  }

}
