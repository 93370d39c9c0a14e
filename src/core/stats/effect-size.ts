import { evalKnotsLeft, evalKnotsRight, sumOverKnotIntervals, type CdfKnots } from './merging-digest.js';
import type { CdfSketch } from './ks.js';

/** Multiple of the no-change variance of F_cur - F_ref removed at each point by {@link wassersteinAboveNoise}. */
export const NOISE_FACTOR = 2;

/**
 * Wasserstein distance above sampling noise, divided by `unit`: the integral
 * of sqrt(max(0, d(x)^2 - 2 s(x)^2)) dx, where d(x) = F_cur(x) - F_ref(x) and
 * s(x)^2 = F_ref(x) (1 - F_ref(x)) (1/n + 1/m) is the variance of d(x) when
 * nothing changed. The plain distance (the integral of |d(x)|) grows as
 * windows shrink, since two samples of one distribution are never equal;
 * removing the noise's share point by point keeps the estimate near 0
 * without a change (about 0.08 s(x) on average) and close to the true |d(x)|
 * where a change stands well above the noise, wherever on the axis change
 * and noise sit (the factor 2 was chosen with `npm run bench:detection`: 1
 * let noise lift changes at half the floor over it in small windows). Integrated over the union of both sketches' knots with
 * Simpson's rule on each interval. NaN when a side is empty or `unit` is not
 * positive.
 */
export function wassersteinAboveNoise(reference: CdfSketch, current: CdfSketch, unit: number): number {
  const a = reference.knots();
  const b = current.knots();
  if (a.total === 0 || b.total === 0 || !(unit > 0)) return NaN;
  const noise = 1 / a.total + 1 / b.total;
  const excess = (fa: number, fb: number): number => {
    const d = fa - fb;
    return Math.sqrt(Math.max(0, d * d - NOISE_FACTOR * Math.max(0, fa * (1 - fa)) * noise));
  };
  const w = sumOverKnotIntervals(a, b, (x0, x1) => {
    const mid = (x0 + x1) / 2;
    const g0 = excess(rightShare(a, x0), rightShare(b, x0));
    const gm = excess(rightShare(a, mid), rightShare(b, mid));
    const g1 = excess(leftShare(a, x1), leftShare(b, x1));
    return ((x1 - x0) * (g0 + 4 * gm + g1)) / 6;
  });
  return w / unit;
}

function rightShare(k: CdfKnots, x: number): number {
  return evalKnotsRight(k, x) / k.total;
}

function leftShare(k: CdfKnots, x: number): number {
  return evalKnotsLeft(k, x) / k.total;
}

/** Total variation distance between two count vectors on the same cells: half the L1 distance of their shares. */
export function totalVariation(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  const [m, n] = totals(reference, current);
  if (m === 0 || n === 0) return NaN;
  let d = 0;
  for (let i = 0; i < reference.length; i++) d += Math.abs(current[i] / n - reference[i] / m);
  return d / 2;
}

/**
 * Total variation distance above sampling noise: the share that moved into
 * categories, and the share that moved out of them, each counted only beyond
 * one standard error per category (s_j = sqrt(p_j (1 - p_j) (1/n + 1/m)), p_j
 * the pooled share), and the larger of the two. Mass that leaves one category
 * for many small ones is measured on the side where it is concentrated, so a
 * real move is not shrunk away, while noise spread over many categories
 * contributes little. NaN when a side is empty.
 */
export function totalVariationAboveNoise(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  const [m, n] = totals(reference, current);
  if (m === 0 || n === 0) return NaN;
  const noise = 1 / n + 1 / m;
  let up = 0;
  let down = 0;
  for (let i = 0; i < reference.length; i++) {
    const p = (reference[i] + current[i]) / (m + n);
    const se = Math.sqrt(p * (1 - p) * noise);
    const d = current[i] / n - reference[i] / m;
    if (d > se) up += d - se;
    else if (-d > se) down += -d - se;
  }
  return Math.max(up, down);
}

function totals(reference: ArrayLike<number>, current: ArrayLike<number>): [m: number, n: number] {
  let m = 0;
  let n = 0;
  for (let i = 0; i < reference.length; i++) {
    m += reference[i];
    n += current[i];
  }
  return [m, n];
}
