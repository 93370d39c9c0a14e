import { riditScores } from '../stats/binned-rank-tests.js';

/**
 * What the reference says about the power of the location test, stored in
 * the profile when it is built (older profiles compute it on first use).
 */
export interface NumericCalibration {
  /**
   * Standard error of a location shift (in reference standard deviations)
   * as the location test sees it, per unit of sqrt(1/n + 1/m): the standard
   * deviation of the reference's ridit scores divided by how fast their mean
   * moves per standard deviation of shift (std x the integral of the squared
   * density, estimated on the interior quantile bins). About 1 for a normal
   * reference, below 1 for skewed or heavy-tailed ones; Infinity when the
   * reference has no interior bin of positive width.
   */
  readonly locationNoise: number;
}

/** The inputs of {@link computeNumericCalibration}: a numeric profile's bins and spread. */
export interface CalibrationSource {
  readonly edges: readonly number[];
  readonly counts: readonly number[];
  readonly std: number;
  readonly calibration?: NumericCalibration;
}

/** Computes {@link NumericCalibration} from a reference's quantile bins. */
export function computeNumericCalibration(source: CalibrationSource): NumericCalibration {
  const { edges, counts, std } = source;
  let m = 0;
  for (const c of counts) m += c;
  if (m === 0 || !(std > 0)) return { locationNoise: Infinity };
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
  const sensitivity = std * densitySq;
  return { locationNoise: sensitivity > 0 ? Math.sqrt(variance) / sensitivity : Infinity };
}

const cache = new WeakMap<object, NumericCalibration>();

/** The profile's stored calibration, or one computed once per profile object. */
export function numericCalibration(source: CalibrationSource): NumericCalibration {
  if (source.calibration && typeof source.calibration.locationNoise === 'number') return source.calibration;
  let c = cache.get(source);
  if (!c) {
    c = computeNumericCalibration(source);
    cache.set(source, c);
  }
  return c;
}
