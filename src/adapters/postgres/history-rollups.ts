import type pg from 'pg';
import type { Evaluation } from '../../core/drift/types.js';
import { rollup, RESOLUTION_MS, type EvaluationRollup, type RollupResolution } from '../../core/history/rollup.js';
import { decodeEvaluation, withDetail, type StoredEvaluationRow } from './evaluation-codec.js';
import type { HistoryDictionary } from './history-dictionary.js';
import { pgCall, pgTransaction } from './pg-pool.js';

/** Evaluation rows with their series' model and window name (read them as `to_json` of the row: {@link StoredEvaluationRow}). */
export const EVALUATION_SELECT = 'SELECT s.model_id, s.window_name, e.* FROM evaluation_rows e JOIN history_series s USING (series_id)';

/** Evaluations of stored rows: from the compact columns and the detail kept, or whole as rows written before detail was compressed kept it. */
export async function decodeRows(dict: HistoryDictionary, rows: readonly StoredEvaluationRow[], db?: pg.PoolClient): Promise<Evaluation[]> {
  const layouts = await dict.layoutsOf(rows.filter((r) => !r.detail).map((r) => r.layout_id), db);
  return rows.map((r) => r.detail ?? withDetail(decodeEvaluation(r, layouts.get(r.layout_id)!), r.detail_z));
}

const TABLES: Record<RollupResolution, string> = { hour: 'evaluation_rollups_hourly', day: 'evaluation_rollups_daily' };
const SEVERITY_RANK = { NONE: 0, WARNING: 1, CRITICAL: 2 } as const;
const SEVERITIES = ['NONE', 'WARNING', 'CRITICAL'] as const;

/** Every feature's counts and severity from the overview arrays (no JSON read). */
function overviewOf(r: RollupRow): Pick<EvaluationRollup, 'features' | 'prediction'> {
  const at = (i: number) => ({ windows: r.feature_windows[i], driftWindows: r.feature_drift_windows[i], severity: SEVERITIES[r.feature_severity[i]] });
  const features = Object.fromEntries(r.feature_names.map((n, i) => [n, at(i)]));
  const prediction = Object.fromEntries(r.output_names.map((n, i) => [n, at(r.feature_names.length + i)]));
  return { features, ...(r.output_names.length > 0 ? { prediction } : {}) };
}

interface RollupRow {
  model_id: string;
  window_name: string;
  series_id: number;
  bucket_start: Date;
  windows: number;
  alertable_windows: number;
  drift_windows: number;
  sample_size: string;
  drift_share_mean: number;
  drift_share_max: number;
  max_severity: number;
  feature_names: string[];
  output_names: string[];
  feature_windows: number[];
  feature_drift_windows: number[];
  feature_severity: number[];
  /** Absent when a read asked for the overview only. */
  features?: EvaluationRollup['features'];
  prediction?: EvaluationRollup['prediction'] | null;
  performance: EvaluationRollup['performance'] | null;
}

function fromRollupRow(r: RollupRow, resolution: RollupResolution): EvaluationRollup {
  const bucketStart = r.bucket_start.getTime();
  return {
    modelId: r.model_id,
    windowName: r.window_name,
    resolution,
    bucketStart,
    bucketEnd: bucketStart + RESOLUTION_MS[resolution],
    windows: r.windows,
    alertableWindows: r.alertable_windows,
    driftWindows: r.drift_windows,
    sampleSize: Number(r.sample_size),
    driftShare: { mean: r.drift_share_mean, max: r.drift_share_max },
    severity: SEVERITIES[r.max_severity],
    ...(r.features ? { features: r.features, ...(r.prediction ? { prediction: r.prediction } : {}) } : overviewOf(r)),
    ...(r.performance ? { performance: r.performance } : {}),
  };
}

/** Fractions at the precision of `real` (7 significant digits): a roll-up's JSON is half as long. */
const toRealPrecision = (_key: string, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) && Number.isFinite(v) ? Number(v.toPrecision(7)) : v);

function toRollupRow(seriesId: number, r: EvaluationRollup) {
  const all = [...Object.values(r.features), ...Object.values(r.prediction ?? {})];
  return {
    feature_names: Object.keys(r.features),
    output_names: Object.keys(r.prediction ?? {}),
    feature_windows: all.map((f) => f.windows),
    feature_drift_windows: all.map((f) => f.driftWindows),
    feature_severity: all.map((f) => SEVERITY_RANK[f.severity]),
    series_id: seriesId,
    bucket_start: new Date(r.bucketStart).toISOString(),
    windows: r.windows,
    alertable_windows: r.alertableWindows,
    drift_windows: r.driftWindows,
    sample_size: r.sampleSize,
    drift_share_mean: r.driftShare.mean,
    drift_share_max: r.driftShare.max,
    max_severity: SEVERITY_RANK[r.severity],
    features: r.features,
    prediction: r.prediction ?? null,
    performance: r.performance ?? null,
  };
}

async function writeRollups(client: pg.PoolClient, resolution: RollupResolution, buckets: { seriesId: number; start: number }[], computed: { seriesId: number; r: EvaluationRollup }[]) {
  const table = TABLES[resolution];
  // Buckets left without windows (their rows were dropped) lose their roll-up.
  await client.query(`DELETE FROM ${table} t USING unnest($1::int[], $2::timestamptz[]) AS b(series_id, bucket_start)
     WHERE t.series_id = b.series_id AND t.bucket_start = b.bucket_start`, [buckets.map((b) => b.seriesId), buckets.map((b) => new Date(b.start).toISOString())]);
  if (computed.length === 0) return;
  await client.query(
    `INSERT INTO ${table} (series_id, bucket_start, windows, alertable_windows, drift_windows, sample_size, drift_share_mean, drift_share_max,
       max_severity, feature_names, output_names, feature_windows, feature_drift_windows, feature_severity, features, prediction, performance)
     SELECT series_id, bucket_start, windows, alertable_windows, drift_windows, sample_size, drift_share_mean, drift_share_max,
       max_severity, feature_names, output_names, feature_windows, feature_drift_windows, feature_severity, features, prediction, performance
     FROM jsonb_to_recordset($1::jsonb) AS x(series_id int, bucket_start timestamptz, windows int, alertable_windows int, drift_windows int,
       sample_size bigint, drift_share_mean real, drift_share_max real, max_severity smallint, feature_names text[], output_names text[],
       feature_windows int[], feature_drift_windows int[], feature_severity smallint[], features jsonb, prediction jsonb, performance jsonb)`,
    [JSON.stringify(computed.map((c) => toRollupRow(c.seriesId, c.r)), toRealPrecision)],
  );
}

function groupBySeries<T>(items: readonly T[], seriesOf: (t: T) => number): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const it of items) {
    const k = seriesOf(it);
    const list = out.get(k);
    if (list) list.push(it);
    else out.set(k, [it]);
  }
  return out;
}

async function rollHours(client: pg.PoolClient, dict: HistoryDictionary, hours: { series_id: number; hour: Date }[]): Promise<void> {
  const times = hours.map((h) => h.hour.getTime());
  const { rows: read } = await client.query<{ row: StoredEvaluationRow }>(
    `SELECT to_json(x) AS row FROM (${EVALUATION_SELECT} JOIN unnest($1::int[], $2::timestamptz[]) AS p(series_id, hour)
       ON e.series_id = p.series_id AND e.window_start >= p.hour AND e.window_start < p.hour + interval '1 hour'
     WHERE e.window_start >= $3 AND e.window_start < $4) x`,
    [hours.map((h) => h.series_id), hours.map((h) => h.hour.toISOString()), new Date(Math.min(...times)).toISOString(), new Date(Math.max(...times) + RESOLUTION_MS.hour).toISOString()],
  );
  const rows = read.map((r) => r.row);
  const evals = await decodeRows(dict, rows, client);
  const seriesOfRow = new Map(evals.map((e, i) => [e, rows[i].series_id]));
  const computed = [...groupBySeries(evals, (e) => seriesOfRow.get(e)!)].flatMap(([seriesId, list]) => rollup(list, 'hour').map((r) => ({ seriesId, r })));
  await writeRollups(client, 'hour', hours.map((h) => ({ seriesId: h.series_id, start: h.hour.getTime() })), computed);
}

async function rollDays(client: pg.PoolClient, hours: { series_id: number; hour: Date }[]): Promise<void> {
  const days = new Map<string, { seriesId: number; start: number }>();
  for (const h of hours) {
    const start = Math.floor(h.hour.getTime() / RESOLUTION_MS.day) * RESOLUTION_MS.day;
    days.set(`${h.series_id}:${start}`, { seriesId: h.series_id, start });
  }
  const list = [...days.values()];
  const { rows } = await client.query<RollupRow>(
    `SELECT '' AS model_id, '' AS window_name, t.* FROM evaluation_rollups_hourly t JOIN unnest($1::int[], $2::timestamptz[]) AS d(series_id, day)
       ON t.series_id = d.series_id AND t.bucket_start >= d.day AND t.bucket_start < d.day + interval '1 day'`,
    [list.map((d) => d.seriesId), list.map((d) => new Date(d.start).toISOString())],
  );
  const computed = [...groupBySeries(rows, (r) => r.series_id)].flatMap(([seriesId, hourly]) =>
    rollup(hourly.map((r) => fromRollupRow(r, 'hour')), 'day').map((r) => ({ seriesId, r })),
  );
  await writeRollups(client, 'day', list, computed);
}

/** Which pending hours a refresh takes. */
export interface RefreshScope {
  seriesId?: number;
  from?: number;
  to?: number;
  limit: number;
  /** Leave hours another refresher holds to it (the background job) instead of waiting for them (a read). */
  skipLocked: boolean;
}

const IN_SCOPE = '($1::int IS NULL OR series_id = $1) AND ($2::timestamptz IS NULL OR hour >= $2) AND ($3::timestamptz IS NULL OR hour < $3)';
const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
const scopeParams = (scope: RefreshScope) => [scope.seriesId ?? null, iso(scope.from), iso(scope.to)];

/** True when hours of the scope wait for their roll-ups (one cheap read, before a refresh's transaction). */
export async function hasPendingRollups(pool: pg.Pool, scope: RefreshScope): Promise<boolean> {
  const { rows } = await pgCall('read pending roll-ups', () =>
    pool.query(
      `SELECT 1 FROM evaluation_rollups_pending WHERE ${IN_SCOPE} LIMIT 1`,
      scopeParams(scope),
    ),
  );
  return rows.length > 0;
}

/**
 * Recomputes the hourly roll-ups of pending hours from their windows, and
 * the daily roll-ups of their days from the hourly ones, in one transaction
 * with taking the hours off the pending list. Returns the hours done.
 */
export function refreshRollups(pool: pg.Pool, dict: HistoryDictionary, scope: RefreshScope): Promise<number> {
  return pgTransaction(pool, 'refresh roll-ups', async (client) => {
    const { rows: hours } = await client.query<{ series_id: number; hour: Date }>(
      `DELETE FROM evaluation_rollups_pending p USING (
         SELECT series_id, hour FROM evaluation_rollups_pending WHERE ${IN_SCOPE}
         ORDER BY series_id, hour LIMIT $4 FOR UPDATE ${scope.skipLocked ? 'SKIP LOCKED' : ''}) AS due
       WHERE p.series_id = due.series_id AND p.hour = due.hour
       RETURNING p.series_id, p.hour`,
      [...scopeParams(scope), scope.limit],
    );
    if (hours.length === 0) return 0;
    await rollHours(client, dict, hours);
    await rollDays(client, hours);
    return hours.length;
  });
}

const OVERVIEW_COLUMNS = `series_id, bucket_start, windows, alertable_windows, drift_windows, sample_size, drift_share_mean, drift_share_max,
  max_severity, feature_names, output_names, feature_windows, feature_drift_windows, feature_severity, performance`;

/**
 * Stored roll-ups of one series overlapping [from, to), oldest first. Without
 * `features` only the overview columns are read (the per-feature JSON is never
 * fetched); with them, only those features' JSON is sent.
 */
export async function readRollups(
  pool: pg.Pool,
  series: { seriesId: number; modelId: string; windowName: string },
  q: { resolution: RollupResolution; from: number; to: number; features?: readonly string[] },
): Promise<EvaluationRollup[]> {
  const from = Math.floor(q.from / RESOLUTION_MS[q.resolution]) * RESOLUTION_MS[q.resolution];
  const detail = q.features
    ? `, (SELECT coalesce(jsonb_object_agg(n, v), '{}') FROM unnest($6::text[]) AS n, LATERAL (SELECT t.features -> n AS v) x WHERE v IS NOT NULL) AS features,
         (SELECT jsonb_object_agg(n, v) FROM unnest($6::text[]) AS n, LATERAL (SELECT t.prediction -> n AS v) x WHERE v IS NOT NULL) AS prediction`
    : '';
  const { rows } = await pgCall('list roll-ups', () =>
    pool.query<RollupRow>(
      `SELECT $1::text AS model_id, $2::text AS window_name, ${OVERVIEW_COLUMNS}${detail} FROM ${TABLES[q.resolution]} t
       WHERE series_id = $3 AND bucket_start >= $4 AND bucket_start < $5 ${q.features ? '' : 'AND $6::text[] IS NULL'} ORDER BY bucket_start`,
      [series.modelId, series.windowName, series.seriesId, new Date(from).toISOString(), new Date(q.to).toISOString(), q.features ?? null],
    ),
  );
  return rows.map((r) => {
    const rollup = fromRollupRow(r, q.resolution);
    // Outputs not asked for leave an empty prediction out, as the memory adapter does.
    return q.features && r.prediction === null && r.output_names.length > 0 ? { ...rollup, prediction: {} } : rollup;
  });
}
