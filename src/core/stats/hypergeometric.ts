import gammaln from '@stdlib/math-base-special-gammaln';

/**
 * Exact two-sided p-value of a 2 x 2 table (a conditional, Fisher-type test):
 * `x` of the `n` current values fall in a category that holds `k` of all
 * `total` values; under no change X is hypergeometric (total, k, n). Two-sided
 * by doubling the smaller tail, capped at 1 (the "central" convention: never
 * below the exact level, so calibrated however sparse the category). Terms are
 * summed outward from the observed count by the pmf's ratio recursion until
 * they stop mattering.
 */
export function hypergeometricTwoSided(x: number, n: number, k: number, total: number): number {
  const lo = Math.max(0, n + k - total);
  const hi = Math.min(n, k);
  if (hi <= lo) return 1;
  const logPmf = (v: number): number =>
    logChoose(k, v) + logChoose(total - k, n - v) - logChoose(total, n);
  const p0 = Math.exp(logPmf(x));
  // P(X <= x) and P(X >= x), each including the observed term.
  let lower = p0;
  let term = p0;
  for (let v = x; v > lo; v--) {
    // p(v - 1) / p(v) = v (total - k - n + v) / ((k - v + 1) (n - v + 1))
    term *= (v * (total - k - n + v)) / ((k - v + 1) * (n - v + 1));
    lower += term;
    if (term < lower * 1e-17) break;
  }
  let upper = p0;
  term = p0;
  for (let v = x; v < hi; v++) {
    // p(v + 1) / p(v) = (k - v) (n - v) / ((v + 1) (total - k - n + v + 1))
    term *= ((k - v) * (n - v)) / ((v + 1) * (total - k - n + v + 1));
    upper += term;
    if (term < upper * 1e-17) break;
  }
  return Math.min(1, 2 * Math.min(lower, upper));
}

function logChoose(a: number, b: number): number {
  return gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1);
}
