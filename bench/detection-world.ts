// The generated world of `npm run bench:detection`: a 10,000-row reference of 20 numeric features
// (normal, lognormal, Student t3, zero-inflated, integer Poisson with ties, bimodal, uniform) and 5
// categorical ones (5 to 50 categories, the rarest at 0.2-0.5%), windows with and without drift, and
// every window judged by the four rules the benchmark compares:
//   driftstream   the rule of docs/detector.md (tests + Holm at the false-alarm budget + effect floors)
//   legacy        the rule before the budget: PSI 0.1, KS p < 0.05 gated by D, chi-square gated by PSI
//   evidently     Evidently's defaults for a reference above 1,000 rows: normed Wasserstein >= 0.1
//                 (numeric), Jensen-Shannon distance >= 0.1 (categorical)
//   ks-bh         KS on the exact samples and chi-square on the full table, Benjamini-Hochberg q 0.05
import { mulberry32 } from '../src/core/random.js';
import type { NumericSummary } from '../src/core/stats/numeric-summary.js';
import { CategoricalSummary } from '../src/core/stats/categorical-summary.js';
import { ksPValue } from '../src/core/stats/ks.js';
import { ReferenceProfileBuilder, createSummary, referenceDigest, type NumericFeatureProfile, type CategoricalFeatureProfile } from '../src/core/profile/reference-profile.js';
import { alignCategories, benjaminiHochberg, classify, featureStatistics } from '../src/core/drift/severity.js';
import { DEFAULT_THRESHOLDS } from '../src/core/drift/thresholds.js';
import { categoricalEvidence, decideVerdicts, numericEvidence, type FeatureVerdict, type VerdictInput } from '../src/core/drift/verdict.js';
import { DEFAULT_FLOORS } from '../src/core/drift/floors.js';

export const REFERENCE_ROWS = 10_000;

export type Rng = () => number;

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
export const SHAPE_NAMES = Object.keys(SHAPES);
export const NUMERIC = Array.from({ length: 20 }, (_, i) => ({ name: `${SHAPE_NAMES[i % SHAPE_NAMES.length]}_${Math.floor(i / SHAPE_NAMES.length)}`, shape: SHAPE_NAMES[i % SHAPE_NAMES.length] }));

/** Category shares: a Zipf-like head, and the last two categories rare (0.5% and 0.2%). */
function categoryShares(k: number): number[] {
  const head = Array.from({ length: k - 2 }, (_, i) => 1 / (i + 1));
  const s = head.reduce((a, b) => a + b, 0);
  return [...head.map((h) => (h / s) * 0.993), 0.005, 0.002];
}
export const CATEGORICAL = [5, 10, 20, 30, 50].map((k) => ({ name: `cat${k}`, shares: categoryShares(k), cumulative: cumulate(categoryShares(k)) }));

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
/** The reference profile and what the generators need to know of the reference sample. */
export interface World {
  readonly numericProfiles: NumericFeatureProfile[];
  readonly categoricalProfiles: CategoricalFeatureProfile[];
  readonly refSorted: Float64Array[];
  readonly refMedian: number[];
  readonly refMean: number[];
  readonly refStd: number[];
  /** The floor's unit for numeric features: the reference's mean absolute deviation from its median. */
  readonly refMad: number[];
}

export function buildWorld(seed: number): World {
  const refRng = mulberry32(seed);
  const builder = new ReferenceProfileBuilder(Object.fromEntries([...NUMERIC.map((f) => [f.name, 'numeric']), ...CATEGORICAL.map((f) => [f.name, 'categorical'])]));
  const refValues = NUMERIC.map(() => new Float64Array(REFERENCE_ROWS));
  for (let r = 0; r < REFERENCE_ROWS; r++) {
    const rec: Record<string, unknown> = {};
    NUMERIC.forEach((f, i) => {
      const v = SHAPES[f.shape](refRng);
      refValues[i][r] = v;
      rec[f.name] = v;
    });
    for (const f of CATEGORICAL) rec[f.name] = `c${drawCategory(refRng, f.cumulative)}`;
    builder.accept(rec);
  }
  const profile = builder.build({ createdAt: 0, id: 'bench' });
  const numericProfiles = NUMERIC.map((f) => profile.features[f.name] as NumericFeatureProfile);
  const refSorted = refValues.map((v) => v.slice().sort());
  const refMedian = refSorted.map((s) => s[s.length >> 1]);
  return {
    numericProfiles,
    categoricalProfiles: CATEGORICAL.map((f) => profile.features[f.name] as CategoricalFeatureProfile),
    refSorted,
    refMedian,
    refMean: numericProfiles.map((p) => p.mean),
    refStd: numericProfiles.map((p) => p.std),
    refMad: refSorted.map((s, i) => s.reduce((a, x) => a + Math.abs(x - refMedian[i]), 0) / s.length),
  };
}

// ---------------------------------------------------------------- drift
/** How a window departs from the reference (effects in the floor's units: W1 in typical deviations, total variation). */
export interface Scenario {
  name: string;
  numeric?: { kind: 'location' | 'mean' | 'scale' | 'shape' | 'variance'; effect: number };
  categorical?: { kind: 'mass' | 'new'; effect: number };
  /** Size relative to the WARNING floor, for the summary. */
  relative?: number;
}

export function numericValue(world: World, u: Rng, i: number, s: Scenario['numeric']): number {
  const x = SHAPES[NUMERIC[i].shape](u);
  if (!s) return x;
  const { refMad, refMedian, refMean, refStd } = world;
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

export function categoryValue(u: Rng, j: number, s: Scenario['categorical']): string {
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
export interface WindowResult {
  /** Per rule, per feature: flagged. */
  flags: Record<RuleName, boolean[]>;
  dataset: Record<RuleName, boolean>;
  verdicts: FeatureVerdict[];
  /** Signed location z per numeric feature, for the sequential statistic. */
  z: number[];
}
export type RuleName = 'driftstream' | 'legacy' | 'evidently' | 'ks-bh';
export const RULES: RuleName[] = ['driftstream', 'legacy', 'evidently', 'ks-bh'];
export const FEATURE_NAMES = [...NUMERIC.map((f) => f.name), ...CATEGORICAL.map((f) => f.name)];

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

export function runWindow(world: World, u: Rng, n: number, scenario: Scenario, alpha: number): WindowResult {
  const { numericProfiles, categoricalProfiles, refSorted } = world;
  const flags = Object.fromEntries(RULES.map((r) => [r, [] as boolean[]])) as Record<RuleName, boolean[]>;
  const inputs: Record<string, VerdictInput> = {};
  const bhP: number[] = [];
  const z: number[] = [];
  const buf = new Float64Array(n);
  for (let i = 0; i < NUMERIC.length; i++) {
    const s = createSummary(numericProfiles[i]);
    for (let k = 0; k < n; k++) {
      const v = numericValue(world, u, i, scenario.numeric);
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
  const verdicts = decideVerdicts(inputs, alpha);
  const list = FEATURE_NAMES.map((f) => verdicts[f]);
  flags.driftstream = list.map((v) => v.verdict === 'drift');
  const dataset = Object.fromEntries(RULES.map((r) => [r, flags[r].filter(Boolean).length / FEATURE_NAMES.length >= 0.5])) as Record<RuleName, boolean>;
  return { flags, dataset, verdicts: list, z };
}

