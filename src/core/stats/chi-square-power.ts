import { chiSquareSurvival } from './chi-square.js';

function bisect(f: (x: number) => number, lo: number, hi: number): number {
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) > 0) hi = mid;
    else lo = mid;
  }
  return (lo + hi) / 2;
}

/** The x with P(chi-square(dof) > x) = p, for 0 < p < 1 (bisection on the survival function). */
export function chiSquareUpperQuantile(p: number, dof: number): number {
  if (!(p > 0 && p < 1) || !(dof > 0)) return NaN;
  let hi = dof + 10;
  while (chiSquareSurvival(hi, dof) > p) hi *= 2;
  return bisect((x) => p - chiSquareSurvival(x, dof), 0, hi);
}

/**
 * P(X > x) for a non-central chi-square X with `dof` degrees of freedom and
 * non-centrality `lambda`, by Patnaik's approximation: X is about c times a
 * central chi-square with (dof + lambda)^2 / (dof + 2 lambda) degrees of
 * freedom, c = (dof + 2 lambda) / (dof + lambda). Within about 1% of the
 * exact power in the range the drift rule uses.
 */
export function noncentralChiSquareSurvival(x: number, dof: number, lambda: number): number {
  const c = (dof + 2 * lambda) / (dof + lambda);
  const nu = (dof + lambda) ** 2 / (dof + 2 * lambda);
  return chiSquareSurvival(x / c, nu);
}

/**
 * The non-centrality at which a chi-square test with `dof` degrees of freedom
 * at level `alpha` rejects with probability `power`: the sample size x
 * squared effect a test needs, so a minimum detectable effect follows from
 * it.
 */
export function noncentralityForPower(alpha: number, dof: number, power = 0.8): number {
  const critical = chiSquareUpperQuantile(alpha, dof);
  if (!Number.isFinite(critical)) return NaN;
  let hi = critical + 10;
  while (noncentralChiSquareSurvival(critical, dof, hi) < power) hi *= 2;
  return bisect((l) => noncentralChiSquareSurvival(critical, dof, l) - power, 0, hi);
}
