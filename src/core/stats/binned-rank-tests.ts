import { normalTwoSided } from './normal.js';

/** Result of a test with a standard-normal statistic. */
export interface ZTestResult {
  /** Signed statistic: positive when the current window sits higher (location) or wider (scale). */
  z: number;
  /** Two-sided p-value. */
  pValue: number;
}

/**
 * Ridit scores of the reference's bins: the reference's mid-rank of each bin,
 * (cumulative share below the bin + half the bin's share), in (0, 1).
 */
export function riditScores(referenceCounts: ArrayLike<number>): Float64Array {
  let m = 0;
  for (let i = 0; i < referenceCounts.length; i++) m += referenceCounts[i];
  const out = new Float64Array(referenceCounts.length);
  let below = 0;
  for (let i = 0; i < referenceCounts.length; i++) {
    out[i] = m > 0 ? (below + referenceCounts[i] / 2) / m : 0.5;
    below += referenceCounts[i];
  }
  return out;
}

/**
 * Two-sample linear rank test on a 2 x k table of binned counts: the sum of
 * the current window's scores against its permutation distribution given the
 * pooled table (mean n * pooled mean, variance n (N - n) / (N - 1) times the
 * pooled variance), as a z statistic. Conditioning on the pooled table makes
 * it distribution-free: ties, skew and heavy tails of the feature do not
 * change its null distribution, and the bounded scores keep the normal
 * approximation accurate (slightly conservative) far into the tail from
 * n = 100. p = 1 when every value sits in one bin.
 */
export function linearRankTest(reference: ArrayLike<number>, current: ArrayLike<number>, scores: ArrayLike<number>): ZTestResult {
  let m = 0;
  let n = 0;
  let sum = 0;
  let sumSq = 0;
  let t = 0;
  for (let i = 0; i < scores.length; i++) {
    const c = reference[i] + current[i];
    m += reference[i];
    n += current[i];
    sum += c * scores[i];
    sumSq += c * scores[i] * scores[i];
    t += current[i] * scores[i];
  }
  const total = m + n;
  if (n === 0 || m === 0) return { z: NaN, pValue: NaN };
  const mean = sum / total;
  const variance = Math.max(0, sumSq / total - mean * mean);
  const varT = (variance * n * m) / (total - 1);
  if (!(varT > 1e-300)) return { z: 0, pValue: 1 };
  const z = (t - n * mean) / Math.sqrt(varT);
  return { z, pValue: normalTwoSided(z) };
}

/**
 * Location test on the reference's quantile bins (a grouped Wilcoxon /
 * Mann-Whitney test): scores are the reference's ridits.
 */
export function binnedLocationTest(reference: ArrayLike<number>, current: ArrayLike<number>): ZTestResult {
  return linearRankTest(reference, current, riditScores(reference));
}

/**
 * Scale scores of the reference's bins: the squared distance of each bin's
 * ridit from the reference's median, (ridit - 0.5)^2 (Mood's scores).
 */
export function scaleScores(referenceCounts: ArrayLike<number>): Float64Array {
  const r = riditScores(referenceCounts);
  for (let i = 0; i < r.length; i++) r[i] = (r[i] - 0.5) ** 2;
  return r;
}

/**
 * Scale test on the reference's quantile bins (a grouped Mood test): scores
 * are {@link scaleScores}, so a wider current distribution scores higher.
 * On ten bins it is more powerful than the Ansari-Bradley scores
 * |ridit - 0.5| for normal, heavy-tailed (Student t3), skewed and flat
 * features alike; its scores are mildly skewed, which moves the two tails of
 * the normal approximation in opposite directions and leaves the two-sided
 * level in place.
 */
export function binnedScaleTest(reference: ArrayLike<number>, current: ArrayLike<number>): ZTestResult {
  return linearRankTest(reference, current, scaleScores(reference));
}
