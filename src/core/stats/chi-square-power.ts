import { chiSquareSurvival } from './chi-square.js';

/**
 * Bisection for the root of an increasing `f` in [lo, hi], at most 200 halvings; it stops once the
 * midpoint is an end (the two ends are adjacent doubles), from where further halvings change nothing.
 */
function bisect(f: (x: number) => number, lo: number, hi: number): number {
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (mid === lo || mid === hi) break;
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
  const key = `${alpha} ${dof} ${power}`;
  let lambda = solved.get(key);
  if (lambda === undefined) {
    if (solved.size >= SOLVED_LIMIT) solved.clear();
    lambda = solveNoncentrality(alpha, dof, power);
    solved.set(key, lambda);
  }
  return lambda;
}

/**
 * Non-centralities already solved, by level, degrees of freedom and power: every evaluation asks
 * again for the same few (one per Bonferroni level and bin count), and each costs two bisections.
 */
const solved = new Map<string, number>();
const SOLVED_LIMIT = 4096;

function solveNoncentrality(alpha: number, dof: number, power: number): number {
  const critical = chiSquareUpperQuantile(alpha, dof);
  if (!Number.isFinite(critical)) return NaN;
  let hi = critical + 10;
  while (noncentralChiSquareSurvival(critical, dof, hi) < power) hi *= 2;
  return bisect((l) => noncentralChiSquareSurvival(critical, dof, l) - power, 0, hi);
}
