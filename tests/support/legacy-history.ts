// Evaluations written the way schema version 2 stored them (one JSON document per window, one row per
// window and feature), to test the migration that moves them and to compare sizes with it.
import type pg from 'pg';
import type { Evaluation, FeatureResult } from '../../src/core/drift/types.js';

const iso = (ms: number) => new Date(ms).toISOString();

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

/** Inserts evaluations into a schema at version 2 (`evaluations`, `drift_results`, `performance_results`). */
export async function saveVersion2Evaluations(pool: pg.Pool, evals: readonly Evaluation[]): Promise<void> {
  const head = evals.map((e) => ({
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
  }));
  await pool.query(
    `INSERT INTO evaluations SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(evaluation_id text, model_id text, model_version text,
       window_name text, window_start timestamptz, window_end timestamptz, sample_size bigint, reference_id text, evaluated_at timestamptz,
       drift_share double precision, dataset_drift boolean, alertable boolean, document jsonb)`,
    [JSON.stringify(head)],
  );
  await pool.query(
    `INSERT INTO drift_results (evaluation_id, kind, feature, model_id, window_name, window_start, feature_type, n_current,
       missing_rate, psi, ks_statistic, ks_p_value, wasserstein_normed, jensen_shannon, hellinger, chi_square_p_value, drift, severity, result)
     SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(evaluation_id text, kind text, feature text, model_id text,
       window_name text, window_start timestamptz, feature_type text, n_current bigint, missing_rate double precision,
       psi double precision, ks_statistic double precision, ks_p_value double precision, wasserstein_normed double precision,
       jensen_shannon double precision, hellinger double precision, chi_square_p_value double precision, drift boolean, severity text, result jsonb)`,
    [JSON.stringify(evals.flatMap(driftRows))],
  );
  const perf = evals
    .filter((e) => e.performance)
    .map((e) => ({ evaluation_id: e.evaluationId, model_id: e.modelId, window_name: e.windowName, window_start: iso(e.windowStart), ...e.performance }));
  await pool.query(
    `INSERT INTO performance_results (evaluation_id, model_id, window_name, window_start, labelled, predictions, coverage, metrics,
       label_delay_p50_ms, label_delay_p95_ms)
     SELECT evaluation_id, model_id, window_name, window_start, labelled, predictions, coverage, metrics, "labelDelayP50Ms", "labelDelayP95Ms"
     FROM jsonb_to_recordset($1::jsonb) AS x(evaluation_id text, model_id text, window_name text, window_start timestamptz, labelled bigint,
       predictions bigint, coverage double precision, metrics jsonb, "labelDelayP50Ms" double precision, "labelDelayP95Ms" double precision)`,
    [JSON.stringify(perf)],
  );
}
