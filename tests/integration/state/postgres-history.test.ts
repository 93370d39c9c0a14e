// The partitioned history in PostgreSQL: partitions made on demand and ahead, dropped by retention while the
// roll-ups stay, and migration 003 moving the rows of version 2. Each test in its own schema.
import { afterAll, describe, expect, it } from 'vitest';
import { createPgPool } from '../../../src/adapters/postgres/pg-pool.js';
import { runMigrations } from '../../../src/adapters/postgres/migrate.js';
import { HistoryMaintenance } from '../../../src/adapters/postgres/history-maintenance.js';
import { PostgresResultRepository } from '../../../src/adapters/postgres/postgres-result-repository.js';
import { evaluationIdOf } from '../../../src/core/drift/ids.js';
import type { Evaluation } from '../../../src/core/drift/types.js';
import { DATABASE_URL, dropSchema, testDatabase, uniqueSchema, type TestDatabase } from '../../support/postgres.js';
import { makeAlert, makeEvaluation, T0 } from '../../support/fixtures.js';
import { saveVersion2Evaluations } from '../../support/legacy-history.js';
import { evaluateWindow } from '../../../src/core/drift/evaluate-window.js';
import type { FeatureResult } from '../../../src/core/drift/types.js';
import { Pane } from '../../../src/core/windows/pane.js';
import { rng, row, testLayout, testModel } from '../../unit/core/windows/fixtures.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const dbs: TestDatabase[] = [];
const schemas: string[] = [];

afterAll(async () => {
  await Promise.all(dbs.map((d) => d.drop()));
  await Promise.all(schemas.map(dropSchema));
});

async function db(): Promise<TestDatabase> {
  const d = await testDatabase('hist');
  dbs.push(d);
  return d;
}

/** A window of `modelId` starting `minutes` after T0 that did not drift, with its real, derived id. */
function quiet(minutes: number, modelId = 'credit-risk'): Evaluation {
  const windowStart = T0 + minutes * MINUTE;
  const e = makeEvaluation({ modelId, windowStart, evaluationId: evaluationIdOf(modelId, '1m', windowStart), datasetDrift: { share: 0, drift: false } });
  e.features.age = { ...e.features.age, missingRate: 4 / 1_238, psi: 0.05, drift: false, severity: 'NONE' };
  return e;
}

/** Evaluations of the detector itself (numeric and categorical features, score, prediction, data quality, proxies) that did not drift. */
function detectorEvaluations(count: number, shift = 0): Evaluation[] {
  const model = testModel();
  const layout = testLayout(model);
  return Array.from({ length: count }, (_, i) => {
    const r = rng(100 + i);
    const pane = new Pane(layout, T0 + i * 10_000, T0 + (i + 1) * 10_000);
    for (let n = 0; n < 400; n++) {
      const e = row(r, { shift });
      if (n % 50 === 0) e.features.y = null;
      if (n === 7) e.features.region = 'mars';
      pane.accept(e.features, e.score, e.prediction, 'v2');
    }
    return evaluateWindow({ model, pane, windowName: '10s', windowStart: T0 + i * 10_000, windowEnd: T0 + (i + 1) * 10_000, evaluatedAt: T0 + (i + 2) * 10_000 });
  });
}

/** `kept` holds what `whole` says, to real precision, without histograms and verdict evidence. */
function expectCompact(kept: Evaluation, whole: Evaluation): void {
  // Real precision: within 1e-6 of the value, relatively for values above 1.
  const close = (a: number | undefined | null, b: number | undefined | null) =>
    b === undefined || b === null || Number.isNaN(b) ? expect(a ?? NaN).toBeNaN() : expect(Math.abs(a! - b)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(b)));
  const sameResult = (k: FeatureResult, w: FeatureResult) => {
    expect([k.type, k.severity, k.drift, k.nCurrent, k.missing, k.nReference]).toEqual([w.type, w.severity, w.drift, w.nCurrent, w.missing, w.nReference]);
    close(k.missingRate, w.missingRate);
    close(k.psi, w.psi);
    for (const f of ['wassersteinNormed', 'jensenShannon', 'hellinger'] as const) if (w[f] !== undefined) close(k[f], w[f]);
    if (w.ks) {
      close(k.ks?.statistic, w.ks.statistic);
      close(k.ks?.pValue, w.ks.pValue);
    }
    if (w.chiSquare) {
      close(k.chiSquare?.statistic, w.chiSquare.statistic);
      close(k.chiSquare?.pValue, w.chiSquare.pValue);
      expect(k.chiSquare?.dof).toBe(w.chiSquare.dof);
    }
    if (w.type === 'categorical') expect(k.newCategories).toEqual(w.newCategories);
  };
  expect([kept.evaluationId, kept.modelVersion, kept.referenceId, kept.sampleSize, kept.windowEnd, kept.alertable]).toEqual([
    whole.evaluationId, whole.modelVersion, whole.referenceId, whole.sampleSize, whole.windowEnd, whole.alertable,
  ]);
  expect(Object.keys(kept.features).sort()).toEqual(Object.keys(whole.features).sort());
  for (const [name, f] of Object.entries(whole.features)) sameResult(kept.features[name], f);
  for (const [name, f] of Object.entries(whole.prediction ?? {})) sameResult(kept.prediction![name], f);
  for (const [k, v] of Object.entries(whole.proxy ?? {})) close(kept.proxy?.[k], v);
  const [dk, dw] = [kept.dataQuality!, whole.dataQuality!];
  expect([dk.typeErrors, dk.newCategories]).toEqual([dw.typeErrors, dw.newCategories]);
  for (const [k, v] of Object.entries(dw.outOfRange)) close(dk.outOfRange[k], v);
  for (const [k, v] of Object.entries(dw.missingRate)) close(dk.missingRate[k], v);
}

async function partitionsOf(d: TestDatabase, table: string): Promise<string[]> {
  const { rows } = await d.pool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass($1) ORDER BY 1`,
    [table],
  );
  return rows.map((r) => r.name);
}

describe('partitioned history', () => {
  it('creates a day partition for each day written, from concurrent writers too, and puts each window in its day', async () => {
    const d = await db();
    const other = createPgPool(DATABASE_URL, { schema: d.schema });
    try {
      const a = new PostgresResultRepository(d.pool);
      const b = new PostgresResultRepository(other);
      await Promise.all([a.saveEvaluations([quiet(0), quiet(DAY / MINUTE)]), b.saveEvaluations([quiet(1), quiet(2 * DAY / MINUTE + 5)])]);
    } finally {
      await other.end();
    }
    expect(await partitionsOf(d, 'evaluation_rows')).toEqual(['evaluation_rows_p20260101', 'evaluation_rows_p20260102', 'evaluation_rows_p20260103']);
    const { rows } = await d.pool.query<{ part: string; n: string }>('SELECT tableoid::regclass::text AS part, count(*) AS n FROM evaluation_rows GROUP BY 1 ORDER BY 1');
    expect(rows).toEqual([
      { part: 'evaluation_rows_p20260101', n: '2' },
      { part: 'evaluation_rows_p20260102', n: '1' },
      { part: 'evaluation_rows_p20260103', n: '1' },
    ]);
    // Roll-up partitions follow: a month of hourly, a year of daily.
    expect(await partitionsOf(d, 'evaluation_rollups_hourly')).toEqual(['evaluation_rollups_hourly_p202601']);
    expect(await partitionsOf(d, 'evaluation_rollups_daily')).toEqual(['evaluation_rollups_daily_p2026']);
  });

  it('maintenance creates partitions ahead, rolls up, and drops what retention expired while roll-ups and the newest window stay', async () => {
    const d = await db();
    const repo = new PostgresResultRepository(d.pool);
    const evals = [0, 1, 2, DAY / MINUTE, 5 * DAY / MINUTE].map((m) => quiet(m));
    await repo.saveEvaluations(evals);
    const now = T0 + 6 * DAY + HOUR;
    const maintenance = new HistoryMaintenance(d.pool, {
      retention: { evaluation_rows: 3 * DAY, evaluation_rollups_hourly: 0, evaluation_rollups_daily: 0 },
      partitionsAhead: 2,
      intervalMs: 60_000,
      now: () => now,
    });
    const report = await maintenance.runOnce();
    expect(report?.rolledUp).toBe(3);
    // Days ending at or before now - 3 days (Jan 4, 13:00) go: Jan 1 and 2; Jan 6 and the two days ahead stay.
    expect(report?.dropped.sort()).toEqual(['evaluation_rows_p20260101', 'evaluation_rows_p20260102']);
    expect(await partitionsOf(d, 'evaluation_rows')).toEqual(['evaluation_rows_p20260106', 'evaluation_rows_p20260107', 'evaluation_rows_p20260108', 'evaluation_rows_p20260109']);
    expect(await partitionsOf(d, 'evaluation_rollups_hourly')).toEqual(['evaluation_rollups_hourly_p202601', 'evaluation_rollups_hourly_p202602', 'evaluation_rollups_hourly_p202603']);

    expect((await repo.listEvaluations({ modelId: 'credit-risk' })).map((e) => e.windowStart)).toEqual([evals[4].windowStart]);
    const hours = await repo.listRollups({ modelId: 'credit-risk', windowName: '1m', resolution: 'hour', from: T0, to: T0 + 7 * DAY });
    expect(hours.map((h) => [(h.bucketStart - T0) / HOUR, h.windows])).toEqual([[0, 3], [24, 1], [120, 1]]);
    const days = await repo.listRollups({ modelId: 'credit-risk', windowName: '1m', resolution: 'day', from: T0, to: T0 + 7 * DAY });
    expect(days.map((x) => x.windows)).toEqual([3, 1, 1]);
    expect(await repo.latestEvaluation('credit-risk', '1m')).toEqual(evals[4]);
    // A second run has nothing left to do.
    expect(await maintenance.runOnce()).toEqual({ rolledUp: 0, dropped: [] });
    await maintenance.close();
  });

  it('a writer whose remembered partition was dropped by retention elsewhere makes it again', async () => {
    const d = await db();
    const repo = new PostgresResultRepository(d.pool);
    await repo.saveEvaluations([quiet(0)]);
    const none = { evaluation_rollups_hourly: 0, evaluation_rollups_daily: 0 };
    const maintenance = new HistoryMaintenance(d.pool, { retention: { evaluation_rows: DAY, ...none }, partitionsAhead: 0, intervalMs: 60_000, now: () => T0 + 3 * DAY });
    expect((await maintenance.runOnce())?.dropped).toEqual(['evaluation_rows_p20260101']);
    await repo.saveEvaluations([quiet(1)]);
    expect((await repo.listEvaluations({ modelId: 'credit-risk' })).map((e) => e.windowStart)).toEqual([T0 + MINUTE]);
  });

  it('one maintenance run at a time: while another process holds the run, a run skips', async () => {
    const d = await db();
    const options = { retention: { evaluation_rows: 0, evaluation_rollups_hourly: 0, evaluation_rollups_daily: 0 }, partitionsAhead: 1, intervalMs: 60_000 };
    const maintenance = new HistoryMaintenance(d.pool, options);
    const other = await d.pool.connect();
    try {
      await other.query("SELECT pg_advisory_lock(hashtext('driftstream-history-maintenance' || current_schema()))");
      expect(await maintenance.runOnce()).toBeUndefined();
      await other.query("SELECT pg_advisory_unlock(hashtext('driftstream-history-maintenance' || current_schema()))");
      expect(await maintenance.runOnce()).toEqual({ rolledUp: 0, dropped: [] });
    } finally {
      other.release();
    }
  });
});

describe('compact rows of the detector\'s evaluations', () => {
  it('keep every statistic, data quality and proxy to real precision, written directly or moved by migration 003', async () => {
    const evals = detectorEvaluations(4);
    expect(evals.every((e) => !e.datasetDrift.drift && Object.values(e.features).every((f) => f.severity === 'NONE'))).toBe(true);
    expect(evals[0].dataQuality?.newCategories).toEqual({ region: ['mars'] });
    const d = await db();
    const repo = new PostgresResultRepository(d.pool);
    await repo.saveEvaluations(evals);
    const direct = await repo.listEvaluations({ modelId: 'm1', windowName: '10s' });
    expect(direct[0]).toEqual(evals[3]);
    direct.slice(1).forEach((kept, i) => expectCompact(kept, evals[2 - i]));
    expect(direct[1].features.x.histogram).toBeUndefined();

    const schema = uniqueSchema('mig3real');
    schemas.push(schema);
    const pool = createPgPool(DATABASE_URL, { schema });
    try {
      await runMigrations(pool, { schema, until: 2 });
      await saveVersion2Evaluations(pool, evals);
      await runMigrations(pool, { schema });
      const moved = await new PostgresResultRepository(pool).listEvaluations({ modelId: 'm1', windowName: '10s' });
      expect(moved[0]).toEqual(evals[3]);
      moved.slice(1).forEach((kept, i) => expectCompact(kept, evals[2 - i]));
    } finally {
      await pool.end();
    }
  });
});

describe('the detail of windows that drifted', () => {
  it('keeps the histograms and verdict evidence of the drifting features, gzipped, and of every feature with detail all', async () => {
    // Four windows where x moved by 1.5 sd: x drifts, y and region do not; one later window so none is the newest.
    const evals = [...detectorEvaluations(4, 1.5), ...detectorEvaluations(5).slice(4)];
    const whole = evals[0];
    expect(whole.features.x.severity).not.toBe('NONE');
    expect(whole.features.y.severity).toBe('NONE');
    const d = await db();
    for (const mode of ['drift', 'all'] as const) {
      await d.pool.query('TRUNCATE evaluation_rows, evaluation_latest, evaluation_rollups_pending');
      const repo = new PostgresResultRepository(d.pool, { detail: mode });
      await repo.saveEvaluations(evals);
      const listed = await repo.listEvaluations({ modelId: 'm1', windowName: '10s', limit: 10 });
      const kept = listed.find((e) => e.windowStart === whole.windowStart)!;
      expectCompact(kept, whole);
      // What the columns cannot hold comes back exactly, for the drifting feature.
      expect(kept.features.x.histogram).toEqual(whole.features.x.histogram);
      expect(kept.features.x.verdict).toEqual(whole.features.x.verdict);
      expect(kept.features.x.ks?.errorBound).toBe(whole.features.x.ks?.errorBound);
      for (const name of ['y', 'region'] as const) {
        if (mode === 'all') expect([kept.features[name].histogram, kept.features[name].verdict]).toEqual([whole.features[name].histogram, whole.features[name].verdict]);
        else expect([kept.features[name].histogram, kept.features[name].verdict]).toEqual([undefined, undefined]);
      }
      const { rows } = await d.pool.query<{ legacy: number; z: number | null }>(
        'SELECT count(detail)::int AS legacy, max(octet_length(detail_z))::int AS z FROM evaluation_rows WHERE window_start = $1',
        [new Date(whole.windowStart).toISOString()],
      );
      expect(rows[0].legacy).toBe(0);
      expect(rows[0].z).toBeGreaterThan(0);
      expect(rows[0].z).toBeLessThan(mode === 'drift' ? 1_000 : 3_000);
      // A window that did not drift keeps no detail unless all is asked for.
      const { rows: counts } = await d.pool.query<{ n: number }>('SELECT count(detail_z)::int AS n FROM evaluation_rows');
      expect(counts[0].n).toBe(mode === 'all' ? 5 : 4);
    }
  });
});

describe('alert records partitioned by the start of their incident', () => {
  const first = (t: number) => ({ firstWindowStart: new Date(t).toISOString() });

  it('puts every record of an incident in the month it first fired, reads only the months asked for, and drops months past retention', async () => {
    const d = await db();
    const repo = new PostgresResultRepository(d.pool);
    const march = T0 + 60 * DAY;
    // Fired in January, escalated and resolved in March: all three in January's partition.
    const jan = [
      makeAlert({ alertId: 'jan', severity: 'WARNING', details: first(T0) }),
      makeAlert({ alertId: 'jan', severity: 'CRITICAL', windowStart: march, windowEnd: march + MINUTE, detectedAt: march, details: first(T0) }),
      makeAlert({ alertId: 'jan', status: 'RESOLVED', windowStart: march + HOUR, windowEnd: march + HOUR + MINUTE, detectedAt: march + HOUR, details: first(T0) }),
    ];
    const mar = makeAlert({ alertId: 'mar', windowStart: march, windowEnd: march + MINUTE, detectedAt: march, details: first(march) });
    await repo.saveAlerts([...jan, mar]);
    const { rows } = await d.pool.query<{ part: string; ids: string }>(
      "SELECT tableoid::regclass::text AS part, string_agg(alert_id || ':' || status || ':' || severity, ',' ORDER BY detected_at) AS ids FROM alerts GROUP BY 1 ORDER BY 1",
    );
    expect(rows).toEqual([
      { part: 'alerts_p202601', ids: 'jan:FIRING:WARNING,jan:FIRING:CRITICAL,jan:RESOLVED:CRITICAL' },
      { part: 'alerts_p202603', ids: 'mar:FIRING:CRITICAL' },
    ]);

    // A query bounded by the incidents' start reads only their partitions.
    const plan = await d.pool.query<{ 'QUERY PLAN': string }>(
      "EXPLAIN SELECT * FROM alerts WHERE incident_start >= '2026-03-01T00:00:00Z'::timestamptz AND incident_start < 'infinity'::timestamptz",
    );
    const scanned = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(scanned).toContain('alerts_p202603');
    expect(scanned).not.toContain('alerts_p202601');
    expect((await repo.listAlerts({ firedFrom: Date.UTC(2026, 2, 1) })).alerts.map((a) => a.alertId)).toEqual(['mar']);

    // Retention of 30 days on 2026-04-15: January goes (its incident resolved long ago), March stays.
    const maintenance = new HistoryMaintenance(d.pool, { retention: { alerts: 30 * DAY }, partitionsAhead: 1, intervalMs: 60_000, now: () => Date.UTC(2026, 3, 15) });
    expect((await maintenance.runOnce())?.dropped).toEqual(['alerts_p202601']);
    expect((await repo.listAlerts({})).alerts.map((a) => a.alertId)).toEqual(['mar']);
    // A record of an incident whose month was dropped makes its partition again rather than failing.
    await repo.saveAlerts([{ ...jan[2], detectedAt: Date.UTC(2026, 3, 15) }]);
    expect((await repo.listAlerts({ firedTo: Date.UTC(2026, 1, 1) })).alerts.map((a) => `${a.alertId}:${a.status}`)).toEqual(['jan:RESOLVED']);
    await maintenance.close();
  });

  it('migration 007 moves the records of version 6 into the partitioned table, each by its incident', async () => {
    const schema = uniqueSchema('mig7');
    schemas.push(schema);
    const pool = createPgPool(DATABASE_URL, { schema });
    try {
      await runMigrations(pool, { schema, until: 6 });
      const insert = (id: string, status: string, windowStart: string, details: string) =>
        pool.query(
          `INSERT INTO alerts (alert_id, status, severity, model_id, kind, statistic, value, threshold, window_name, window_start, window_end,
             sample_size, reference_id, detected_at, details)
           VALUES ($1, $2, 'WARNING', 'm', 'FEATURE_DRIFT', 'psi', 0.3, 0.25, '1m', $3, $3::timestamptz + interval '1 minute', 10, 'r', $3, $4)`,
          [id, status, windowStart, details],
        );
      await insert('a', 'FIRING', '2026-01-05T00:00:00Z', JSON.stringify(first(Date.UTC(2026, 0, 5))));
      await insert('a', 'RESOLVED', '2026-02-10T00:00:00Z', JSON.stringify(first(Date.UTC(2026, 0, 5))));
      // No usable firstWindowStart: the record's own window start.
      await insert('b', 'FIRING', '2026-02-20T00:00:00Z', JSON.stringify({ firstWindowStart: 'not a time' }));
      await runMigrations(pool, { schema });
      const { rows } = await pool.query<{ part: string; id: string; start: Date }>(
        'SELECT tableoid::regclass::text AS part, alert_id || status AS id, incident_start AS start FROM alerts ORDER BY 2',
      );
      expect(rows.map((r) => [r.part, r.id, r.start.toISOString()])).toEqual([
        ['alerts_p202601', 'aFIRING', '2026-01-05T00:00:00.000Z'],
        ['alerts_p202601', 'aRESOLVED', '2026-01-05T00:00:00.000Z'],
        ['alerts_p202602', 'bFIRING', '2026-02-20T00:00:00.000Z'],
      ]);
      const { rows: incidents } = await pool.query<{ alert_id: string; status: string }>('SELECT alert_id, status FROM alert_incidents ORDER BY 1');
      expect(incidents).toEqual([{ alert_id: 'a', status: 'RESOLVED' }, { alert_id: 'b', status: 'FIRING' }]);
      // The moved records are found by the writer: saving one again adds nothing.
      const repo = new PostgresResultRepository(pool);
      const again = (await repo.listAlerts({})).alerts;
      await repo.saveAlerts(again);
      expect((await pool.query('SELECT count(*)::int AS n FROM alerts')).rows[0].n).toBe(3);
    } finally {
      await pool.end();
    }
  });
});

describe('migration 003', () => {
  it('moves the evaluations of version 2 into the partitioned tables, intact', async () => {
    const schema = uniqueSchema('mig3');
    schemas.push(schema);
    const pool = createPgPool(DATABASE_URL, { schema });
    try {
      await runMigrations(pool, { schema, until: 2 });
      const drifted = makeEvaluation({ windowStart: T0 + 5 * MINUTE });
      const calm = [0, 1, 2, DAY / MINUTE].map((m) => quiet(m));
      const other = quiet(0, 'fraud');
      // Version 2 could hold one window twice under different ids: the fuller one is kept.
      const stale = { ...quiet(1), evaluationId: 'stale-copy', sampleSize: 10 };
      await saveVersion2Evaluations(pool, [drifted, ...calm, other, stale]);
      await pool.query(`INSERT INTO alerts (alert_id, status, severity, model_id, kind, statistic, value, threshold, window_name, window_start,
        window_end, sample_size, reference_id, detected_at) VALUES ('a1', 'FIRING', 'CRITICAL', 'credit-risk', 'FEATURE_DRIFT', 'psi', 0.3, 0.25,
        '1m', now(), now(), 10, 'ref-1', now())`);

      expect(await runMigrations(pool, { schema })).toContain(3);

      const repo = new PostgresResultRepository(pool);
      const listed = await repo.listEvaluations({ modelId: 'credit-risk', windowName: '1m' });
      expect(listed.map((e) => e.windowStart)).toEqual([calm[3], drifted, calm[2], calm[1], calm[0]].map((e) => e.windowStart));
      expect(listed[0]).toEqual(calm[3]);
      expect(listed[1]).toEqual(drifted);
      for (const [i, e] of [[4, calm[0]], [3, calm[1]], [2, calm[2]]] as const) {
        expect(listed[i].evaluationId).toBe(e.evaluationId);
        expect(listed[i].sampleSize).toBe(e.sampleSize);
        expect(listed[i].features.age.psi).toBeCloseTo(0.05, 6);
        expect(listed[i].features.region.chiSquare?.pValue).toBeCloseTo(0.36, 6);
        expect(listed[i].performance).toEqual(e.performance);
      }
      expect(await repo.latestEvaluation('credit-risk', '1m')).toEqual(calm[3]);
      expect(await repo.latestEvaluation('fraud', '1m')).toEqual(other);
      const hours = await repo.listRollups({ modelId: 'credit-risk', windowName: '1m', resolution: 'hour', from: T0, to: T0 + 2 * DAY });
      expect(hours.map((h) => [h.bucketStart - T0, h.windows, h.driftWindows, h.sampleSize])).toEqual([
        [0, 4, 1, 4 * 1_234],
        [DAY, 1, 0, 1_234],
      ]);
      const { rows: tables } = await pool.query<{ t: string }>(
        `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 AND table_name IN ('drift_results', 'performance_results', 'evaluations_v2')`,
        [schema],
      );
      expect(tables).toEqual([]);
      expect((await repo.listAlerts({})).alerts.map((a) => a.alertId)).toEqual(['a1']);
      // Writing after the move works on the same series and layouts.
      await repo.saveEvaluations([quiet(3)]);
      expect((await pool.query('SELECT count(*)::int AS n FROM history_layouts')).rows[0].n).toBe(1);
      expect(makeAlert().alertId).toBe('a1b2c3d4e5f6');
    } finally {
      await pool.end();
    }
  });
});
