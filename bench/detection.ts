// `npm run bench:detection`: how often each drift rule cries wolf and how often it sees real drift.
//
// A 10,000-row reference of 20 numeric features (normal, lognormal, Student t3, zero-inflated,
// integer Poisson with ties, bimodal, uniform) and 5 categorical ones (5 to 50 categories, the
// rarest at 0.2-0.5%), then null windows and drifted windows at sizes n. Every window is judged by
// four rules in the same run:
//   driftstream   the rule of docs/detector.md (tests + Holm at the false-alarm budget + effect floors)
//   legacy        the rule before the budget: PSI 0.1, KS p < 0.05 gated by D, chi-square gated by PSI
//   evidently     Evidently's defaults for a reference above 1,000 rows: normed Wasserstein >= 0.1
//                 (numeric), Jensen-Shannon distance >= 0.1 (categorical)
//   ks-bh         KS on the exact samples and chi-square on the full table, Benjamini-Hochberg q 0.05
//
//   npx tsx bench/detection.ts [--windows 200] [--drift-windows 40] [--sizes 100,200,500,1000,5000,20000]
//                              [--seed 1] [--only null,drift,sequential] [--budget 0.001] [--trials 200]
//                              [--warmup 0] [--sequential-null-windows 2000]
import { parseArgs } from 'node:util';
import { mulberry32 } from '../src/core/random.js';
import { DEFAULT_FLOORS } from '../src/core/drift/floors.js';
import { BLIND_WINDOW_BUDGET_SHARE, WINDOW_BUDGET_SHARE, sequentialDetection, sequentialFlagged, sequentialModelDetection, sequentialNull } from './detection-sequential.js';
import { CATEGORICAL, FEATURE_NAMES, NUMERIC, REFERENCE_ROWS, RULES, buildWorld, runWindow, type RuleName, type Scenario, type WindowResult } from './detection-world.js';

const { values: args } = parseArgs({
  options: {
    windows: { type: 'string', default: '200' },
    'drift-windows': { type: 'string', default: '40' },
    sizes: { type: 'string', default: '100,200,500,1000,5000,20000' },
    seed: { type: 'string', default: '1' },
    only: { type: 'string', default: 'null,drift,sequential' },
    budget: { type: 'string', default: '0.001' },
    trials: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '0' },
    'sequential-null-windows': { type: 'string', default: '2000' },
  },
});
const NULL_WINDOWS = Number(args.windows);
const DRIFT_WINDOWS = Number(args['drift-windows']);
const SIZES = args.sizes.split(',').map(Number);
const SEED = Number(args.seed);
const ONLY = new Set(args.only.split(','));
const BUDGET = Number(args.budget);
const TRIALS = Number(args.trials);
const WARMUP = Number(args.warmup);
const SEQ_NULL_WINDOWS = Number(args['sequential-null-windows']);

const world = buildWorld(SEED);

/** One line of the closing table: a target of docs/detector.md and what this run measured. */
interface TargetRow {
  target: string;
  goal: string;
  measured: string;
  met: boolean;
  /** The same measure for KS / chi-square with Benjamini-Hochberg, where it applies. */
  baseline?: string;
}
const targets: TargetRow[] = [];

const pct = (x: number, digits = 1): string => `${(100 * x).toFixed(digits)}%`;
const t0 = Date.now();
const log = (s = ''): void => console.log(s);
log(`# driftstream detection benchmark`);
log(`reference ${REFERENCE_ROWS} rows, ${NUMERIC.length} numeric + ${CATEGORICAL.length} categorical features; budget ${BUDGET}; seed ${SEED}`);
log(`command: npx tsx bench/detection.ts ${process.argv.slice(2).join(' ')}`.trimEnd());

// ---------------------------------------------------------------- null
if (ONLY.has('null')) {
  log('');
  log(`## No drift: ${NULL_WINDOWS} windows per n`);
  log('');
  log('| n | rule | windows with any alarm | feature-windows flagged (mean) | worst feature | dataset drift |');
  log('|---|---|---|---|---|---|');
  const insufficientRows: string[] = [];
  for (const n of SIZES) {
    const u = mulberry32(SEED * 1000 + n);
    const any = Object.fromEntries(RULES.map((r) => [r, 0])) as Record<RuleName, number>;
    const ds = { ...any };
    const perFeature = Object.fromEntries(RULES.map((r) => [r, new Array<number>(FEATURE_NAMES.length).fill(0)])) as Record<RuleName, number[]>;
    let insufficient = 0;
    let numericInsufficient = 0;
    let categoricalInsufficient = 0;
    for (let w = 0; w < NULL_WINDOWS; w++) {
      const r = runWindow(world, u, n, { name: 'null' }, BUDGET / 2);
      for (const rule of RULES) {
        if (r.flags[rule].some(Boolean)) any[rule]++;
        if (r.dataset[rule]) ds[rule]++;
        r.flags[rule].forEach((f, i) => (perFeature[rule][i] += f ? 1 : 0));
      }
      r.verdicts.forEach((v, i) => {
        if (v.verdict !== 'insufficient') return;
        insufficient++;
        if (i < NUMERIC.length) numericInsufficient++;
        else categoricalInsufficient++;
      });
    }
    for (const rule of RULES) {
      const pf = perFeature[rule];
      const worst = pf.indexOf(Math.max(...pf));
      log(`| ${n} | ${rule} | ${pct(any[rule] / NULL_WINDOWS, 2)} (${any[rule]}) | ${pct(pf.reduce((a, b) => a + b, 0) / (NULL_WINDOWS * FEATURE_NAMES.length), 3)} | ${FEATURE_NAMES[worst]} ${pct(pf[worst] / NULL_WINDOWS, 1)} | ${pct(ds[rule] / NULL_WINDOWS, 2)} |`);
    }
    targets.push({
      target: `no drift, n = ${n}: windows with any alarm; dataset drift`,
      goal: '<= 0.1%; never',
      measured: `${pct(any.driftstream / NULL_WINDOWS, 2)} (${any.driftstream} of ${NULL_WINDOWS}); ${ds.driftstream}`,
      met: any.driftstream / NULL_WINDOWS <= 0.001 && ds.driftstream === 0,
      baseline: `${pct(any['ks-bh'] / NULL_WINDOWS, 2)}; ${ds['ks-bh']}`,
    });
    insufficientRows.push(
      `| ${n} | ${pct(insufficient / (NULL_WINDOWS * FEATURE_NAMES.length))} | ${pct(numericInsufficient / (NULL_WINDOWS * NUMERIC.length))} | ${pct(categoricalInsufficient / (NULL_WINDOWS * CATEGORICAL.length))} |`,
    );
    console.error(`null n=${n} done at ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  log('');
  log('driftstream verdict `insufficient` (no drift, MDE above the WARNING floor) among no-drift feature-windows:');
  log('');
  log('| n | all features | numeric | categorical |');
  log('|---|---|---|---|');
  for (const row of insufficientRows) log(row);
}

// ---------------------------------------------------------------- drift
const FLOOR_N = DEFAULT_FLOORS.numeric.warning;
const FLOOR_C = DEFAULT_FLOORS.categorical.warning;
const SCENARIOS: Scenario[] = [];
for (const rel of [0.5, 1.5, 3]) {
  SCENARIOS.push({ name: `location + category mass ${rel}x floor`, numeric: { kind: 'location', effect: rel * FLOOR_N }, categorical: { kind: 'mass', effect: rel * FLOOR_C }, relative: rel });
  SCENARIOS.push({ name: `scale + new category ${rel}x floor`, numeric: { kind: 'scale', effect: rel * FLOOR_N }, categorical: { kind: 'new', effect: rel * FLOOR_C }, relative: rel });
  SCENARIOS.push({ name: `shape (bump) ${rel}x floor`, numeric: { kind: 'shape', effect: rel * FLOOR_N }, relative: rel });
}
SCENARIOS.push({ name: 'mean +0.25 sd', numeric: { kind: 'mean', effect: 0.25 } });
SCENARIOS.push({ name: 'variance x1.5', numeric: { kind: 'variance', effect: 1.5 } });
SCENARIOS.push({ name: '15 points of the top category moved', categorical: { kind: 'mass', effect: 0.15 } });

/** Worst case per target over the drift table's rows. */
const worst = {
  visible: { rate: Infinity, where: '', baseline: Infinity, rows: 0 },
  half: { rate: -Infinity, where: '', baseline: -Infinity },
  fixed: { rate: Infinity, where: '', baseline: Infinity },
};
function driftTargets(sc: Scenario, group: string, n: number, r: { hit: number; visible: number; visibleHit: number; baseline: number }): void {
  const where = `${sc.name}, ${group}, n = ${n}`;
  if ((sc.relative ?? 0) >= 1.5 && r.visible > 0) {
    worst.visible.rows++;
    if (r.visibleHit / r.visible < worst.visible.rate) Object.assign(worst.visible, { rate: r.visibleHit / r.visible, where });
    worst.visible.baseline = Math.min(worst.visible.baseline, r.baseline);
  }
  if (sc.relative === 0.5) {
    if (r.hit > worst.half.rate) Object.assign(worst.half, { rate: r.hit, where });
    worst.half.baseline = Math.max(worst.half.baseline, r.baseline);
  }
  if (sc.relative === undefined && n >= 1000) {
    if (r.hit < worst.fixed.rate) Object.assign(worst.fixed, { rate: r.hit, where });
    worst.fixed.baseline = Math.min(worst.fixed.baseline, r.baseline);
  }
}

if (ONLY.has('drift')) {
  log('');
  log(`## Drift: ${DRIFT_WINDOWS} windows per scenario and n; share of drifted feature-windows flagged`);
  log('');
  log('driftstream columns: flagged among all drifted feature-windows; among those whose reported MDE <= floor (share of such in brackets).');
  log('');
  log(`| scenario | features | n | driftstream | driftstream where MDE <= floor | legacy | evidently | ks-bh |`);
  log('|---|---|---|---|---|---|---|---|');
  for (const sc of SCENARIOS) {
    for (const n of SIZES) {
      const u = mulberry32(SEED * 7919 + n + SCENARIOS.indexOf(sc) * 100_003);
      for (const group of ['numeric', 'categorical'] as const) {
        if (!sc[group]) continue;
        const idx = group === 'numeric' ? NUMERIC.map((_, i) => i) : CATEGORICAL.map((_, j) => NUMERIC.length + j);
        const hit = Object.fromEntries(RULES.map((r) => [r, 0])) as Record<RuleName, number>;
        let visible = 0;
        let visibleHit = 0;
        let total = 0;
        const rs: WindowResult[] = [];
        for (let w = 0; w < DRIFT_WINDOWS; w++) rs.push(runWindow(world, u, n, sc, BUDGET / 2));
        for (const r of rs) {
          for (const i of idx) {
            total++;
            for (const rule of RULES) if (r.flags[rule][i]) hit[rule]++;
            const v = r.verdicts[i];
            if (v.mde <= v.floor.warning) {
              visible++;
              if (v.verdict === 'drift') visibleHit++;
            }
          }
        }
        driftTargets(sc, group, n, { hit: hit.driftstream / total, visible, visibleHit, baseline: hit['ks-bh'] / total });
        log(
          `| ${sc.name} | ${group} | ${n} | ${pct(hit.driftstream / total)} | ${visible === 0 ? '-' : pct(visibleHit / visible)} (${pct(visible / total, 0)}) | ${pct(hit.legacy / total)} | ${pct(hit.evidently / total)} | ${pct(hit['ks-bh'] / total)} |`,
        );
      }
    }
    console.error(`drift ${sc.name} done at ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
}

if (ONLY.has('drift')) {
  const w = worst;
  targets.push({ target: `drift >= 1.5x floor where the reported MDE <= floor (worst of ${w.visible.rows} scenario x n rows: ${w.visible.where || '-'})`, goal: '>= 95%', measured: Number.isFinite(w.visible.rate) ? pct(w.visible.rate) : 'no such rows', met: !(w.visible.rate < 0.95), baseline: `worst ${pct(w.visible.baseline)}` });
  targets.push({ target: `drift at 0.5x floor flagged, any n (worst: ${w.half.where})`, goal: '<= 5%', measured: pct(w.half.rate), met: w.half.rate <= 0.05, baseline: `worst ${pct(w.half.baseline)}` });
  if (Number.isFinite(w.fixed.rate)) targets.push({ target: `mean +0.25 sd, variance x1.5, 15 points moved, n >= 1,000, every feature (worst: ${w.fixed.where})`, goal: '100% ("always")', measured: pct(w.fixed.rate), met: w.fixed.rate >= 1, baseline: `worst ${pct(w.fixed.baseline)}` });
}

// ---------------------------------------------------------------- sequential
if (ONLY.has('sequential')) {
  const n = 200;
  const maxWindows = 10;
  log('');
  log(`## Sequential mode: tumbling windows of ${n} events, persistent drift at 1.5x the WARNING floor on one feature`);
  log('');
  log(
    `judgeFeatures in sequential mode (single-window tests at ${WINDOW_BUDGET_SHARE} of the budget, or ${BLIND_WINDOW_BUDGET_SHARE} when no feature could see an effect at its floor, as at n = ${n}; derived windows of the trend statistics over the last 10 windows at the rest); ${TRIALS} trials spread over the drifted features and kinds${WARMUP > 0 ? `, each after ${WARMUP} no-drift windows` : ', each from an empty state'}.`,
  );
  log('');
  log('| drift, feature shape | trials | fired within 10 windows | median delay (windows) |');
  log('|---|---|---|---|');
  const rows = TRIALS > 0 ? sequentialDetection(world, SEED, TRIALS, n, maxWindows, BUDGET, WARMUP) : [];
  let fired = 0;
  let trials = 0;
  for (const r of rows) {
    fired += r.fired;
    trials += r.trials;
    log(`| ${r.group} | ${r.trials} | ${pct(r.fired / r.trials)} | ${r.medianDelay ?? '-'} |`);
  }
  log(`| all (one feature drifted per trial) | ${trials} | ${pct(fired / trials)} | |`);
  const modelTrials = TRIALS > 0 ? Math.max(20, Math.round(TRIALS / 5)) : 0;
  for (const sc of modelTrials > 0 ? SCENARIOS.filter((x) => x.relative === 1.5) : []) {
    const r = sequentialModelDetection(world, SEED, modelTrials, n, maxWindows, BUDGET, sc);
    log(`| model: every feature drifted, ${r.group} (any verdict drift) | ${r.trials} | ${pct(r.fired / r.trials)} | ${r.medianDelay ?? '-'} |`);
  }
  if (trials > 0) targets.push({ target: 'sequential: persistent drift at 1.5x floor on one feature, 200-event windows, fired within 10 windows', goal: '>= 90% of trials', measured: `${pct(fired / trials)} of ${trials}`, met: fired / trials >= 0.9 });
  if (TRIALS > 0) {
    const half = sequentialFlagged(world, SEED, Math.max(45, Math.round(TRIALS / 3)), n, maxWindows, BUDGET, 0.5);
    log('');
    log(`drift at 0.5x the floor on one feature: ${pct(half.flagged / half.windows)} of its ${half.windows} windows flagged (${maxWindows} consecutive windows per trial from an empty state)`);
    targets.push({ target: 'sequential: drift at 0.5x floor, windows flagged', goal: '<= 5%', measured: `${pct(half.flagged / half.windows)} of ${half.windows}`, met: half.flagged / half.windows <= 0.05 });
  }
  const nullRun = sequentialNull(world, SEED, SEQ_NULL_WINDOWS, n, BUDGET);
  log('');
  log(`no drift: ${nullRun.alarms} evaluations with any drift verdict (${nullRun.sequentialAlarms} by a derived window; ${nullRun.episodes} runs of consecutive alarmed windows${nullRun.features.length ? `: ${nullRun.features.join(', ')}` : ''}) in ${nullRun.windows} consecutive windows of 200 events (budget: ${BUDGET * nullRun.windows} expected at most)`);
  targets.push({ target: 'sequential: no drift, evaluations with any alarm', goal: `<= ${BUDGET}`, measured: `${nullRun.alarms} of ${nullRun.windows}`, met: nullRun.alarms / nullRun.windows <= BUDGET || nullRun.alarms <= 1 });
}

// ---------------------------------------------------------------- targets
log('');
log('## Targets (docs/detector.md) beside the measured values of this run');
log('');
log('| target | goal | driftstream | met | ks-bh (same windows) |');
log('|---|---|---|---|---|');
for (const t of targets) log(`| ${t.target} | ${t.goal} | ${t.measured} | ${t.met ? 'yes' : 'NO'} | ${t.baseline ?? '-'} |`);
log('');
log(`elapsed ${((Date.now() - t0) / 1000).toFixed(0)} s`);
