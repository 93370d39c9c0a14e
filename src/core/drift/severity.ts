import type { FeatureResult, Severity } from './types.js';
import { DEFAULT_THRESHOLDS, type Thresholds } from './thresholds.js';
import { CategoricalSummary, OTHER_CATEGORY } from '../stats/categorical-summary.js';
import { NumericSummary } from '../stats/numeric-summary.js';
import { psi } from '../stats/psi.js';
import { ks } from '../stats/ks.js';
import { wassersteinNormed } from '../stats/wasserstein-normed.js';
import { jensenShannon } from '../stats/jensen-shannon.js';
import { hellinger } from '../stats/hellinger.js';
import { chiSquare } from '../stats/chi-square.js';
import { datasetDrift, DEFAULT_DATASET_DRIFT_SHARE, type DatasetDriftResult } from '../stats/dataset-drift.js';
import { referenceDigest, type CategoricalFeatureProfile, type FeatureProfile, type NumericFeatureProfile } from '../profile/reference-profile.js';

export type { Severity };

/** Names of the statistics that can set a severity. */
export type StatisticName = 'psi' | 'ks' | 'chiSquare' | 'wasserstein' | 'jensenShannon' | 'hellinger' | 'totalVariation';

/**
 * The evaluation of one feature in one window: {@link FeatureResult} (the
 * shape the API and `compare` serve) plus why it got its severity.
 * Statistics that cannot be computed (an empty side, a constant reference
 * for Wasserstein) are NaN.
 */
export interface FeatureEvaluation extends FeatureResult {
  /** Statistics at the feature's severity (empty at NONE). */
  triggered: StatisticName[];
  /** True when the current window had fewer than `minSamples` values: reported, never in drift. */
  belowMinSamples: boolean;
  /** Set when p-values were adjusted across features ({@link applyBenjaminiHochberg}). */
  pValueAdjustment?: 'benjamini-hochberg';
}

const LEVELS: readonly Severity[] = ['NONE', 'WARNING', 'CRITICAL'];

/**
 * Evaluates one feature of a window against its reference profile: computes
 * every statistic of DESIGN.md section 4 for its type and classifies it with
 * {@link classify}. `current` must come from `createSummary(reference)` (same
 * bin edges) or be a {@link CategoricalSummary} for a categorical feature.
 */
export function evaluateFeature(
  reference: FeatureProfile,
  current: NumericSummary | CategoricalSummary,
  thresholds: Thresholds = DEFAULT_THRESHOLDS,
): FeatureEvaluation {
  return classify(featureStatistics(reference, current), thresholds);
}

/**
 * Every statistic of DESIGN.md section 4 of one feature in one window, with
 * no verdict yet (severity NONE). `current` must come from
 * `createSummary(reference)` (same bin edges) or be a
 * {@link CategoricalSummary} for a categorical feature.
 */
export function featureStatistics(reference: FeatureProfile, current: NumericSummary | CategoricalSummary): FeatureEvaluation {
  return reference.type === 'numeric' ? numericStatistics(reference, current) : categoricalStatistics(reference, current);
}

function numericStatistics(reference: NumericFeatureProfile, current: NumericSummary | CategoricalSummary): FeatureEvaluation {
  if (!(current instanceof NumericSummary)) throw new TypeError('numeric reference needs a NumericSummary');
  if (current.edges.length !== reference.edges.length || current.edges.some((e, i) => e !== reference.edges[i])) {
    throw new RangeError('current summary is not binned on the reference edges');
  }
  const refDigest = referenceDigest(reference);
  return {
    type: 'numeric',
    nReference: reference.count,
    nCurrent: current.count,
    missing: current.missing,
    missingRate: current.missingRate,
    psi: psi(reference.counts, current.counts),
    ks: ks(refDigest, current.digest),
    wassersteinNormed: wassersteinNormed(refDigest, current.digest, reference.std),
    jensenShannon: jensenShannon(reference.counts, current.counts),
    hellinger: hellinger(reference.counts, current.counts),
    drift: false,
    severity: 'NONE',
    triggered: [],
    belowMinSamples: false,
  };
}

/**
 * Aligns reference and current category counts. A category the reference does
 * not know is new when the reference kept every category by name; when the
 * reference folded some into `__other__`, an unknown category may be one of
 * those, so it is compared against `__other__` and not reported as new.
 */
export function alignCategories(
  reference: CategoricalFeatureProfile,
  current: CategoricalSummary,
): { categories: string[]; reference: number[]; current: number[]; newCategories: string[] } {
  const refCats = reference.categories;
  const refHasOther = (refCats[OTHER_CATEGORY] ?? 0) > 0;
  const index = new Map<string, number>();
  const categories: string[] = [];
  const ref: number[] = [];
  const cur: number[] = [];
  for (const [c, n] of Object.entries(refCats)) {
    if (c === OTHER_CATEGORY) continue;
    index.set(c, categories.length);
    categories.push(c);
    ref.push(n);
    cur.push(0);
  }
  const otherIndex = (): number => {
    let i = index.get(OTHER_CATEGORY);
    if (i === undefined) {
      i = categories.length;
      index.set(OTHER_CATEGORY, i);
      categories.push(OTHER_CATEGORY);
      ref.push(refCats[OTHER_CATEGORY] ?? 0);
      cur.push(0);
    }
    return i;
  };
  if (refHasOther) otherIndex();
  const newCategories: string[] = [];
  for (const [c, n] of current.counts()) {
    let i = index.get(c);
    if (i === undefined) {
      if (c === OTHER_CATEGORY || refHasOther) i = otherIndex();
      else {
        i = categories.length;
        index.set(c, i);
        categories.push(c);
        ref.push(0);
        cur.push(0);
        newCategories.push(c);
      }
    }
    cur[i] += n;
  }
  newCategories.sort();
  return { categories, reference: ref, current: cur, newCategories };
}

function categoricalStatistics(reference: CategoricalFeatureProfile, current: NumericSummary | CategoricalSummary): FeatureEvaluation {
  if (!(current instanceof CategoricalSummary)) throw new TypeError('categorical reference needs a CategoricalSummary');
  const a = alignCategories(reference, current);
  return {
    type: 'categorical',
    nReference: reference.count,
    nCurrent: current.count,
    missing: current.missing,
    missingRate: current.missingRate,
    psi: psi(a.reference, a.current),
    chiSquare: chiSquare(a.reference, a.current),
    jensenShannon: jensenShannon(a.reference, a.current),
    hellinger: hellinger(a.reference, a.current),
    newCategories: a.newCategories,
    drift: false,
    severity: 'NONE',
    triggered: [],
    belowMinSamples: false,
  };
}

/**
 * Sets `severity`, `drift`, `triggered` and `belowMinSamples` of computed
 * statistics under `thresholds` (returns a new object). The severity is the
 * highest level among the enabled statistics: PSI, Wasserstein, JS and
 * Hellinger by value; KS by p-value gated by D; chi-square by p-value gated
 * by PSI. NaN statistics never fire. Below `minSamples` current values the
 * severity is NONE.
 */
export function classify(result: FeatureEvaluation | FeatureResult, thresholds: Thresholds = DEFAULT_THRESHOLDS): FeatureEvaluation {
  const out: FeatureEvaluation = { ...(result as FeatureEvaluation), triggered: [], belowMinSamples: result.nCurrent < thresholds.minSamples };
  const levels: [StatisticName, number][] = [];
  const byValue = (name: StatisticName, value: number | undefined, t: { warning: number; critical: number; enabled: boolean }): void => {
    if (!t.enabled || value === undefined || Number.isNaN(value)) return;
    levels.push([name, value >= t.critical ? 2 : value >= t.warning ? 1 : 0]);
  };
  const byTest = (
    name: StatisticName,
    p: number | undefined,
    effect: number | undefined,
    t: Thresholds['ks'],
  ): void => {
    if (!t.enabled || p === undefined || effect === undefined || Number.isNaN(p) || Number.isNaN(effect)) return;
    levels.push([name, p < t.critical && effect >= t.effectSize.critical ? 2 : p < t.warning && effect >= t.effectSize.warning ? 1 : 0]);
  };
  byValue('psi', result.psi, thresholds.psi);
  if (result.type === 'numeric') {
    byTest('ks', result.ks?.pValue, result.ks?.statistic, thresholds.ks);
    byValue('wasserstein', result.wassersteinNormed, thresholds.wasserstein);
  } else {
    byTest('chiSquare', result.chiSquare?.pValue, result.psi, thresholds.chiSquare);
  }
  byValue('jensenShannon', result.jensenShannon, thresholds.jensenShannon);
  byValue('hellinger', result.hellinger, thresholds.hellinger);
  let level = 0;
  for (const [, l] of levels) if (l > level) level = l;
  if (out.belowMinSamples) level = 0;
  out.severity = LEVELS[level];
  out.drift = level >= 1;
  out.triggered = level === 0 ? [] : levels.filter(([, l]) => l === level).map(([n]) => n);
  return out;
}

/**
 * Dataset drift over a window's feature results: the share of features in
 * drift, and drift when that share reaches `shareThreshold` (default 0.5).
 */
export function evaluateDataset(
  featureResults: Readonly<Record<string, Pick<FeatureResult, 'drift'>>> | readonly Pick<FeatureResult, 'drift'>[],
  shareThreshold = DEFAULT_DATASET_DRIFT_SHARE,
): DatasetDriftResult {
  const list = Array.isArray(featureResults) ? featureResults : Object.values(featureResults);
  return datasetDrift(
    list.map((r) => r.drift),
    shareThreshold,
  );
}

/**
 * Benjamini-Hochberg adjustment of the test p-values (KS for numeric
 * features, chi-square for categorical ones) across the features of one
 * evaluation, then re-classification with the adjusted values. Features below
 * `minSamples` or without a p-value take no part. Returns new results.
 */
export function applyBenjaminiHochberg(
  results: Readonly<Record<string, FeatureEvaluation>>,
  thresholdsFor: (feature: string) => Thresholds = () => DEFAULT_THRESHOLDS,
): Record<string, FeatureEvaluation> {
  const tests: { name: string; p: number }[] = [];
  for (const [name, r] of Object.entries(results)) {
    const p = r.type === 'numeric' ? r.ks?.pValue : r.chiSquare?.pValue;
    if (p !== undefined && !Number.isNaN(p) && !r.belowMinSamples) tests.push({ name, p });
  }
  const adjusted = benjaminiHochberg(tests.map((t) => t.p));
  const out: Record<string, FeatureEvaluation> = { ...results };
  tests.forEach((t, i) => {
    const r = results[t.name];
    const p = adjusted[i];
    const next: FeatureEvaluation =
      r.type === 'numeric' && r.ks
        ? { ...r, ks: { ...r.ks, pValue: p }, pValueAdjustment: 'benjamini-hochberg' }
        : { ...r, chiSquare: { ...r.chiSquare!, pValue: p }, pValueAdjustment: 'benjamini-hochberg' };
    out[t.name] = classify(next, thresholdsFor(t.name));
  });
  return out;
}

/** Benjamini-Hochberg adjusted p-values, in the input order. */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(m);
  let running = 1;
  for (let r = m - 1; r >= 0; r--) {
    const [p, i] = order[r];
    running = Math.min(running, (p * m) / (r + 1));
    out[i] = running;
  }
  return out;
}
