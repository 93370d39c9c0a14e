import { CategoricalSummary, OTHER_CATEGORY } from '../stats/categorical-summary.js';
import { NumericSummary } from '../stats/numeric-summary.js';
import { proportions } from '../stats/proportions.js';
import type { CategoricalFeatureProfile, FeatureProfile, NumericFeatureProfile } from '../profile/reference-profile.js';
import { alignCategories } from './severity.js';
import type { FeatureResult } from './types.js';

export type FeatureHistogram = NonNullable<FeatureResult['histogram']>;

/** Categories a histogram names at most; the rest fold into `__other__` (it is for plots, not statistics). */
export const HISTOGRAM_MAX_CATEGORIES = 30;

/** Shares of the counts to six decimals: exact enough for plots, and small in stored history. */
function roundedShares(counts: ArrayLike<number>): number[] {
  return Array.from(proportions(counts), (p) => Math.round(p * 1e6) / 1e6);
}

/** Reference and current proportions of a numeric feature on the reference's bins. */
export function numericHistogram(reference: NumericFeatureProfile, current: NumericSummary): FeatureHistogram {
  return { edges: [...reference.edges], reference: roundedShares(reference.counts), current: roundedShares(current.counts) };
}

/**
 * Reference and current proportions of a categorical feature on the aligned
 * categories (new ones included), the largest {@link HISTOGRAM_MAX_CATEGORIES}
 * by combined share kept by name and the rest summed into `__other__`.
 */
export function categoricalHistogram(reference: CategoricalFeatureProfile, current: CategoricalSummary, maxCategories = HISTOGRAM_MAX_CATEGORIES): FeatureHistogram {
  const a = alignCategories(reference, current);
  const ref = roundedShares(a.reference);
  const cur = roundedShares(a.current);
  const order = a.categories.map((_, i) => i).filter((i) => a.categories[i] !== OTHER_CATEGORY);
  order.sort((x, y) => ref[y] + cur[y] - (ref[x] + cur[x]) || a.categories[x].localeCompare(a.categories[y]));
  const kept = order.slice(0, maxCategories);
  const categories = kept.map((i) => a.categories[i]);
  const r = kept.map((i) => ref[i]);
  const c = kept.map((i) => cur[i]);
  const rest = a.categories.map((_, i) => i).filter((i) => !kept.includes(i));
  if (rest.length > 0) {
    categories.push(OTHER_CATEGORY);
    r.push(Math.round(rest.reduce((s, i) => s + ref[i], 0) * 1e6) / 1e6);
    c.push(Math.round(rest.reduce((s, i) => s + cur[i], 0) * 1e6) / 1e6);
  }
  return { categories, reference: r, current: c };
}

/** The plot histogram of a feature, for {@link FeatureResult.histogram}. */
export function featureHistogram(reference: FeatureProfile, current: NumericSummary | CategoricalSummary): FeatureHistogram {
  if (reference.type === 'numeric') {
    if (!(current instanceof NumericSummary)) throw new TypeError('numeric reference needs a NumericSummary');
    return numericHistogram(reference, current);
  }
  if (!(current instanceof CategoricalSummary)) throw new TypeError('categorical reference needs a CategoricalSummary');
  return categoricalHistogram(reference, current);
}
