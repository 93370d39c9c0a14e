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
import { parseArgs } from 'node:util';
import { mulberry32 } from '../src/core/random.js';
import { NumericSummary } from '../src/core/stats/numeric-summary.js';
import { CategoricalSummary } from '../src/core/stats/categorical-summary.js';
import { ksPValue } from '../src/core/stats/ks.js';
import { ReferenceProfileBuilder, createSummary, referenceDigest, type NumericFeatureProfile, type CategoricalFeatureProfile } from '../src/core/profile/reference-profile.js';
import { alignCategories, benjaminiHochberg, classify, featureStatistics } from '../src/core/drift/severity.js';
import { DEFAULT_THRESHOLDS } from '../src/core/drift/thresholds.js';
import { categoricalEvidence, decideVerdicts, numericEvidence, type FeatureVerdict, type VerdictInput } from '../src/core/drift/verdict.js';
import { DEFAULT_FLOORS } from '../src/core/drift/floors.js';
import { DEFAULT_SEQUENTIAL_K, sequentialReferenceValue, sequentialStep, sequentialThreshold, type SequentialState } from '../src/core/drift/sequential.js';

const { values: args } = parseArgs({
  options: {
    windows: { type: 'string', default: '200' },
    'drift-windows': { type: 'string', default: '40' },
    sizes: { type: 'string', default: '100,200,500,1000,5000,20000' },
    seed: { type: 'string', default: '1' },
    only: { type: 'string', default: 'null,drift,sequential' },
    budget: { type: 'string', default: '0.001' },
    trials: { type: 'string', default: '200' },
  },
});
const NULL_WINDOWS = Number(args.windows);
const DRIFT_WINDOWS = Number(args['drift-windows']);
const SIZES = args.sizes.split(',').map(Number);
const SEED = Number(args.seed);
const ONLY = new Set(args.only.split(','));
const BUDGET = Number(args.budget);
const TRIALS = Number(args.trials);
const REFERENCE_ROWS = 10_000;

type Rng = () => number;

function normal(u: Rng): number {
  const a = u() || 1e-12;
  return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * u());
}

function poisson(u: Rng, lambda: number): number {
  // Knuth's product method; lambda is small here.
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= u();
  } while (p > l);
  return k - 1;
}

const SHAPES: Record<string, (u: Rng) => number> = {
  normal: (u) => 50 + 10 * normal(u),
  lognormal: (u) => Math.exp(normal(u)),
  t3: (u) => {
    const z = normal(u);
    const c = normal(u) ** 2 + normal(u) ** 2 + normal(u) ** 2;
    return z / Math.sqrt(c / 3);
  },
  zeroInflated: (u) => (u() < 0.6 ? 0 : -Math.log(u() || 1e-12) * 3),
  poisson: (u) => poisson(u, 2),
  bimodal: (u) => (u() < 0.4 ? -2 : 2) + 0.7 * normal(u),
  uniform: (u) => 10 * u(),
};
const SHAPE_NAMES = Object.keys(SHAPES);
const NUMERIC = Array.from({ length: 20 }, (_, i) => ({ name: `${SHAPE_NAMES[i % SHAPE_NAMES.length]}_${Math.floor(i / SHAPE_NAMES.length)}`, shape: SHAPE_NAMES[i % SHAPE_NAMES.length] }));

/** Category shares: a Zipf-like head, and the last two categories rare (0.5% and 0.2%). */
function categoryShares(k: number): number[] {
  const head = Array.from({ length: k - 2 }, (_, i) => 1 / (i + 1));
  const s = head.reduce((a, b) => a + b, 0);
  return [...head.map((h) => (h / s) * 0.993), 0.005, 0.002];
}
const CATEGORICAL = [5, 10, 20, 30, 50].map((k) => ({ name: `cat${k}`, shares: categoryShares(k), cumulative: cumulate(categoryShares(k)) }));

function cumulate(p: number[]): number[] {
  const out: number[] = [];
  let c = 0;
  for (const x of p) out.push((c += x));
  out[out.length - 1] = 1;
  return out;
}

function drawCategory(u: Rng, cumulative: number[]): number {
  const x = u();
  let i = 0;
  while (i < cumulative.length - 1 && x >= cumulative[i]) i++;
  return i;
}

// ---------------------------------------------------------------- reference
const refRng = mulberry32(SEED);
const builder = new ReferenceProfileBuilder(Object.fromEntries([...NUMERIC.map((f) => [f.name, 'numeric']), ...CATEGORICAL.map((f) => [f.name, 'categorical'])]));
const refValues = new Map<string, Float64Array>();
for (const f of NUMERIC) refValues.set(f.name, new Float64Array(REFERENCE_ROWS));
for (let r = 0; r < REFERENCE_ROWS; r++) {
  const rec: Record<string, unknown> = {};
  for (const f of NUMERIC) {
    const v = SHAPES[f.shape](refRng);
    refValues.get(f.name)![r] = v;
    rec[f.name] = v;
  }
  for (const f of CATEGORICAL) rec[f.name] = `c${drawCategory(refRng, f.cumulative)}`;
  builder.accept(rec);
}
const profile = builder.build({ createdAt: 0, id: 'bench' });
const numericProfiles = NUMERIC.map((f) => profile.features[f.name] as NumericFeatureProfile);
const categoricalProfiles = CATEGORICAL.map((f) => profile.features[f.name] as CategoricalFeatureProfile);
const refSorted = NUMERIC.map((f) => refValues.get(f.name)!.slice().sort());
const refMedian = refSorted.map((s) => s[s.length >> 1]);
const refMean = numericProfiles.map((p) => p.mean);
const refStd = numericProfiles.map((p) => p.std);
// The floor's unit for numeric features: the reference's mean absolute deviation from its median.
const refMad = refSorted.map((s, i) => s.reduce((a, x) => a + Math.abs(x - refMedian[i]), 0) / s.length);

// ---------------------------------------------------------------- drift
/** How a window departs from the reference (effects in the floor's units: W1 in typical deviations, total variation). */
interface Scenario {
  name: string;
  numeric?: { kind: 'location' | 'mean' | 'scale' | 'shape' | 'variance'; effect: number };
  categorical?: { kind: 'mass' | 'new'; effect: number };
  /** Size relative to the WARNING floor, for the summary. */
  relative?: number;
}

function numericValue(u: Rng, i: number, s: Scenario['numeric']): number {
  const x = SHAPES[NUMERIC[i].shape](u);
  if (!s) return x;
  const unit = refMad[i];
  switch (s.kind) {
    case 'location':
      return x + s.effect * unit;
    case 'mean':
      return x + s.effect * refStd[i];
    case 'scale':
      // Scaling about the median by 1 + lambda moves W1 by lambda * E|X - median|.
      return refMedian[i] + (x - refMedian[i]) * (1 + s.effect);
    case 'variance':
      return refMean[i] + (x - refMean[i]) * Math.sqrt(s.effect);
    case 'shape':
      // A share w of values moves 3 typical deviations up (a new bump): W1 = 3 w.
      return u() < s.effect / 3 ? x + 3 * unit : x;
  }
}

function categoryValue(u: Rng, j: number, s: Scenario['categorical']): string {
  const f = CATEGORICAL[j];
  if (s?.kind === 'new' && u() < s.effect) return 'brand-new';
  let c = drawCategory(u, f.cumulative);
  if (s?.kind === 'mass' && c === 0 && u() < s.effect / f.shares[0]) {
    // Moved out of the top category into the others, in proportion to their shares.
    const rest = f.cumulative.map((x) => (x - f.shares[0]) / (1 - f.shares[0]));
    const x = u();
    c = 1;
    while (c < rest.length - 1 && x >= rest[c]) c++;
  }
  return `c${c}`;
}

// ---------------------------------------------------------------- one window, four rules
interface WindowResult {
  /** Per rule, per feature: flagged. */
  flags: Record<RuleName, boolean[]>;
  dataset: Record<RuleName, boolean>;
  verdicts: FeatureVerdict[];
  /** Signed location z per numeric feature, for the sequential statistic. */
  z: number[];
}
type RuleName = 'driftstream' | 'legacy' | 'evidently' | 'ks-bh';
const RULES: RuleName[] = ['driftstream', 'legacy', 'evidently', 'ks-bh'];
const FEATURE_NAMES = [...NUMERIC.map((f) => f.name), ...CATEGORICAL.map((f) => f.name)];

function exactKs(ref: Float64Array, cur: Float64Array): number {
  let i = 0;
  let j = 0;
  let d = 0;
  const n = ref.length;
  const m = cur.length;
  while (i < n && j < m) {
    const x = Math.min(ref[i], cur[j]);
    while (i < n && ref[i] <= x) i++;
    while (j < m && cur[j] <= x) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  return d;
}

function runWindow(u: Rng, n: number, scenario: Scenario): WindowResult {
  const flags = Object.fromEntries(RULES.map((r) => [r, [] as boolean[]])) as Record<RuleName, boolean[]>;
  const inputs: Record<string, VerdictInput> = {};
  const bhP: number[] = [];
  const z: number[] = [];
  const buf = new Float64Array(n);
  for (let i = 0; i < NUMERIC.length; i++) {
    const s = createSummary(numericProfiles[i]);
    for (let k = 0; k < n; k++) {
      const v = numericValue(u, i, scenario.numeric);
      buf[k] = v;
      s.accept(v);
    }
    const stats = featureStatistics(numericProfiles[i], s);
    flags.legacy.push(classify(stats, DEFAULT_THRESHOLDS).drift);
    flags.evidently.push((stats.wassersteinNormed ?? 0) >= 0.1);
    const sorted = buf.slice().sort();
    bhP.push(ksPValue(exactKs(refSorted[i], sorted), REFERENCE_ROWS, n));
    const ev = numericEvidence(numericProfiles[i], referenceDigest(numericProfiles[i]), s as NumericSummary, stats.ks);
    z.push(ev.tests[0].statistic);
    inputs[NUMERIC[i].name] = { evidence: ev, floors: DEFAULT_FLOORS.numeric, eligible: true };
  }
  for (let j = 0; j < CATEGORICAL.length; j++) {
    const s = new CategoricalSummary();
    for (let k = 0; k < n; k++) s.accept(categoryValue(u, j, scenario.categorical));
    const stats = featureStatistics(categoricalProfiles[j], s);
    flags.legacy.push(classify(stats, DEFAULT_THRESHOLDS).drift);
    flags.evidently.push((stats.jensenShannon ?? 0) >= 0.1);
    bhP.push(stats.chiSquare!.pValue);
    const a = alignCategories(categoricalProfiles[j], s);
    inputs[CATEGORICAL[j].name] = { evidence: categoricalEvidence(a.reference, a.current), floors: DEFAULT_FLOORS.categorical, eligible: true };
  }
  const adjusted = benjaminiHochberg(bhP);
  flags['ks-bh'] = adjusted.map((p) => p < 0.05);
  const verdicts = decideVerdicts(inputs, BUDGET / 2);
  const list = FEATURE_NAMES.map((f) => verdicts[f]);
  flags.driftstream = list.map((v) => v.verdict === 'drift');
  const dataset = Object.fromEntries(RULES.map((r) => [r, flags[r].filter(Boolean).length / FEATURE_NAMES.length >= 0.5])) as Record<RuleName, boolean>;
  return { flags, dataset, verdicts: list, z };
}

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
      const r = runWindow(u, n, { name: 'null' });
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
        for (let w = 0; w < DRIFT_WINDOWS; w++) rs.push(runWindow(u, n, sc));
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
        log(
          `| ${sc.name} | ${group} | ${n} | ${pct(hit.driftstream / total)} | ${visible === 0 ? '-' : pct(visibleHit / visible)} (${pct(visible / total, 0)}) | ${pct(hit.legacy / total)} | ${pct(hit.evidently / total)} | ${pct(hit['ks-bh'] / total)} |`,
        );
      }
    }
    console.error(`drift ${sc.name} done at ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
}

// ---------------------------------------------------------------- sequential
if (ONLY.has('sequential')) {
  const n = 200;
  const maxWindows = 10;
  const features = NUMERIC.length;
  const h = sequentialThreshold(BUDGET / 2, 2 * features, DEFAULT_SEQUENTIAL_K);
  log('');
  log(`## Sequential mode: windows of ${n} events, CUSUM of the location z (k ${sequentialReferenceValue(n, REFERENCE_ROWS).toFixed(2)}, h ${h.toFixed(2)} for ${2 * features} one-sided statistics at half the budget)`);
  log('');
  let fired = 0;
  const delays: number[] = [];
  for (let t = 0; t < TRIALS; t++) {
    const u = mulberry32(SEED * 31 + t);
    const states: SequentialState[] = NUMERIC.map(() => ({ up: 0, down: 0 }));
    const target = t % features;
    let done = false;
    for (let w = 1; w <= maxWindows && !done; w++) {
      for (let i = 0; i < features; i++) {
        const s = createSummary(numericProfiles[i]);
        const sc = i === target ? { kind: 'location' as const, effect: 1.5 * FLOOR_N } : undefined;
        for (let k = 0; k < n; k++) s.accept(numericValue(u, i, sc));
        const ev = numericEvidence(numericProfiles[i], referenceDigest(numericProfiles[i]), s);
        const step = sequentialStep(states[i], ev.tests[0].statistic, sequentialReferenceValue(n, REFERENCE_ROWS), h);
        states[i] = step.state;
        if (step.fired && i === target) {
          fired++;
          delays.push(w);
          done = true;
        }
      }
    }
  }
  log(`persistent location drift at 1.5x the floor on one feature: fired within ${maxWindows} windows in ${pct(fired / TRIALS)} of ${TRIALS} trials; median delay ${delays.sort((a, b) => a - b)[delays.length >> 1] ?? '-'} windows`);
  // Null run length: windows until any of the 2 x features statistics fires with no drift.
  const nullWindows = Math.max(2000, NULL_WINDOWS);
  let nullFired = 0;
  const u = mulberry32(SEED * 977);
  let states: SequentialState[] = NUMERIC.map(() => ({ up: 0, down: 0 }));
  for (let w = 0; w < nullWindows; w++) {
    for (let i = 0; i < features; i++) {
      const s = createSummary(numericProfiles[i]);
      for (let k = 0; k < n; k++) s.accept(numericValue(u, i, undefined));
      const ev = numericEvidence(numericProfiles[i], referenceDigest(numericProfiles[i]), s);
      const step = sequentialStep(states[i], ev.tests[0].statistic, sequentialReferenceValue(n, REFERENCE_ROWS), h);
      states[i] = step.state;
      if (step.fired) {
        nullFired++;
        states = NUMERIC.map(() => ({ up: 0, down: 0 }));
        break;
      }
    }
  }
  log(`no drift: ${nullFired} sequential alarms in ${nullWindows} consecutive windows of ${features} features (budget: ${(BUDGET / 2) * nullWindows} expected at most)`);
}
log('');
log(`elapsed ${((Date.now() - t0) / 1000).toFixed(0)} s`);
