import { evalKnotsLeft, evalKnotsRight, sumOverKnotIntervals } from './merging-digest.js';
import type { CdfSketch } from './ks.js';

/**
 * First Wasserstein distance W1 = integral of |F_ref(x) - F_cur(x)| dx
 * (equivalently the integral of |Q_ref - Q_cur| over [0, 1]) between two
 * sketches. Both CDFs are piecewise linear between their knots, so the
 * integral is computed exactly for the sketches, interval by interval.
 * NaN when a side is empty.
 */
export function wasserstein1(reference: CdfSketch, current: CdfSketch): number {
  const a = reference.knots();
  const b = current.knots();
  if (a.total === 0 || b.total === 0) return NaN;
  return sumOverKnotIntervals(a, b, (x0, x1) => {
    const len = x1 - x0;
    const d0 = evalKnotsRight(a, x0) / a.total - evalKnotsRight(b, x0) / b.total;
    const d1 = evalKnotsLeft(a, x1) / a.total - evalKnotsLeft(b, x1) / b.total;
    const a0 = Math.abs(d0);
    const a1 = Math.abs(d1);
    return d0 * d1 >= 0 ? (len * (a0 + a1)) / 2 : (len * (d0 * d0 + d1 * d1)) / (2 * (a0 + a1));
  });
}

/**
 * W1 divided by the reference's sample standard deviation (ddof 1), so it
 * reads in reference standard deviations. NaN when the std is 0 or unknown
 * (a constant reference), unless the distance is 0 too, then 0.
 */
export function wassersteinNormed(reference: CdfSketch, current: CdfSketch, referenceStd: number): number {
  const w = wasserstein1(reference, current);
  if (w === 0) return 0;
  if (!(referenceStd > 0)) return NaN;
  return w / referenceStd;
}
