/**
 * Cox's test of calibration: the labels are regressed on the scores' logits,
 * P(y = 1) = sigmoid(a + b logit(score)), by maximum likelihood (Newton's
 * method on two parameters), and the fit is compared with the scores taken
 * as they are (a = 0, b = 1) by a likelihood-ratio test with 2 degrees of
 * freedom. It has power against the usual miscalibrations: scores too
 * extreme or too timid (b away from 1) and shifted (a away from 0).
 *
 * Cox, D. R. (1958), "Two further applications of a model for binary
 * regression", Biometrika 45, 562-565.
 */

/** Scores are clamped this far inside (0, 1) before their logit is taken. */
const EPS = 1e-6;

/** The 95% quantile of chi-square with 2 degrees of freedom (-2 ln 0.05). */
export const CHI_SQUARE_2_95 = -2 * Math.log(0.05);

export interface CalibrationTest {
  /** The fitted intercept and slope on the logit scale (0 and 1 for calibrated scores). */
  readonly intercept: number;
  readonly slope: number;
  /** Likelihood-ratio statistic against a = 0, b = 1 (chi-square with 2 degrees of freedom under calibration). */
  readonly statistic: number;
  /** Its p-value: exp(-statistic / 2). */
  readonly pValue: number;
}

function logLik(y: ArrayLike<number>, p: (i: number) => number): number {
  let l = 0;
  for (let i = 0; i < y.length; i++) {
    const q = Math.min(1 - EPS, Math.max(EPS, p(i)));
    l += y[i] ? Math.log(q) : Math.log(1 - q);
  }
  return l;
}

/** Cox's calibration test of `scores` (probabilities) against the 0/1 `labels`. */
export function coxCalibrationTest(scores: ArrayLike<number>, labels: ArrayLike<number>): CalibrationTest {
  const n = scores.length;
  const z = Float64Array.from({ length: n }, (_, i) => {
    const s = Math.min(1 - EPS, Math.max(EPS, scores[i]));
    return Math.log(s / (1 - s));
  });
  let a = 0;
  let b = 1;
  for (let iter = 0; iter < 50; iter++) {
    let g0 = 0;
    let g1 = 0;
    let h00 = 0;
    let h01 = 0;
    let h11 = 0;
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-(a + b * z[i])));
      const r = labels[i] - p;
      const w = p * (1 - p);
      g0 += r;
      g1 += r * z[i];
      h00 += w;
      h01 += w * z[i];
      h11 += w * z[i] * z[i];
    }
    const det = h00 * h11 - h01 * h01;
    if (!(det > 0)) break;
    const da = (h11 * g0 - h01 * g1) / det;
    const db = (h00 * g1 - h01 * g0) / det;
    a += da;
    b += db;
    if (Math.abs(da) + Math.abs(db) < 1e-10) break;
  }
  const fitted = logLik(labels, (i) => 1 / (1 + Math.exp(-(a + b * z[i]))));
  const asIs = logLik(labels, (i) => scores[i]);
  const statistic = Math.max(0, 2 * (fitted - asIs));
  return { intercept: a, slope: b, statistic, pValue: Math.exp(-statistic / 2) };
}
