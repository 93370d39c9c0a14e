import gammainc from '@stdlib/math-base-special-gammainc';

/** Result of {@link chiSquare}. */
export interface ChiSquareResult {
  statistic: number;
  pValue: number;
  dof: number;
}

/**
 * Chi-square test of independence on the 2 x K table of reference and current
 * counts, without continuity correction (as scipy's `chi2_contingency(...,
 * correction=False)`). Categories empty on both sides are dropped; dof is the
 * number of remaining categories minus one. The p-value is the regularized
 * upper incomplete gamma Q(dof/2, statistic/2), accurate far into the tail.
 * With fewer than two categories, or an empty side, the statistic is 0 and the
 * p-value 1 (nothing to test).
 */
export function chiSquare(reference: ArrayLike<number>, current: ArrayLike<number>): ChiSquareResult {
  if (reference.length !== current.length) throw new RangeError('chiSquare: reference and current need the same categories');
  let nr = 0;
  let nc = 0;
  let k = 0;
  for (let i = 0; i < reference.length; i++) {
    nr += reference[i];
    nc += current[i];
    if (reference[i] + current[i] > 0) k++;
  }
  if (k < 2 || nr === 0 || nc === 0) return { statistic: 0, pValue: 1, dof: Math.max(0, k - 1) };
  const n = nr + nc;
  let stat = 0;
  for (let i = 0; i < reference.length; i++) {
    const col = reference[i] + current[i];
    if (col === 0) continue;
    const er = (nr * col) / n;
    const ec = (nc * col) / n;
    stat += ((reference[i] - er) * (reference[i] - er)) / er + ((current[i] - ec) * (current[i] - ec)) / ec;
  }
  const dof = k - 1;
  return { statistic: stat, pValue: chiSquareSurvival(stat, dof), dof };
}

/** P(X >= x) for X ~ chi-square(dof). */
export function chiSquareSurvival(x: number, dof: number): number {
  if (!(x > 0)) return 1;
  return gammainc(x / 2, dof / 2, true, true);
}
