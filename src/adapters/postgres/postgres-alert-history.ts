import type pg from 'pg';
import type { DriftAlert } from '../../core/events.js';
import { incidentStartOf } from '../../core/drift/ids.js';
import { hasControlCharacter } from '../../core/has-control-character.js';
import { ValidationError } from '../../errors.js';
import type { AlertQuery } from '../../ports/result-repository.js';
import type { PartitionKeeper } from './history-partitions.js';
import { pgCall } from './pg-pool.js';

/** SQLSTATE of "no partition of relation found for row". */
export const NO_PARTITION = '23514';

/** Runs a write; when another process dropped a partition this one remembered (retention), makes them again and runs it once more. */
export async function withPartitions(partitions: PartitionKeeper, ensure: () => Promise<void>, write: () => Promise<void>): Promise<void> {
  await ensure();
  try {
    await write();
  } catch (err) {
    if ((err as { cause?: { code?: string } }).cause?.code !== NO_PARTITION) throw err;
    partitions.forget();
    await ensure();
    await write();
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

export function lastById<T>(items: readonly T[], key: (t: T) => string): T[] {
  // One statement may not upsert the same key twice; the last write of a batch wins.
  const m = new Map<string, T>();
  for (const it of items) m.set(key(it), it);
  return [...m.values()];
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
 * Writes each alert record (alertId, status, severity) once: a record already
 * stored stays as it is. The month partition of `alerts` is chosen by the
 * incident's start ({@link incidentStartOf}), which every record of an
 * incident shares, so a replayed record finds its first copy.
 */
export async function saveAlerts(pool: pg.Pool, partitions: PartitionKeeper, alerts: readonly DriftAlert[]): Promise<void> {
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
    incident_start: iso(incidentStartOf(a)),
  }));
  const write = async () => {
    await pgCall('save alerts', () =>
      pool.query(
        `INSERT INTO alerts (alert_id, status, severity, model_id, model_version, kind, feature, statistic, value, threshold,
           window_name, window_start, window_end, sample_size, reference_id, detected_at, details, incident_start)
         SELECT alert_id, status, severity, model_id, model_version, kind, feature, statistic, value, threshold,
           window_name, window_start, window_end, sample_size, reference_id, detected_at, details, incident_start
         FROM jsonb_to_recordset($1::jsonb) AS x(alert_id text, status text, severity text, model_id text,
           model_version text, kind text, feature text, statistic text, value double precision, threshold double precision,
           window_name text, window_start timestamptz, window_end timestamptz, sample_size bigint, reference_id text,
           detected_at timestamptz, details jsonb, incident_start timestamptz)
         ON CONFLICT (alert_id, status, severity, incident_start) DO NOTHING`,
        [JSON.stringify(rows)],
      ),
    );
  };
  await withPartitions(partitions, () => partitions.ensure('alerts', rows.map((r) => Date.parse(r.incident_start))), write);
}

/**
 * Alert records newest first, in pages (the cursor names the last record of
 * the previous page). `firedFrom` / `firedTo` bound the incidents' start, the
 * partition key, so only their partitions are read; without them every
 * partition's detection-time index is.
 */
export async function listAlerts(pool: pg.Pool, q: AlertQuery): Promise<{ alerts: DriftAlert[]; nextCursor?: string }> {
  const limit = q.limit ?? 100;
  const c = q.cursor ? decodeCursor(q.cursor) : undefined;
  const { rows } = await pgCall('list alerts', () =>
    pool.query<AlertRow>(
      `SELECT * FROM alerts
       WHERE ($1::text IS NULL OR status = $1)
         AND ($2::text IS NULL OR model_id = $2)
         AND ($3::timestamptz IS NULL OR detected_at >= $3)
         AND ($4::timestamptz IS NULL OR detected_at < $4
              OR (detected_at = $4 AND (alert_id COLLATE "C", status COLLATE "C", severity COLLATE "C") > ($5, $6, $7)))
         AND incident_start >= $9::timestamptz AND incident_start < $10::timestamptz
       ORDER BY detected_at DESC, alert_id COLLATE "C", status COLLATE "C", severity COLLATE "C"
       LIMIT $8`,
      [
        q.status ?? null, q.modelId ?? null, q.since === undefined ? null : iso(q.since), c?.[0] ?? null, c?.[1] ?? null, c?.[2] ?? null, c?.[3] ?? null, limit + 1,
        q.firedFrom === undefined ? '-infinity' : iso(q.firedFrom), q.firedTo === undefined ? 'infinity' : iso(q.firedTo),
      ],
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
