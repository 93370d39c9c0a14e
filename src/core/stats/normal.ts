import erfc from '@stdlib/math-base-special-erfc';

/** P(Z > z) for a standard normal Z, accurate far into the tail (through erfc). */
export function normalSurvival(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** Two-sided p-value of a standard normal statistic: P(|Z| >= |z|). */
export function normalTwoSided(z: number): number {
  if (Number.isNaN(z)) return NaN;
  return Math.min(1, 2 * normalSurvival(Math.abs(z)));
}

/**
 * The z with P(Z > z) = p (the upper-tail quantile), for 0 < p < 1: Acklam's
 * rational approximation refined by two Newton steps on {@link normalSurvival},
 * which brings it to about 1e-12 relative error down to p = 1e-300.
 */
export function normalUpperQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return Infinity;
    if (p === 1) return -Infinity;
    return NaN;
  }
  let z = -acklam(p);
  for (let i = 0; i < 2; i++) {
    const f = normalSurvival(z) - p;
    const density = Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
    if (density === 0) break;
    z += f / density;
  }
  return z;
}

// Lower-tail quantile: Acklam (2003), relative error below 1.15e-9 before refinement.
function acklam(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
