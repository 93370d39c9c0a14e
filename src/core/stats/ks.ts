import { evalKnotsLeft, evalKnotsRight, type CdfKnots } from './merging-digest.js';

/** A distribution sketch KS and Wasserstein can read: CDF knots and an error bound. */
export interface CdfSketch {
  /** Knots of the (piecewise-linear, right-continuous) CDF. */
  knots(): CdfKnots;
  /** Largest CDF error of the sketch at any point, as a fraction (0 when exact). */
  rankErrorBound(): number;
}

/** A sketch that also knows which of its centroids are point masses at its ends ({@link ksLowerBound}). */
export interface EndMassSketch extends CdfSketch {
  /** Knots with a centroid at the minimum or maximum as a point mass. */
  endMassKnots(): CdfKnots;
  /** Largest CDF error of {@link endMassKnots} at any point, as a fraction. */
  interiorRankErrorBound(): number;
}

/** Result of {@link ks}. */
export interface KsResult {
  /** D = sup |F_ref - F_cur|. */
  statistic: number;
  /** Asymptotic two-sided p-value. */
  pValue: number;
  /** Bound on |D - D_exact| from the two sketches (0 when both are exact). */
  errorBound: number;
}

/**
 * Two-sample Kolmogorov-Smirnov test from two sketches. D is the supremum of
 * the CDF difference; both CDFs are piecewise linear between the union of
 * their knots, so the supremum is attained at a knot (from the left or the
 * right), which is where it is evaluated. The p-value is {@link ksPValue}.
 * NaN when a side is empty.
 */
export function ks(reference: CdfSketch, current: CdfSketch): KsResult {
  const a = reference.knots();
  const b = current.knots();
  if (a.total === 0 || b.total === 0) return { statistic: NaN, pValue: NaN, errorBound: NaN };
  const d = knotsSupDistance(a, b);
  return {
    statistic: d,
    pValue: ksPValue(d, a.total, b.total),
    errorBound: reference.rankErrorBound() + current.rankErrorBound(),
  };
}

/** sup |F_a - F_b| of two piecewise-linear CDFs, evaluated at every knot from the left and the right. */
function knotsSupDistance(a: CdfKnots, b: CdfKnots): number {
  let d = 0;
  const scan = (xs: Float64Array): void => {
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i];
      const r = Math.abs(evalKnotsRight(a, x) / a.total - evalKnotsRight(b, x) / b.total);
      const l = Math.abs(evalKnotsLeft(a, x) / a.total - evalKnotsLeft(b, x) / b.total);
      if (r > d) d = r;
      if (l > d) d = l;
    }
  };
  scan(a.x);
  scan(b.x);
  return Math.min(1, d);
}

/**
 * The KS statistic the drift rule judges: D of the two sketches less their
 * CDF error bounds, the larger of two readings. One is D minus
 * {@link KsResult.errorBound}; the other reads a centroid at a sketch's
 * minimum or maximum as the point mass it is (every value in it equals its
 * mean), so the heaviest such centroid no longer sets the error bound: a
 * zero-inflated feature's zeros fill one centroid, whose share (0.6) would
 * otherwise hide any change, such as all the zeros moving. NaN when a side is
 * empty.
 */
export function ksJudged(reference: EndMassSketch, current: EndMassSketch, plain = ks(reference, current)): number {
  if (Number.isNaN(plain.statistic)) return NaN;
  const d = knotsSupDistance(reference.endMassKnots(), current.endMassKnots());
  return Math.max(0, plain.statistic - plain.errorBound, d - reference.interiorRankErrorBound() - current.interiorRankErrorBound());
}

/**
 * Asymptotic two-sided p-value of a two-sample KS statistic `d` with sample
 * sizes n and m: the Kolmogorov survival function at
 * (sqrt(en) + 0.12 + 0.11 / sqrt(en)) d with en = n m / (n + m) (Stephens'
 * small-sample correction of the limiting distribution; it tracks scipy's
 * `ks_2samp(method="asymp")` closely down to en of a few dozen).
 */
export function ksPValue(d: number, n: number, m: number): number {
  if (!(n > 0 && m > 0) || Number.isNaN(d)) return NaN;
  const en = (n * m) / (n + m);
  const s = Math.sqrt(en);
  return kolmogorovSurvival((s + 0.12 + 0.11 / s) * d);
}

/**
 * Survival function of the Kolmogorov distribution, Q(lambda) =
 * 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 lambda^2); below lambda = 1.18 the
 * equivalent Jacobi theta form converges faster.
 */
export function kolmogorovSurvival(lambda: number): number {
  if (!(lambda > 0)) return 1;
  if (lambda < 1.18) {
    // 1 - sqrt(2 pi)/lambda sum exp(-(2k-1)^2 pi^2 / (8 lambda^2))
    const c = (Math.PI * Math.PI) / (8 * lambda * lambda);
    let sum = 0;
    for (let k = 1; k <= 20; k++) {
      const t = Math.exp(-(2 * k - 1) * (2 * k - 1) * c);
      sum += t;
      if (t < 1e-18) break;
    }
    return Math.min(1, Math.max(0, 1 - (Math.sqrt(2 * Math.PI) / lambda) * sum));
  }
  let sum = 0;
  const l2 = lambda * lambda;
  for (let k = 1; k <= 100; k++) {
    const t = Math.exp(-2 * k * k * l2);
    sum += k % 2 === 1 ? t : -t;
    if (t < 1e-300 || t < sum * 1e-17) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}
