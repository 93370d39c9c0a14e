import type pg from 'pg';
import { pgCall } from './pg-pool.js';
import { layoutNames, type HistoryLayout } from './history-layout.js';

/** A (model, window name) pair of the history. */
export interface Series {
  seriesId: number;
  modelId: string;
  windowName: string;
  maxWindowMs: number;
}

const seriesKey = (modelId: string, windowName: string) => `${modelId.length}:${modelId}:${windowName}`;

/**
 * The ids of series and layouts, created on first use and remembered. Ids
 * are written in their own statements (committed before the rows that use
 * them), so a rolled-back write never leaves an id remembered that the
 * database does not hold.
 */
export class HistoryDictionary {
  private readonly series = new Map<string, Series>();
  private readonly layoutIds = new Map<string, number>();
  private readonly layouts = new Map<number, HistoryLayout>();

  constructor(private readonly pool: pg.Pool) {}

  /** Ids of the series, created when missing; a longer window than any seen raises the series' longest. */
  async seriesIds(wanted: readonly { modelId: string; windowName: string; windowMs: number }[]): Promise<Map<string, number>> {
    const missing = new Map<string, { modelId: string; windowName: string; windowMs: number }>();
    for (const w of wanted) {
      const k = seriesKey(w.modelId, w.windowName);
      const known = this.series.get(k);
      const prev = missing.get(k);
      if ((!known || known.maxWindowMs < w.windowMs) && (!prev || prev.windowMs < w.windowMs)) missing.set(k, w);
    }
    if (missing.size > 0) {
      const rows = [...missing.values()].map((w) => ({ model_id: w.modelId, window_name: w.windowName, max_window_ms: w.windowMs }));
      const { rows: stored } = await pgCall('save history series', () =>
        this.pool.query<{ series_id: number; model_id: string; window_name: string; max_window_ms: string }>(
          `INSERT INTO history_series (model_id, window_name, max_window_ms)
           SELECT model_id, window_name, max_window_ms FROM jsonb_to_recordset($1::jsonb) AS x(model_id text, window_name text, max_window_ms bigint)
           ORDER BY model_id, window_name
           ON CONFLICT (model_id, window_name) DO UPDATE SET max_window_ms = greatest(history_series.max_window_ms, EXCLUDED.max_window_ms)
           RETURNING series_id, model_id, window_name, max_window_ms`,
          [JSON.stringify(rows)],
        ),
      );
      for (const r of stored) this.remember({ seriesId: r.series_id, modelId: r.model_id, windowName: r.window_name, maxWindowMs: Number(r.max_window_ms) });
    }
    return new Map(wanted.map((w) => [seriesKey(w.modelId, w.windowName), this.series.get(seriesKey(w.modelId, w.windowName))!.seriesId]));
  }

  /** The series of (model, window) if this process has met it. */
  known(modelId: string, windowName: string): Series | undefined {
    return this.series.get(seriesKey(modelId, windowName));
  }

  /** The stored series of a model (one window, or all of them); none when it has no history. */
  async seriesOf(modelId: string, windowName?: string): Promise<Series[]> {
    const { rows } = await pgCall('read history series', () =>
      this.pool.query<{ series_id: number; window_name: string; max_window_ms: string }>(
        'SELECT series_id, window_name, max_window_ms FROM history_series WHERE model_id = $1 AND ($2::text IS NULL OR window_name = $2)',
        [modelId, windowName ?? null],
      ),
    );
    return rows.map((r) => this.remember({ seriesId: r.series_id, modelId, windowName: r.window_name, maxWindowMs: Number(r.max_window_ms) }));
  }

  /** Ids of the layouts (by their JSON), created when missing. */
  async layoutIdsOf(layouts: readonly HistoryLayout[], attempt = 0): Promise<Map<string, number>> {
    const missing = new Map<string, HistoryLayout>();
    for (const l of layouts) {
      const k = JSON.stringify(l);
      if (!this.layoutIds.has(k)) missing.set(k, l);
    }
    if (missing.size > 0) {
      const pending = [...missing.values()];
      const rows = pending.map((l, i) => ({ i, layout: l, names: layoutNames(l) }));
      // The digest is PostgreSQL's: the same layout written by the migrations or here gets one id.
      const { rows: stored } = await pgCall('save history layouts', () =>
        this.pool.query<{ i: number; layout_id: number | null }>(
          `WITH x AS (SELECT i, md5(layout::text) AS digest, layout, names FROM jsonb_to_recordset($1::jsonb) AS r(i int, layout jsonb, names text[])),
           ins AS (INSERT INTO history_layouts (digest, layout, names) SELECT DISTINCT ON (digest) digest, layout, names FROM x ORDER BY digest
                   ON CONFLICT (digest) DO NOTHING RETURNING layout_id, digest)
           SELECT x.i, coalesce(ins.layout_id, h.layout_id) AS layout_id FROM x
           LEFT JOIN ins USING (digest) LEFT JOIN history_layouts h USING (digest)`,
          [JSON.stringify(rows)],
        ),
      );
      for (const r of stored) {
        if (r.layout_id === null) continue;
        this.layoutIds.set(JSON.stringify(pending[r.i]), r.layout_id);
        this.layouts.set(r.layout_id, pending[r.i]);
      }
      // A layout another writer inserted meanwhile is not in this statement's snapshot: read it again.
      if (stored.some((r) => r.layout_id === null) && attempt < 2) return this.layoutIdsOf(layouts, attempt + 1);
    }
    return new Map(layouts.map((l) => [JSON.stringify(l), this.layoutIds.get(JSON.stringify(l))!]));
  }

  /** The layouts of these ids (read on `db`: a transaction's client, so it needs no second connection). */
  async layoutsOf(ids: Iterable<number>, db: Pick<pg.Pool, 'query'> = this.pool): Promise<Map<number, HistoryLayout>> {
    const missing = [...new Set(ids)].filter((id) => !this.layouts.has(id));
    if (missing.length > 0) {
      const { rows } = await pgCall('read history layouts', () =>
        db.query<{ layout_id: number; layout: HistoryLayout }>('SELECT layout_id, layout FROM history_layouts WHERE layout_id = ANY($1::int[])', [missing]),
      );
      for (const r of rows) this.layouts.set(r.layout_id, r.layout);
    }
    return this.layouts;
  }

  private remember(s: Series): Series {
    this.series.set(seriesKey(s.modelId, s.windowName), s);
    return s;
  }
}
