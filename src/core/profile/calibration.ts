import { riditScores } from '../stats/binned-rank-tests.js';

/**
 * What the reference says about the drift rule's units and power, stored in
 * the profile when it is built (older profiles compute it on first use).
 */
export interface NumericCalibration {
  /**
   * The reference's typical deviation: mean absolute deviation from its
   * median. The numeric effect (Wasserstein distance) is measured in these
   * units, so stretching a feature's spread by 1 + lambda is an effect of
   * lambda, and a shift by delta typical deviations an effect of delta,
   * whatever the distribution's shape (the standard deviation would make
   * heavy-tailed features look unchanged).
   */
  readonly spread: number;
  /**
   * Standard error of a location shift (in units of {@link spread}) as the
   * location test sees it, per unit of sqrt(1/n + 1/m): the standard
   * deviation of the reference's ridit scores divided by how fast their mean
   * moves per unit of shift (spread x the integral of the squared density,
   * estimated on the interior quantile bins). Infinity (stored as absent) when
   * the reference has no usable interior bin.
   */
  readonly locationNoise: number;
}

/** The inputs of {@link computeNumericCalibration}: a numeric profile's bins and a quantile function. */
export interface CalibrationSource {
  readonly edges: readonly number[];
  readonly counts: readonly number[];
  readonly calibration?: Partial<NumericCalibration>;
}

/** Quantile function of the reference (its digest's). */
export type QuantileFunction = (q: number) => number;

const GRID = 2000;

/** Mean absolute deviation from the median, from a quantile function (midpoint rule on a fine grid). */
export function meanAbsoluteDeviation(quantile: QuantileFunction): number {
  const median = quantile(0.5);
  let sum = 0;
  for (let i = 0; i < GRID; i++) sum += Math.abs(quantile((i + 0.5) / GRID) - median);
  return sum / GRID;
}

/** Computes {@link NumericCalibration} from a reference's quantile bins and quantile function. */
export function computeNumericCalibration(source: CalibrationSource, quantile: QuantileFunction): NumericCalibration {
  const { edges, counts } = source;
  let m = 0;
  for (const c of counts) m += c;
  const spread = m === 0 ? 0 : meanAbsoluteDeviation(quantile);
  if (m === 0 || !(spread > 0)) return { spread, locationNoise: Infinity };
  const s = riditScores(counts);
  let mean = 0;
  for (let i = 0; i < counts.length; i++) mean += (counts[i] / m) * s[i];
  let variance = 0;
  for (let i = 0; i < counts.length; i++) variance += (counts[i] / m) * (s[i] - mean) ** 2;
  // Bin i covers [edges[i-1], edges[i]); the outer bins are open and left out, and so is a bin
  // holding more than 1.5 times the median bin's share: its mass is a tie (a point mass, such as
  // the zeros of a zero-inflated feature), which a small shift does not move across an edge.
  // Both err on the cautious side.
  const shares = counts.map((c) => c / m).sort((a, b) => a - b);
  const median = shares[shares.length >> 1];
  let densitySq = 0;
  for (let i = 1; i < counts.length - 1; i++) {
    const width = edges[i] - edges[i - 1];
    const share = counts[i] / m;
    if (width > 0 && share <= 1.5 * median) densitySq += share ** 2 / width;
  }
  const sensitivity = spread * densitySq;
  return { spread, locationNoise: sensitivity > 0 ? Math.sqrt(variance) / sensitivity : Infinity };
}

const cache = new WeakMap<object, NumericCalibration>();

/** The profile's stored calibration, or one computed once per profile object. */
export function numericCalibration(source: CalibrationSource, quantile: QuantileFunction): NumericCalibration {
  const stored = source.calibration;
  if (stored && typeof stored.spread === 'number') {
    return { spread: stored.spread, locationNoise: typeof stored.locationNoise === 'number' ? stored.locationNoise : Infinity };
  }
  let c = cache.get(source);
  if (!c) {
    c = computeNumericCalibration(source, quantile);
    cache.set(source, c);
  }
  return c;
}
