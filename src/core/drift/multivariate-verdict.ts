import gammainc from '@stdlib/math-base-special-gammainc';
import type { MultivariateProfile } from '../profile/multivariate-profile.js';
import { normalUpperQuantile } from '../stats/normal.js';
import type { ReconstructionSummary } from '../stats/reconstruction-error.js';
import type { MultivariateResult, Severity } from './types.js';

/** How the verdict is taken. */
export interface MultivariateRule {
  /** Per-evaluation level of the test (its share of the model's budget). */
  readonly level: number;
  readonly floor: { readonly warning: number; readonly critical: number };
  /** Below this many rows the result is reported, never drift. */
  readonly minSamples: number;
}

const POWER_Z = 0.8416212335729143;

function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/**
 * Probability that the mean of n rows' errors reaches `mean` when the window
 * is drawn from the reference's law: the error of one row is approximated by
 * the gamma law with the reference's mean and variance (the squared residual
 * of near-normal features is a weighted sum of chi-squares, which this
 * matches by moments), and the mean of `nEff = 1 / (1/n + 1/m)` rows by a
 * gamma of `nEff` times its shape, so the reference's own uncertainty widens
 * the null range. One-sided: only a rise is evidence.
 */
export function reconstructionPValue(mean: number, n: number, reference: MultivariateProfile['error']): number {
  const mu = reference.mean;
  const variance = reference.variance;
  if (!(mu > 0) || !(variance > 0) || n < 1) return NaN;
  const nEff = 1 / (1 / n + 1 / reference.rows);
  const shape = (nEff * mu * mu) / variance;
  const rate = shape / mu;
  return gammainc(mean * rate, shape, true, true);
}

/**
 * The mean error whose p-value ({@link reconstructionPValue}) is `level`: the
 * upper end of the null range at n. The p-value falls as the mean rises, so
 * bisection on it (stdlib's regularized incomplete gamma) finds the point to
 * a relative 1e-10; NaN when the reference gives no law.
 */
export function reconstructionNullUpper(level: number, n: number, reference: MultivariateProfile['error']): number {
  const p = (x: number) => reconstructionPValue(x, n, reference);
  if (!(level > 0 && level < 1) || Number.isNaN(p(reference.mean))) return NaN;
  let lo = 0;
  let hi = reference.mean;
  while (p(hi) > level && hi < 1e12 * reference.mean) {
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > 1e-10 * hi) {
    const mid = (lo + hi) / 2;
    if (p(mid) > level) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The MULTIVARIATE_DRIFT verdict of a window: drift when its mean
 * reconstruction error is significantly above the reference's at the
 * window's n (level from the model's budget) and its relative rise reaches
 * the WARNING floor (CRITICAL at the CRITICAL floor).
 */
export function judgeMultivariate(summary: ReconstructionSummary, profile: MultivariateProfile, rule: MultivariateRule): MultivariateResult {
  const ref = profile.error;
  const n = summary.count;
  const mean = summary.mean;
  const effect = n > 0 && ref.mean > 0 ? mean / ref.mean - 1 : NaN;
  const pValue = n > 0 ? reconstructionPValue(mean, n, ref) : NaN;
  const cv = ref.mean > 0 ? Math.sqrt(ref.variance) / ref.mean : NaN;
  const mde = n > 0 ? (normalUpperQuantile(rule.level) + POWER_Z) * cv * Math.sqrt(1 / n + 1 / ref.rows) : Infinity;
  const significant = pValue <= rule.level && n >= rule.minSamples;
  let severity: Severity = 'NONE';
  if (significant && effect >= rule.floor.critical) severity = 'CRITICAL';
  else if (significant && effect >= rule.floor.warning) severity = 'WARNING';
  const verdict = severity !== 'NONE' ? 'drift' : !(mde <= rule.floor.warning) ? 'insufficient' : 'ok';
  return {
    verdict,
    severity,
    n,
    incomplete: summary.incomplete,
    meanError: finite(mean),
    stdError: finite(Math.sqrt(summary.variance)),
    reference: {
      mean: ref.mean,
      std: Math.sqrt(ref.variance),
      rows: ref.rows,
      components: profile.components.length,
      features: profile.features.length,
      explained: profile.explained,
    },
    effect: finite(effect),
    pValue: finite(pValue),
    level: rule.level,
    floor: { warning: rule.floor.warning, critical: rule.floor.critical },
    mde: finite(mde),
    nullUpper: n > 0 ? finite(reconstructionNullUpper(rule.level, n, ref)) : null,
  };
}
