import type pg from 'pg';
import type { DriftAlert } from '../../core/events.js';
import type { Evaluation } from '../../core/drift/types.js';
import type { AlertQuery, EvaluationRollup, ResultRepository, RollupQuery, WindowQuery } from '../../ports/result-repository.js';
import { encodeEvaluation, REAL_COLUMN_NAMES, type DetailMode, type EvaluationRow, type StoredEvaluationRow } from './evaluation-codec.js';
import { HistoryDictionary } from './history-dictionary.js';
import { layoutOf } from './history-layout.js';
import { PartitionKeeper } from './history-partitions.js';
import { decodeRows, EVALUATION_SELECT, hasPendingRollups, readRollups, refreshRollups } from './history-rollups.js';
import { lastById, listAlerts, saveAlerts, withPartitions } from './postgres-alert-history.js';
import { pgCall, pgTransaction } from './pg-pool.js';

const iso = (ms: number) => new Date(ms).toISOString();
const HOUR = 3_600_000;

export interface PostgresResultRepositoryOptions {
  /** Which windows keep their whole evaluation beside the compact columns (DRIFTSTREAM_HISTORY_DETAIL). */
  detail?: DetailMode;
}

const ROW_COLUMNS = [
  'series_id', 'window_start', 'window_end', 'evaluated_at', 'sample_size', 'layout_id', 'drift_share', 'dataset_drift', 'alertable', 'max_severity',
  'flags', 'n_current', 'missing', ...REAL_COLUMN_NAMES, 'chi_square_dof', 'out_of_range', 'proxy', 'type_errors', 'new_categories', 'performance',
  'evaluation_id', 'detail', 'detail_z',
];
const ROW_VALUES = ROW_COLUMNS.map((c) => (c === 'detail_z' ? "decode(detail_z, 'base64')" : c));
const ROW_TYPES = `series_id int, window_start timestamptz, window_end timestamptz, evaluated_at timestamptz, sample_size bigint, layout_id int,
  drift_share real, dataset_drift boolean, alertable boolean, max_severity smallint, flags smallint[], n_current int[], missing int[],
  ${REAL_COLUMN_NAMES.map((c) => `${c} real[]`).join(', ')}, chi_square_dof smallint[], out_of_range real[], proxy real[], type_errors int,
  new_categories jsonb, performance jsonb, evaluation_id text, detail jsonb, detail_z text`;
const UPDATES = ROW_COLUMNS.filter((c) => c !== 'series_id' && c !== 'window_start').map((c) => `${c} = EXCLUDED.${c}`).join(', ');

/** Upserts the rows (a staler re-evaluation, with fewer samples, never replaces a fuller one); returns the keys written. */
async function upsertRows(client: pg.PoolClient, rows: readonly EvaluationRow[]): Promise<Set<string>> {
  const { rows: written } = await client.query<{ series_id: number; window_start: Date }>(
    `INSERT INTO evaluation_rows AS t (${ROW_COLUMNS.join(', ')})
     SELECT ${ROW_VALUES.join(', ')} FROM jsonb_to_recordset($1::jsonb) AS x(${ROW_TYPES})
     ON CONFLICT (series_id, window_start) DO UPDATE SET ${UPDATES}
     WHERE EXCLUDED.sample_size >= t.sample_size
     RETURNING series_id, window_start`,
    [JSON.stringify(rows)],
  );
  return new Set(written.map((r) => `${r.series_id}:${r.window_start.getTime()}`));
}

/** Keeps the newest evaluation of each series whole, and lists the hours whose roll-ups must be recomputed. */
async function afterWrite(client: pg.PoolClient, written: readonly { seriesId: number; e: Evaluation }[]): Promise<void> {
  const newest = new Map<number, Evaluation>();
  for (const { seriesId, e } of written) if ((newest.get(seriesId)?.windowStart ?? -Infinity) < e.windowStart) newest.set(seriesId, e);
  const latest = [...newest].sort((a, b) => a[0] - b[0]).map(([seriesId, e]) => ({ series_id: seriesId, window_start: iso(e.windowStart), document: e }));
  await client.query(
    `INSERT INTO evaluation_latest (series_id, window_start, document)
     SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(series_id int, window_start timestamptz, document jsonb)
     ON CONFLICT (series_id) DO UPDATE SET window_start = EXCLUDED.window_start, document = EXCLUDED.document
     WHERE EXCLUDED.window_start >= evaluation_latest.window_start`,
    [JSON.stringify(latest)],
  );
  const hours = [...new Set(written.map(({ seriesId, e }) => `${seriesId}:${Math.floor(e.windowStart / HOUR) * HOUR}`))].sort();
  await client.query(
    `INSERT INTO evaluation_rollups_pending (series_id, hour) SELECT s, h FROM unnest($1::int[], $2::timestamptz[]) AS x(s, h)
     ORDER BY s, h ON CONFLICT DO NOTHING`,
    [hours.map((k) => Number(k.split(':')[0])), hours.map((k) => iso(Number(k.split(':')[1])))],
  );
}

/**
 * Drift, performance and alert history in PostgreSQL.
 *
 * Evaluations are compact rows of the day-partitioned `evaluation_rows` table,
 * keyed by (series, window start), where a series is a (model, window name):
 * the statistics as real[] columns on a layout shared by consecutive windows,
 * the rest (histograms, verdict evidence) gzipped, only for the drifting
 * features of windows that drifted (or for all, with detail `all`), and the
 * whole evaluation of the newest window of each series (`evaluation_latest`).
 * Every write lists its hours for the roll-ups (`history-rollups.ts`), which
 * a read of roll-ups brings up to date first.
 *
 * Alert records are keyed by (alertId, status, severity) and written once,
 * in month partitions by the start of their incident.
 */
export class PostgresResultRepository implements ResultRepository {
  private readonly dict: HistoryDictionary;
  private readonly partitions: PartitionKeeper;
  private readonly detail: DetailMode;

  constructor(
    private readonly pool: pg.Pool,
    options: PostgresResultRepositoryOptions = {},
  ) {
    this.dict = new HistoryDictionary(pool);
    this.partitions = new PartitionKeeper(pool);
    this.detail = options.detail ?? 'drift';
  }

  async saveEvaluations(evaluations: readonly Evaluation[]): Promise<void> {
    if (evaluations.length === 0) return;
    const evals = lastById(evaluations, (e) => `${e.modelId.length}:${e.modelId}:${e.windowName}:${e.windowStart}`);
    const items = await this.encode(evals);
    const write = () =>
      pgTransaction(this.pool, 'save evaluations', async (client) => {
        const written = await upsertRows(client, items.map((it) => it.row));
        const kept = items.filter((it) => written.has(`${it.seriesId}:${it.e.windowStart}`));
        if (kept.length > 0) await afterWrite(client, kept);
      });
    await withPartitions(this.partitions, () => this.ensurePartitions(evals), write);
  }

  /** Series and layout ids, partitions, and the rows of the evaluations, in the one order every writer uses. */
  private async encode(evals: readonly Evaluation[]) {
    const series = await this.dict.seriesIds(evals.map((e) => ({ modelId: e.modelId, windowName: e.windowName, windowMs: e.windowEnd - e.windowStart })));
    const layouts = evals.map(layoutOf);
    const layoutIds = await this.dict.layoutIdsOf(layouts);
    return (
      evals
        .map((e, i) => {
          const seriesId = series.get(`${e.modelId.length}:${e.modelId}:${e.windowName}`)!;
          return { seriesId, e, row: encodeEvaluation(e, { seriesId, layoutId: layoutIds.get(JSON.stringify(layouts[i]))! }, layouts[i], this.detail) };
        })
        // One order for every writer, so two batches never wait on each other's rows in a cycle.
        .sort((a, b) => a.seriesId - b.seriesId || a.e.windowStart - b.e.windowStart)
    );
  }

  private async ensurePartitions(evals: readonly Evaluation[]): Promise<void> {
    const starts = evals.map((e) => e.windowStart);
    await this.partitions.ensure('evaluation_rows', starts);
    await this.partitions.ensure('evaluation_rollups_hourly', starts);
    await this.partitions.ensure('evaluation_rollups_daily', starts);
  }

  saveAlerts(alerts: readonly DriftAlert[]): Promise<void> {
    return saveAlerts(this.pool, this.partitions, alerts);
  }

  async latestEvaluation(modelId: string, windowName: string): Promise<Evaluation | undefined> {
    const { rows } = await pgCall('latest evaluation', () =>
      this.pool.query<{ document: Evaluation }>(
        'SELECT l.document FROM evaluation_latest l JOIN history_series s USING (series_id) WHERE s.model_id = $1 AND s.window_name = $2',
        [modelId, windowName],
      ),
    );
    return rows[0]?.document;
  }

  async listEvaluations(q: WindowQuery): Promise<Evaluation[]> {
    const series = await this.dict.seriesOf(q.modelId, q.windowName);
    if (series.length === 0) return [];
    const limit = q.limit ?? 100;
    // Per series, newest first by start (the partition key) so only the partitions in range are read; a window
    // ending after `from` started at most the series' longest window before it.
    const { rows } = await pgCall('list evaluations', () =>
      this.pool.query<{ row: StoredEvaluationRow; latest: Evaluation | null }>(
        `SELECT to_json(r) AS row, CASE WHEN l.window_start = r.window_start THEN l.document END AS latest
         FROM unnest($1::int[], $2::bigint[]) AS q(series_id, max_ms)
         CROSS JOIN LATERAL (
           ${EVALUATION_SELECT}
           WHERE e.series_id = q.series_id
             AND ($3::timestamptz IS NULL OR (e.window_end > $3 AND e.window_start > $3::timestamptz - make_interval(secs => q.max_ms / 1000.0)))
             AND ($4::timestamptz IS NULL OR e.window_start < $4)
           ORDER BY e.window_start DESC LIMIT $5) r
         LEFT JOIN evaluation_latest l ON l.series_id = r.series_id
         ORDER BY r.window_end DESC, r.window_name COLLATE "C"
         LIMIT $5`,
        [series.map((s) => s.seriesId), series.map((s) => s.maxWindowMs), q.from === undefined ? null : iso(q.from), q.to === undefined ? null : iso(q.to), limit],
      ),
    );
    const whole = await decodeRows(this.dict, rows.map((r) => r.row));
    return rows.map((r, i) => r.latest ?? whole[i]);
  }

  async listRollups(q: RollupQuery): Promise<EvaluationRollup[]> {
    // A series, once known, stays (its id never changes).
    const series = this.dict.known(q.modelId, q.windowName) ?? (await this.dict.seriesOf(q.modelId, q.windowName))[0];
    if (!series) return [];
    // Hours written since the last refresh are rolled up first, so an answer never lags the windows stored.
    const scope = { seriesId: series.seriesId, from: q.from - 86_400_000, to: q.to, limit: 500, skipLocked: false };
    if (await hasPendingRollups(this.pool, scope)) while ((await refreshRollups(this.pool, this.dict, scope)) === scope.limit);
    return readRollups(this.pool, series, q);
  }

  listAlerts(q: AlertQuery): Promise<{ alerts: DriftAlert[]; nextCursor?: string }> {
    return listAlerts(this.pool, q);
  }
}
