/**
 * PostgreSQL history at fleet scale (`npm run bench:history`; needs PostgreSQL,
 * DRIFTSTREAM_BENCH_DATABASE_URL or the test server). Every schema it makes
 * is its own and dropped at the end (`--keep` keeps them).
 *
 * 1. Bytes per stored (model, window) evaluation of a 25-feature model: real
 *    evaluations (the detector's evaluateWindow on generated traffic) written
 *    through PostgresResultRepository and rolled up, all tables with their
 *    indexes and TOAST; with no window drifting, with 1%, 5%, 20% and every
 *    window drifting (their detail kept), and the same evaluations stored the
 *    way schema version 2 did, as the baseline.
 * 2. A month of one model's 1-minute history among 1,000 models: hourly and
 *    daily roll-ups of every model for `--days` generated with generate_series,
 *    1-minute rows of every model for the last `--all-days`, and of the
 *    queried model for the whole month; then the roll-up reads the API makes
 *    against reading the month's windows themselves.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createPgPool } from '../src/adapters/postgres/pg-pool.js';
import { runMigrations } from '../src/adapters/postgres/migrate.js';
import { HistoryMaintenance } from '../src/adapters/postgres/history-maintenance.js';
import { PostgresResultRepository } from '../src/adapters/postgres/postgres-result-repository.js';
import { evaluateWindow } from '../src/core/drift/evaluate-window.js';
import type { Evaluation } from '../src/core/drift/types.js';
import { parseModelConfig } from '../src/core/model/model-config.js';
import { Pane } from '../src/core/windows/pane.js';
import { createPaneLayout } from '../src/core/windows/pane-layout.js';
import { cleanProfile } from '../load-tests/scenario.js';
import { TrafficGenerator, featureTypes } from '../load-tests/traffic.js';

const FEATURE_NAMES = [...Object.keys(featureTypes()), 'score'];
import { saveVersion2Evaluations } from '../tests/support/legacy-history.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const URL = process.env.DRIFTSTREAM_BENCH_DATABASE_URL ?? process.env.DRIFTSTREAM_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const OPTIONS = {
  evaluations: arg('evaluations', 2_000),
  models: arg('models', 1_000),
  days: arg('days', 30),
  allDays: arg('all-days', 1),
  repeats: arg('repeats', 15),
  keep: process.argv.includes('--keep'),
};

const schemas: string[] = [];
function schemaName(label: string): string {
  const s = `ds_bench_${label}_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
  schemas.push(s);
  return s;
}

const log = (line: string) => process.stdout.write(`${line}\n`);
const pad = (s: string) => s.padEnd(74);
const kb = (bytes: number) => `${(bytes / 1024).toFixed(2)} KB`;

/** Distinct windows of a 25-feature model (20 numeric, 5 categorical, score): clean ones and ones with drift. */
async function realEvaluations(count: number, driftEvery: number): Promise<Evaluation[]> {
  const model = parseModelConfig({ modelId: 'bench', features: featureTypes(), prediction: 'score', positiveClass: '1' });
  const profile = await cleanProfile(model, 20_000);
  const layout = createPaneLayout(model, profile.id, profile);
  const gen = new TrafficGenerator(11, 'bench');
  const panes = [false, false, false, false, false, false, false, true].map((drifted, p) => {
    const pane = new Pane(layout, 0, MINUTE);
    for (let i = 0; i < 1_000; i++) {
      const e = gen.event('bench', p * MINUTE + i, drifted);
      pane.accept(e.features, e.score, e.prediction, e.modelVersion);
    }
    return { pane, drifted };
  });
  const clean = panes.filter((p) => !p.drifted);
  const drifting = panes.find((p) => p.drifted)!;
  const t0 = Date.UTC(2026, 5, 1);
  return Array.from({ length: count }, (_, i) => {
    const { pane } = driftEvery > 0 && i % driftEvery === 0 ? drifting : clean[i % clean.length];
    return evaluateWindow({ model, pane, windowName: '1m', windowStart: t0 + i * MINUTE, windowEnd: t0 + (i + 1) * MINUTE, evaluatedAt: t0 + (i + 1) * MINUTE + 1_000 });
  });
}

/** Bytes of the history tables of a schema (those of version 3 on, or of version 2), with indexes and TOAST, by table family. */
async function schemaBytes(pool: pg.Pool, schema: string): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ family: string; bytes: string }>(
    `SELECT regexp_replace(c.relname, '_p[0-9]+$', '') AS family, sum(pg_total_relation_size(c.oid)) AS bytes
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind = 'r' AND (c.relname LIKE 'evaluation%' OR c.relname LIKE 'history%' OR c.relname IN ('drift_results', 'performance_results'))
     GROUP BY 1`,
    [schema],
  );
  return Object.fromEntries(rows.map((r) => [r.family, Number(r.bytes)]));
}

const total = (b: Record<string, number>) => Object.values(b).reduce((a, x) => a + x, 0);

async function compactRun(label: string, evals: readonly Evaluation[]): Promise<Record<string, number>> {
  const schema = schemaName(label);
  const pool = createPgPool(URL, { schema, max: 3 });
  try {
    await runMigrations(pool, { schema });
    const repo = new PostgresResultRepository(pool);
    for (let i = 0; i < evals.length; i += 500) await repo.saveEvaluations(evals.slice(i, i + 500));
    const none = { evaluation_rows: 0, evaluation_rollups_hourly: 0, evaluation_rollups_daily: 0 };
    await new HistoryMaintenance(pool, { retention: none, partitionsAhead: 0, intervalMs: 60_000 }).runOnce();
    await pool.query('VACUUM ANALYZE');
    return await schemaBytes(pool, schema);
  } finally {
    await pool.end();
  }
}

async function version2Run(evals: readonly Evaluation[]): Promise<Record<string, number>> {
  const schema = schemaName('v2');
  const pool = createPgPool(URL, { schema, max: 3 });
  try {
    await runMigrations(pool, { schema, until: 2 });
    for (let i = 0; i < evals.length; i += 100) await saveVersion2Evaluations(pool, evals.slice(i, i + 100));
    await pool.query('VACUUM ANALYZE');
    return await schemaBytes(pool, schema);
  } finally {
    await pool.end();
  }
}

async function sizes(): Promise<void> {
  const n = OPTIONS.evaluations;
  log(`## bytes per stored evaluation, 25 features + score, ${n} windows of 1 minute`);
  const quiet = await realEvaluations(n, 0);
  log(pad('evaluation as JSON (what version 2 stored twice)') + kb(JSON.stringify(quiet[0]).length));
  const q = await compactRun('quiet', quiet);
  const perQuiet = total(q) / n;
  log(pad('no window drifted: per evaluation, all tables + indexes + roll-ups') + `${kb(perQuiet)}  (${Object.entries(q).map(([k, v]) => `${k} ${kb(v / n)}`).join(', ')})`);
  // Each share measured, not interpolated: every k-th window is the drifted one.
  for (const [label, every] of [['1%', 100], ['5%', 20], ['20%', 5], ['100% (every window)', 1]] as const) {
    const d = await compactRun(`drift${every}`, await realEvaluations(n, every));
    const per = total(d) / n;
    log(pad(`${label} of windows drifting: per evaluation`) + `${kb(per)}  (a drifting window adds ${kb((per - perQuiet) * every)}; ${Object.entries(d).map(([k, v]) => `${k} ${kb(v / n)}`).join(', ')})`);
  }
  const v2 = await version2Run(quiet);
  log(pad('baseline: schema version 2, same evaluations, per evaluation') + `${kb(total(v2) / n)}  (${(total(v2) / total(q)).toFixed(1)}x)`);
}

/** Generates the month of roll-ups of every model and the 1-minute rows, by SQL, from one real evaluation's row. */
async function generateFleet(pool: pg.Pool, repo: PostgresResultRepository, end: number): Promise<void> {
  const { models, days, allDays } = OPTIONS;
  const start = end - days * DAY;
  // Real rows of the queried model's first hour give the template row and the template roll-up.
  const firstHour = (await realEvaluations(60, 0)).map((e, i) => ({ ...e, modelId: 'm0000', windowStart: start + i * MINUTE, windowEnd: start + (i + 1) * MINUTE }));
  await repo.saveEvaluations(firstHour);
  await repo.listRollups({ modelId: 'm0000', windowName: '1m', resolution: 'hour', from: start, to: start + HOUR });
  await pool.query(`INSERT INTO history_series (model_id, window_name, max_window_ms)
    SELECT 'm' || lpad(i::text, 4, '0'), '1m', 60000 FROM generate_series(1, $1 - 1) AS i`, [models]);
  await pool.query('SELECT driftstream_partition($1, $2, t) FROM generate_series($3::timestamptz, $4::timestamptz, $5::interval) AS t', ['evaluation_rows', 'day', new Date(start).toISOString(), new Date(end).toISOString(), '1 day']);
  await pool.query('SELECT driftstream_partition($1, $2, t) FROM generate_series($3::timestamptz, $4::timestamptz, $5::interval) AS t', ['evaluation_rollups_hourly', 'month', new Date(start).toISOString(), new Date(end).toISOString(), '1 day']);
  await pool.query('SELECT driftstream_partition($1, $2, t) FROM generate_series($3::timestamptz, $4::timestamptz, $5::interval) AS t', ['evaluation_rollups_daily', 'year', new Date(start).toISOString(), new Date(end).toISOString(), '1 day']);
  const t = Date.now();
  // Hourly roll-ups: every model, every hour but the queried model's first (already real).
  await pool.query(
    `INSERT INTO evaluation_rollups_hourly
     SELECT s.series_id, h, 60, 60, (random() < 0.02)::int, 60000 + (random() * 1000)::int, random() * 0.1, random() * 0.3, (random() < 0.05)::int,
            r.feature_names, r.output_names, r.feature_windows, r.feature_drift_windows, r.feature_severity, r.features, r.prediction, r.performance
     FROM history_series s CROSS JOIN generate_series($1::timestamptz, $2::timestamptz - interval '1 hour', interval '1 hour') AS h
     CROSS JOIN (SELECT * FROM evaluation_rollups_hourly LIMIT 1) AS r
     WHERE NOT (s.model_id = 'm0000' AND h = $1::timestamptz)`,
    [new Date(start).toISOString(), new Date(end).toISOString()],
  );
  log(pad(`generated hourly roll-ups: ${models} models x ${days * 24} hours`) + `${((Date.now() - t) / 1000).toFixed(1)} s`);
  await pool.query(
    `INSERT INTO evaluation_rollups_daily
     SELECT series_id, date_trunc('day', bucket_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', 1440, 1440, 30, 1440000, 0.05, 0.3, 1,
            feature_names, output_names, feature_windows, feature_drift_windows, feature_severity, features, prediction, performance
     FROM evaluation_rollups_hourly WHERE extract(hour FROM bucket_start AT TIME ZONE 'UTC') = 0 ON CONFLICT DO NOTHING`,
  );
  const tr = Date.now();
  const minuteRows = async (where: string, from: number) =>
    pool.query(
      `INSERT INTO evaluation_rows (series_id, window_start, window_end, evaluated_at, sample_size, layout_id, drift_share, dataset_drift, alertable,
         max_severity, flags, n_current, missing, psi, ks, ks_p, wasserstein, jensen_shannon, hellinger, chi_square, chi_square_p, chi_square_dof,
         out_of_range, proxy, type_errors, new_categories, performance)
       SELECT s.series_id, m, m + interval '1 minute', m + interval '61 seconds', t.sample_size, t.layout_id,
         random() * 0.2, false, true, 0, t.flags, t.n_current, t.missing, t.psi, t.ks, t.ks_p, t.wasserstein, t.jensen_shannon, t.hellinger,
         t.chi_square, t.chi_square_p, t.chi_square_dof, t.out_of_range, t.proxy, t.type_errors, t.new_categories, t.performance
       FROM history_series s CROSS JOIN generate_series($1::timestamptz, $2::timestamptz - interval '1 minute', interval '1 minute') AS m
       CROSS JOIN (SELECT * FROM evaluation_rows LIMIT 1) AS t
       WHERE ${where} ON CONFLICT DO NOTHING`,
      [new Date(from).toISOString(), new Date(end).toISOString()],
    );
  await minuteRows(`s.model_id = 'm0000'`, start);
  await minuteRows(`s.model_id <> 'm0000'`, end - allDays * DAY);
  log(pad(`generated 1-minute rows: ${models} models x ${allDays} day(s), m0000 x ${days} days`) + `${((Date.now() - tr) / 1000).toFixed(1)} s`);
  await pool.query('ANALYZE');
}

interface Timing {
  median: number;
  p90: number;
  min: number;
  max: number;
  /** This process's CPU per call (parsing and decoding), median. */
  cpu: number;
}

async function timed(repeats: number, fn: () => Promise<unknown>): Promise<Timing> {
  await fn();
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = process.hrtime.bigint();
    const c = process.cpuUsage();
    await fn();
    const used = process.cpuUsage(c);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    cpu.push((used.user + used.system) / 1e3);
  }
  ms.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  return { median: ms[Math.floor(ms.length / 2)], p90: ms[Math.floor(ms.length * 0.9)], min: ms[0], max: ms[ms.length - 1], cpu: cpu[Math.floor(cpu.length / 2)] };
}

const fmt = (t: Timing) =>
  `${t.median.toFixed(1)} ms median  (p90 ${t.p90.toFixed(1)}, min ${t.min.toFixed(1)}, max ${t.max.toFixed(1)}; client CPU ${t.cpu.toFixed(1)} ms)`;

/** The machine's load while the figures were taken (the host is shared: wall times stretch with it). */
async function loadAverage(): Promise<string> {
  const { loadavg, cpus } = await import('node:os');
  return `load average ${loadavg().map((x) => x.toFixed(1)).join(' / ')} on ${cpus().length} cores`;
}

async function queries(): Promise<void> {
  const { models, days, repeats } = OPTIONS;
  log(`\n## 30 days of one model's 1-minute history, ${models} models' worth of data`);
  const schema = schemaName('fleet');
  const pool = createPgPool(URL, { schema, max: 3, queryTimeoutMs: 600_000 });
  try {
    await runMigrations(pool, { schema });
    const repo = new PostgresResultRepository(pool);
    const end = Date.UTC(2026, 6, 1);
    await generateFleet(pool, repo, end);
    const bytes = await schemaBytes(pool, schema);
    log(pad('data generated') + Object.entries(bytes).map(([k, v]) => `${k} ${(v / 1024 ** 2).toFixed(0)} MB`).join(', '));
    const from = end - days * DAY;
    const q = { modelId: 'm0000', windowName: '1m', from, to: end };
    const roundTrip = await timed(repeats, () => pool.query('SELECT 1'));
    log(pad('baseline: a SELECT 1 round trip') + `${fmt(roundTrip)}  (${await loadAverage()})`);
    let points = 0;
    const hourly = await timed(repeats, async () => (points = (await repo.listRollups({ ...q, resolution: 'hour' })).length));
    log(pad(`hourly roll-ups, ${points} points, every feature's counts (/history)`) + fmt(hourly));
    const one = await timed(repeats, () => repo.listRollups({ ...q, resolution: 'hour', features: ['f00'] }));
    log(pad('hourly roll-ups, one feature\'s statistics (/history?feature=f00)') + fmt(one));
    const all = await timed(Math.min(repeats, 5), () => repo.listRollups({ ...q, resolution: 'hour', features: FEATURE_NAMES }));
    log(pad('hourly roll-ups, every feature\'s statistics') + fmt(all));
    const daily = await timed(repeats, async () => (points = (await repo.listRollups({ ...q, resolution: 'day' })).length));
    log(pad(`daily roll-ups, ${points} points`) + fmt(daily));
    const raw = await timed(Math.min(repeats, 3), async () => (points = (await repo.listEvaluations({ ...q, limit: days * 1_440 })).length));
    log(pad(`baseline: the month's 1-minute windows themselves, ${points} rows`) + `${fmt(raw)}  (${(raw.median / hourly.median).toFixed(0)}x the hourly roll-ups)`);
  } finally {
    await pool.end();
  }
}

async function main(): Promise<void> {
  log(`# history in PostgreSQL (${new Date().toISOString()}, ${URL.replace(/:[^:@/]+@/, ':***@')})`);
  try {
    if (!process.argv.includes('--only-queries')) await sizes();
    if (!process.argv.includes('--only-sizes')) await queries();
  } finally {
    if (!OPTIONS.keep) {
      const admin = new pg.Client({ connectionString: URL });
      await admin.connect();
      for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      await admin.end();
    }
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench history: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
