import { binnedLocationTest, binnedScaleTest } from '../stats/binned-rank-tests.js';
import { categoryShareTest, poolCategories, pooledChiSquare } from '../stats/category-tests.js';
import { totalVariationAboveNoise, wassersteinAboveNoise } from '../stats/effect-size.js';
import { ks as ksTest, ksJudged, ksPValue } from '../stats/ks.js';
import type { MergingDigest } from '../stats/merging-digest.js';
import type { NumericSummary } from '../stats/numeric-summary.js';
import { normalUpperQuantile } from '../stats/normal.js';
import { noncentralityForPower } from '../stats/chi-square-power.js';
import type { NumericFeatureProfile } from '../profile/reference-profile.js';
import { numericCalibration } from '../profile/calibration.js';

/** What a window can say about a feature: drift, no drift, or too few values to see an effect at the floor. */
export type Verdict = 'ok' | 'drift' | 'insufficient';

/** Names of the significance tests of the rule (docs/detector.md). */
export type DriftTestName = 'location' | 'scale' | 'ks' | 'categoryShare' | 'chiSquare' | 'derivedWindow';

/** One significance test of one feature in one evaluation. */
export interface DriftTest {
  readonly name: DriftTestName;
  /** The test's statistic (z for location and scale, D for KS, chi-square, or the cell's count). */
  readonly statistic: number;
  /** Unadjusted p-value. */
  readonly pValue: number;
}

/** Effect-size metric of a feature's floors. */
export type EffectMetric = 'wasserstein' | 'totalVariation';

/**
 * The evidence of one feature in one window, before multiplicity control:
 * its tests, its effect above noise and how the minimum detectable effect
 * scales with the test level.
 */
export interface FeatureEvidence {
  readonly tests: readonly DriftTest[];
  /** Effect above sampling noise, in the floor's units. */
  readonly effect: number;
  readonly metric: EffectMetric;
  /** Values in the current window. */
  readonly n: number;
  /** Values in the reference. */
  readonly m: number;
  /**
   * Minimum detectable effect (in the floor's units) of each kind of change
   * the rule is promised to see ({@link DriftKind}), at 80% power when each
   * test runs at level `alpha` (two-sided); Infinity when nothing can be
   * seen. The feature's MDE is the largest of them.
   */
  mdes(alpha: number): Partial<Record<DriftKind, number>>;
  /** Signed per-window statistics the sequential mode accumulates across windows. */
  readonly trends?: readonly TrendStatistic[];
}

/**
 * One signed, standard-normal-under-no-change statistic of a window that the
 * sequential mode sums over its derived window (src/core/drift/sequential.ts),
 * with the standard error of the effect it measures, so the windows' mean z
 * converts to an effect.
 */
export interface TrendStatistic {
  readonly kind: 'location' | 'scale' | 'mean' | 'categoryMass';
  readonly z: number;
  /** Standard error of the effect (floor units) per unit of z. */
  readonly se: number;
  /**
   * The same from the reference and n alone (no value of the window): what
   * the sequential mode shares its budget by, so the shares cannot depend on
   * the data they judge. Defaults to `se`.
   */
  readonly referenceSe?: number;
  /**
   * This window's estimate of the effect (signed, floor units) when z times
   * `se` would not measure it: where the reference has atoms (ties, a point
   * mass), a drift that splits them moves every rank by far more than the
   * distance it moves the values. Defaults to z times se.
   */
  readonly effect?: number;
  /** Standard error of `effect` (floor units) in this window; defaults to `se`. */
  readonly effectSe?: number;
}

/**
 * Kinds of change a minimum detectable effect is computed for: a shift, a
 * stretch of the spread and a new bump (numeric); mass moved out of or into
 * the largest category, and a new category (categorical).
 */
export type DriftKind = 'location' | 'scale' | 'shape' | 'categoryMass' | 'newCategory';

/** The largest of a feature's minimum detectable effects: what the window can promise to see whatever the kind of change. */
export function largestMde(mdes: Partial<Record<DriftKind, number>>): number {
  const values = Object.values(mdes);
  if (values.length === 0) return Infinity;
  let worst = 0;
  for (const v of values) worst = Number.isNaN(v) ? Infinity : Math.max(worst, v);
  return worst;
}

/** WARNING and CRITICAL effect floors of a feature, in its metric's units. */
export interface EffectFloors {
  readonly warning: number;
  readonly critical: number;
}

/** The verdict of one feature, with everything that explains it (the API, alerts and `compare` carry it). */
export interface FeatureVerdict {
  verdict: Verdict;
  severity: 'NONE' | 'WARNING' | 'CRITICAL';
  /** The test with the smallest p-value (the one that decided when in drift). */
  test: DriftTestName | null;
  /** Its unadjusted p-value. */
  pValue: number;
  /** The level it was compared with after multiplicity control (Holm). */
  level: number;
  /** Whether the test was significant after multiplicity control. */
  significant: boolean;
  metric: EffectMetric;
  /** Effect above noise, in the metric's units. */
  effect: number;
  floor: EffectFloors;
  n: number;
  /** Minimum detectable effect at 80% power and the budget's per-test level: the largest over the kinds of change. */
  mde: number;
  /** Minimum detectable effect per kind of change. */
  mdes: Partial<Record<DriftKind, number>>;
  /** Every test of the feature with its p-value. */
  tests: DriftTest[];
}

/** z of 80% power. */
export const POWER_Z = normalUpperQuantile(0.2);

/**
 * z of the effect estimate's precision: an effect counts as measurable when
 * the estimate's 90% interval (+-1.645 standard errors) is within half of it,
 * so an effect of 1.5 floors measures above the floor, and one of 0.5 floors
 * below it, in 95% of windows.
 */
export const EFFECT_PRECISION_Z = 2 * normalUpperQuantile(0.05);

/**
 * Minimum detectable effect of one kind of change: the larger of the test's
 * ((z at alpha / 2 + z of 80% power) times the test's standard error of the
 * effect) and the effect estimate's precision ({@link EFFECT_PRECISION_Z}
 * times its standard error). Standard errors are per unit of
 * sqrt(1/n + 1/m).
 */
export function kindMde(alpha: number, testNoise: number, effectNoise: number, n: number, m: number): number {
  const root = Math.sqrt(1 / n + 1 / m);
  return Math.max((normalUpperQuantile(alpha / 2) + POWER_Z) * testNoise * root, EFFECT_PRECISION_Z * effectNoise * root);
}

/**
 * Evidence of a numeric feature: a location test and a scale test on the
 * reference's quantile bins (distribution-free, powerful against the shifts
 * the floors are about), a chi-square on the same bins and KS from the
 * digests as omnibus tests, and the Wasserstein distance above noise in
 * units of the reference's typical deviation (mean absolute deviation from
 * the median, {@link numericCalibration}) as the effect. KS is judged at
 * D minus the sketches' error bounds, with a point mass at a digest's end
 * read as one ({@link ksJudged}; conservative). Minimum detectable
 * effects for a shift (location test), a stretch (scale test) and a new bump
 * (location test), each no smaller than the effect estimate's precision,
 * from the reference's calibration ({@link numericCalibration}).
 */
export function numericEvidence(reference: NumericFeatureProfile, refDigest: MergingDigest, current: NumericSummary, ks = ksTest(refDigest, current.digest)): FeatureEvidence {
  const n = current.count;
  const m = reference.count;
  if (n === 0 || m === 0) return emptyEvidence('wasserstein', n, m);
  const loc = binnedLocationTest(reference.counts, current.counts);
  const scale = binnedScaleTest(reference.counts, current.counts);
  const bins = pooledChiSquare(reference.counts, current.counts, 10);
  const tests: DriftTest[] = [
    { name: 'location', statistic: loc.z, pValue: nanToOne(loc.pValue) },
    { name: 'scale', statistic: scale.z, pValue: nanToOne(scale.pValue) },
    // The digests' CDF error bounds are taken off D first, so a sketch that smears a point mass
    // cannot manufacture evidence; a point mass at a digest's end (a zero-inflated feature's zeros)
    // is read as one (ksJudged), so the zeros moving still counts.
    { name: 'chiSquare', statistic: bins.statistic, pValue: bins.pValue },
    { name: 'ks', statistic: ks.statistic, pValue: nanToOne(ksPValue(ksJudged(refDigest, current.digest, ks), m, n)) },
  ];
  const cal = numericCalibration(reference, (q) => refDigest.quantile(q));
  const effect = wassersteinAboveNoise(refDigest, current.digest, cal.spread);
  const mean = meanTrend(reference, refDigest, current, cal);
  return {
    tests,
    effect: Number.isNaN(effect) ? 0 : effect,
    metric: 'wasserstein',
    n,
    m,
    // The mean replaces the ridit location trend where it is the sharper of the two (meanTrend): two
    // statistics of one shift would split the sequential budget for nothing.
    trends: [
      ...(mean.length > 0 ? mean : [{ kind: 'location' as const, z: loc.z, se: cal.locationNoise * Math.sqrt(1 / n + 1 / m), ...atomEffect('location', reference, refDigest, current, cal.spread) }]),
      { kind: 'scale', z: scale.z, se: cal.scaleNoise * Math.sqrt(1 / n + 1 / m), ...atomEffect('scale', reference, refDigest, current, cal.spread) },
    ],
    mdes: (alpha) => ({
      location: kindMde(alpha, cal.locationNoise, cal.effectNoise.location, n, m),
      scale: kindMde(alpha, cal.scaleNoise, cal.effectNoise.scale, n, m),
      shape: Math.max(
        cal.shapeNoise * Math.sqrt(noncentralityForPower(alpha, Math.max(1, bins.dof)) * (1 / n + 1 / m)),
        kindMde(alpha, 0, cal.effectNoise.location, n, m),
      ),
    }),
  };
}

/**
 * Whether the reference has atoms (values repeated often enough to merge
 * quantile edges: integer features, a zero-inflated feature's zeros): its
 * quantile bins are then unequal, one holding more than 1.5 times an equal
 * share. Without atoms every bin holds about an equal share.
 */
export function referenceHasAtoms(reference: NumericFeatureProfile): boolean {
  const bins = reference.counts.length;
  if (bins < 2 || !(reference.count > 0)) return false;
  let top = 0;
  for (const c of reference.counts) top = Math.max(top, c);
  return top / reference.count > 1.5 / bins;
}

/** Mean absolute deviation of a digest's values from c (centroid means; exact for atoms, which stay one centroid each). */
function meanAbsoluteDeviation(digest: MergingDigest, c: number): number {
  const { means, weights } = digest.centroids();
  let sum = 0;
  let w = 0;
  for (let i = 0; i < means.length; i++) {
    sum += weights[i] * Math.abs(means[i] - c);
    w += weights[i];
  }
  return w > 0 ? sum / w : NaN;
}

/**
 * The window's effect estimate of a trend on a reference with atoms
 * ({@link referenceHasAtoms}), in typical deviations: the change of the mean
 * (location) or of the mean absolute deviation from the reference's median
 * (scale). Both move by at most the Wasserstein distance (they are means of
 * 1-Lipschitz functions), so they never overstate it, while a move of an
 * atom shifts every rank and would make z times se overstate it many times
 * (a zero-inflated feature's zeros moving by 0.05 typical deviations read
 * as 7). Nothing (z times se) on a reference without atoms.
 */
export function atomEffect(kind: 'location' | 'scale', reference: NumericFeatureProfile, refDigest: MergingDigest, current: NumericSummary, spread: number): { effect?: number; effectSe?: number } {
  const n = current.count;
  const m = reference.count;
  if (!referenceHasAtoms(reference) || !(spread > 0) || n === 0 || !(m > 0)) return {};
  const root = Math.sqrt(1 / n + 1 / m);
  if (kind === 'location') return { effect: (current.mean - reference.mean) / spread, effectSe: (reference.std / spread) * root };
  const c = refDigest.quantile(0.5);
  const mad = meanAbsoluteDeviation(refDigest, c);
  // Standard deviation of |x - c| on the reference: E (x - c)^2 = std^2 + (mean - c)^2.
  const sd = Math.sqrt(Math.max(0, reference.std ** 2 + (reference.mean - c) ** 2 - mad * mad));
  return { effect: (meanAbsoluteDeviation(current.digest, c) - mad) / spread, effectSe: (sd / spread) * root };
}

/** Largest quantile skewness ((q90 - q50) - (q50 - q10)) / (q90 - q10) at which the mean trend is kept. */
export const MEAN_TREND_MAX_SKEW = 0.1;

/**
 * The standardized mean difference from the mergeable moments, (current mean
 * - reference mean) / sqrt(s_ref^2 / m + s_cur^2 / n), as a third trend
 * statistic for the sequential mode where it beats the location test: the
 * reference moves its mean by more standard errors per typical deviation of
 * shift (spread / sd) than the ridit test moves its z (1 / locationNoise),
 * as for normal and uniform features, whose bins lose some of a shift, and
 * for a bump (a few values moving far, which the bounded ridits barely see).
 * Only for a reference whose quantile skewness is at most
 * {@link MEAN_TREND_MAX_SKEW}: a skewed feature's mean is skewed too, and the
 * derived window's level assumes a normal z far into the tail. Its effect unit: the mean moved,
 * in typical deviations (a shift's or a bump's Wasserstein distance).
 */
export function meanTrend(reference: NumericFeatureProfile, refDigest: MergingDigest, current: NumericSummary, cal: { spread: number; locationNoise: number }): TrendStatistic[] {
  const n = current.count;
  const m = reference.count;
  if (n < 2 || m < 2 || !(reference.std > 0) || !(cal.spread > 0)) return [];
  if (!(cal.spread / reference.std > 1 / cal.locationNoise)) return [];
  const q10 = refDigest.quantile(0.1);
  const q50 = refDigest.quantile(0.5);
  const q90 = refDigest.quantile(0.9);
  if (!(q90 > q10) || Math.abs(q90 - 2 * q50 + q10) / (q90 - q10) > MEAN_TREND_MAX_SKEW) return [];
  const sd = Math.sqrt(reference.std ** 2 / m + current.m2 / (n - 1) / n);
  if (!(sd > 0)) return [];
  return [{ kind: 'mean', z: (current.mean - reference.mean) / sd, se: sd / cal.spread, referenceSe: (reference.std * Math.sqrt(1 / m + 1 / n)) / cal.spread }];
}

/** Expected count per cell below which categories are pooled for the tests and the effect. */
export const CATEGORY_MIN_EXPECTED = 5;

/**
 * Evidence of a categorical feature from aligned reference and current counts:
 * an exact per-category share test (max-type, Bonferroni over the cells) and
 * a chi-square on the table pooled to expected counts of at least 10; the
 * effect is the total variation distance above noise on the table pooled to
 * expected counts of at least {@link CATEGORY_MIN_EXPECTED}. Minimum
 * detectable effects: mass moved into or out of the largest category, and
 * mass moved into a new category (the pooled cell, where new categories
 * land), both by the share test at its Bonferroni level over the cells.
 */
export function categoricalEvidence(reference: readonly number[], current: readonly number[]): FeatureEvidence {
  let n = 0;
  let m = 0;
  for (let i = 0; i < reference.length; i++) {
    m += reference[i];
    n += current[i];
  }
  if (n === 0 || m === 0) return emptyEvidence('totalVariation', n, m);
  const pooled = poolCategories(reference, current, CATEGORY_MIN_EXPECTED);
  const share = categoryShareTest(pooled.reference, pooled.current);
  const chi = pooledChiSquare(reference, current, 10);
  const tests: DriftTest[] = [
    { name: 'categoryShare', statistic: share.cell >= 0 ? pooled.current[share.cell] : 0, pValue: share.pValue },
    { name: 'chiSquare', statistic: chi.statistic, pValue: chi.pValue },
  ];
  const effect = totalVariationAboveNoise(pooled.reference, pooled.current);
  return {
    tests,
    effect: Number.isNaN(effect) ? 0 : effect,
    metric: 'totalVariation',
    n,
    m,
    mdes: (alpha) => categoricalMdes(alpha, pooled, n, m),
    trends: [largestCellTrend(pooled.reference, pooled.current, n, m)],
  };
}

/**
 * Standard error of a cell's share difference when its pooled share is p:
 * sqrt(p (1 - p) (1/n + 1/m)), with p taken no further from 0.5 than the
 * share itself (mass moved into a cell raises its variance).
 */
export function cellShareMde(alpha: number, cells: number, share: number, effect: number, n: number, m: number): number {
  const p = Math.min(0.5, share + effect);
  return (normalUpperQuantile(alpha / (2 * cells)) + POWER_Z) * Math.sqrt(p * (1 - p) * (1 / n + 1 / m));
}

/**
 * {@link DriftKind} MDEs of a pooled categorical table: mass out of the
 * largest category (its share's standard error at its own share), and a new
 * category (the pooled cell's, or an empty cell's when nothing was pooled),
 * solved as the effect d at which (z + z_power) se(share + d) = d.
 */
function categoricalMdes(alpha: number, pooled: { reference: number[]; pooledIndex: number }, n: number, m: number): Partial<Record<DriftKind, number>> {
  const cells = Math.max(1, pooled.reference.length + (pooled.pooledIndex < 0 ? 1 : 0));
  if (pooled.reference.length < 2) return { categoryMass: Infinity, newCategory: Infinity };
  let top = 0;
  for (const r of pooled.reference) top = Math.max(top, r / m);
  const pool = pooled.pooledIndex < 0 ? 0 : pooled.reference[pooled.pooledIndex] / m;
  let d = cellShareMde(alpha, cells, 0.25, 0, n, m);
  for (let i = 0; i < 50; i++) d = cellShareMde(alpha, cells, pool, d, n, m);
  return { categoryMass: cellShareMde(alpha, cells, top, 0, n, m), newCategory: d };
}

/**
 * Signed z of the largest reference category's share (current minus
 * reference over its standard error at the pooled share): the statistic the
 * sequential mode accumulates for a categorical feature; its effect unit is
 * the share moved (total variation when the mass leaves or joins that
 * category).
 */
export function largestCellTrend(reference: readonly number[], current: readonly number[], n: number, m: number): TrendStatistic {
  let top = 0;
  for (let i = 1; i < reference.length; i++) if (reference[i] > reference[top]) top = i;
  const p = (reference[top] + current[top]) / (n + m);
  const se = Math.sqrt(p * (1 - p) * (1 / n + 1 / m));
  const d = current[top] / n - reference[top] / m;
  const share = reference[top] / m;
  return { kind: 'categoryMass', z: se > 0 ? d / se : NaN, se, referenceSe: Math.sqrt(share * (1 - share) * (1 / n + 1 / m)) };
}

function emptyEvidence(metric: EffectMetric, n: number, m: number): FeatureEvidence {
  const none = metric === 'wasserstein' ? { location: Infinity, scale: Infinity, shape: Infinity } : { categoryMass: Infinity, newCategory: Infinity };
  return { tests: [], effect: 0, metric, n, m, mdes: () => none };
}

function nanToOne(p: number): number {
  return Number.isNaN(p) ? 1 : p;
}

/** One feature's evidence with its floors and whether it may be in drift at all. */
export interface VerdictInput {
  readonly evidence: FeatureEvidence;
  readonly floors: EffectFloors;
  /** False below the model's minSamples: the feature's tests take no part and the verdict is `insufficient`. */
  readonly eligible: boolean;
}

/**
 * The rule (docs/detector.md): every test of every eligible feature in one
 * evaluation goes through Holm's step-down procedure at family-wise level
 * `alpha` (the model's false-alarm budget, or the share of it given to
 * single windows). A feature is in drift when one of its tests is significant
 * AND its effect above noise reaches the WARNING floor; CRITICAL when it
 * reaches the CRITICAL floor. Otherwise the verdict is `insufficient` when the
 * minimum detectable effect at the Bonferroni level alpha / tests exceeds the
 * WARNING floor (the window could not have seen an effect at the floor), and
 * `ok` when it could have.
 */
export function decideVerdicts<K extends string>(inputs: Readonly<Record<K, VerdictInput>>, alpha: number): Record<K, FeatureVerdict> {
  const all: { key: K; test: DriftTest }[] = [];
  for (const key of Object.keys(inputs) as K[]) {
    const inp = inputs[key];
    if (!inp.eligible) continue;
    for (const t of inp.evidence.tests) all.push({ key, test: t });
  }
  const total = all.length;
  const order = all.map((_, i) => i).sort((a, b) => all[a].test.pValue - all[b].test.pValue);
  const levelOf = new Map<DriftTest, number>();
  const significant = new Set<DriftTest>();
  let stopped = false;
  order.forEach((idx, rank) => {
    const level = alpha / (total - rank);
    const t = all[idx].test;
    levelOf.set(t, level);
    if (!stopped && t.pValue <= level) significant.add(t);
    else stopped = true;
  });
  const bonferroni = total > 0 ? alpha / total : alpha;
  const out = {} as Record<K, FeatureVerdict>;
  for (const key of Object.keys(inputs) as K[]) {
    const { evidence, floors, eligible } = inputs[key];
    let best: DriftTest | null = null;
    let sig = false;
    for (const t of evidence.tests) {
      if (best === null || t.pValue < best.pValue) best = t;
      if (significant.has(t)) sig = true;
    }
    if (sig) best = evidence.tests.filter((t) => significant.has(t)).sort((a, b) => a.pValue - b.pValue)[0];
    const mdes = evidence.mdes(bonferroni);
    const mde = largestMde(mdes);
    const effect = evidence.effect;
    const inDrift = eligible && sig;
    const severity = inDrift && effect >= floors.critical ? 'CRITICAL' : inDrift && effect >= floors.warning ? 'WARNING' : 'NONE';
    const verdict: Verdict = severity !== 'NONE' ? 'drift' : !eligible || !(mde <= floors.warning) ? 'insufficient' : 'ok';
    out[key] = {
      verdict,
      severity,
      test: best?.name ?? null,
      pValue: best?.pValue ?? 1,
      level: best ? (levelOf.get(best) ?? bonferroni) : bonferroni,
      significant: inDrift,
      metric: evidence.metric,
      effect,
      floor: floors,
      n: evidence.n,
      mde,
      mdes,
      tests: [...evidence.tests],
    };
  }
  return out;
}
