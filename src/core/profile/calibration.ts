import { riditScores, scaleScores } from '../stats/binned-rank-tests.js';

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
  /**
   * The same for the scale test and a stretch about the median by 1 + lambda
   * (an effect of lambda): the standard deviation of the scale scores over
   * how fast their mean moves per unit of lambda, read on the reference's
   * quantile grid and bins (ties stay put).
   */
  readonly scaleNoise: number;
  /**
   * The chi-square on the bins against a change of shape: a share w of the
   * values moving 3 typical deviations up or down (a new bump; an effect of
   * 3 w), the less visible direction of the two. The test's non-centrality
   * is (effect / shapeNoise)^2 / (1/n + 1/m), so the minimum detectable
   * effect is shapeNoise sqrt(lambda at 80% power) sqrt(1/n + 1/m). Computed
   * on the reference's quantile grid and bins, as the test counts them.
   */
  readonly shapeNoise: number;
  /**
   * Standard deviation of the effect estimate itself (Wasserstein distance in
   * typical deviations) per unit of sqrt(1/n + 1/m): the reference's standard
   * deviation over {@link spread} for a shift or a bump (the difference of
   * the CDFs keeps one sign), and that of |x - median| for a stretch.
   * Heavy tails make the distance noisy even where the rank tests are
   * sharp.
   */
  readonly effectNoise: { readonly location: number; readonly scale: number };
}

/** The inputs of {@link computeNumericCalibration}: a numeric profile's bins and a quantile function. */
export interface CalibrationSource {
  readonly edges: readonly number[];
  readonly counts: readonly number[];
  readonly calibration?: StoredCalibration;
}

/** The calibration as a profile stores it (JSON has no Infinity: a noise a test cannot see is absent). */
export type StoredCalibration = Partial<Omit<NumericCalibration, 'effectNoise'>> & { readonly effectNoise?: Partial<NumericCalibration['effectNoise']> };

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

/** Mean and standard deviation of a reference's bin scores. */
function scoreMoments(counts: readonly number[], scores: ArrayLike<number>, m: number): { mean: number; sd: number } {
  let mean = 0;
  for (let i = 0; i < counts.length; i++) mean += (counts[i] / m) * scores[i];
  let variance = 0;
  for (let i = 0; i < counts.length; i++) variance += (counts[i] / m) * (scores[i] - mean) ** 2;
  return { mean, sd: Math.sqrt(variance) };
}

/**
 * Interior bins whose density the tests can use: bin i covers [edges[i-1],
 * edges[i]); the outer bins are open and left out, and so is a bin holding
 * more than 1.5 times the median bin's share: its mass is a tie (a point
 * mass, such as the zeros of a zero-inflated feature), which a small change
 * does not move across an edge. Both err on the cautious side.
 */
function usableBins(edges: readonly number[], counts: readonly number[], m: number): { share: number; width: number }[] {
  const out: { share: number; width: number }[] = [];
  const ties = tieBins(counts, m);
  for (let i = 1; i < counts.length - 1; i++) {
    const width = edges[i] - edges[i - 1];
    if (width > 0 && !ties[i]) out.push({ share: counts[i] / m, width });
  }
  return out;
}

/** Bins holding more than 1.5 times the median bin's share: ties (point masses). */
function tieBins(counts: readonly number[], m: number): boolean[] {
  const shares = counts.map((c) => c / m).sort((a, b) => a - b);
  const median = shares[shares.length >> 1];
  return counts.map((c) => c / m > 1.5 * median);
}

/** The stretch {@link NumericCalibration.scaleNoise} differentiates at: 10% (an effect of 0.1, the default WARNING floor). */
const STRETCH = 0.1;

/**
 * How fast the mean scale score moves per unit of stretch about the median,
 * read from the quantile grid as the test scores it: (mean score after a
 * stretch by 1 + {@link STRETCH} - mean score before) / STRETCH. Values in
 * tie bins stay where they are (a point mass does not spread).
 */
function stretchSensitivity(edges: readonly number[], counts: readonly number[], m: number, grid: readonly number[], median: number): number {
  const scores = scaleScores(counts);
  const ties = tieBins(counts, m);
  let moved = 0;
  for (const x of grid) {
    const from = binOf(edges, x);
    if (ties[from]) continue;
    moved += scores[binOf(edges, median + (x - median) * (1 + STRETCH))] - scores[from];
  }
  return moved / grid.length / STRETCH;
}

function binOf(edges: readonly number[], x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x >= edges[mid]) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Chi-square divergence sum((q_i - p_i)^2 / p_i) of the reference's bins when
 * all their mass moves by `offset` (q) against where it was (p), both read
 * from the quantile grid; the less visible of up and down. A share w moved
 * gives a bin chi-square of non-centrality w^2 times this over (1/n + 1/m).
 */
function bumpDivergence(edges: readonly number[], counts: readonly number[], m: number, grid: readonly number[], offset: number): number {
  const divergence = (shift: number): number => {
    const delta = new Array<number>(counts.length).fill(0);
    for (const x of grid) {
      delta[binOf(edges, x + shift)] += 1 / grid.length;
      delta[binOf(edges, x)] -= 1 / grid.length;
    }
    let d = 0;
    for (let i = 0; i < counts.length; i++) if (counts[i] > 0) d += delta[i] ** 2 / (counts[i] / m);
    return d;
  };
  return Math.min(divergence(offset), divergence(-offset));
}

/** Standard deviations of the values and of their distance from the median, from a quantile grid. */
function gridDeviations(grid: readonly number[], median: number): { sd: number; sdAbs: number } {
  let mean = 0;
  let meanAbs = 0;
  for (const x of grid) {
    mean += x / grid.length;
    meanAbs += Math.abs(x - median) / grid.length;
  }
  let v = 0;
  let vAbs = 0;
  for (const x of grid) {
    v += (x - mean) ** 2 / grid.length;
    vAbs += (Math.abs(x - median) - meanAbs) ** 2 / grid.length;
  }
  return { sd: Math.sqrt(v), sdAbs: Math.sqrt(vAbs) };
}

/** A bump of {@link NumericCalibration.shapeNoise} moves this many typical deviations. */
export const SHAPE_BUMP_OFFSET = 3;

const noiseOf = (sd: number, sensitivity: number): number => (sensitivity > 0 ? sd / sensitivity : Infinity);

/** Computes {@link NumericCalibration} from a reference's quantile bins and quantile function. */
export function computeNumericCalibration(source: CalibrationSource, quantile: QuantileFunction): NumericCalibration {
  const { edges, counts } = source;
  let m = 0;
  for (const c of counts) m += c;
  const spread = m === 0 ? 0 : meanAbsoluteDeviation(quantile);
  const none = { spread, locationNoise: Infinity, scaleNoise: Infinity, shapeNoise: Infinity, effectNoise: { location: Infinity, scale: Infinity } };
  if (m === 0 || !(spread > 0)) return none;
  const ridits = riditScores(counts);
  const loc = scoreMoments(counts, ridits, m);
  const scale = scoreMoments(counts, scaleScores(counts), m);
  const median = quantile(0.5);
  let densitySq = 0;
  for (const b of usableBins(edges, counts, m)) densitySq += b.share ** 2 / b.width;
  const grid = Array.from({ length: GRID }, (_, i) => quantile((i + 0.5) / GRID));
  const stretch = stretchSensitivity(edges, counts, m, grid, median);
  const bump = bumpDivergence(edges, counts, m, grid, SHAPE_BUMP_OFFSET * spread);
  const dev = gridDeviations(grid, median);
  return {
    spread,
    locationNoise: noiseOf(loc.sd, spread * densitySq),
    scaleNoise: noiseOf(scale.sd, stretch),
    shapeNoise: bump > 0 ? SHAPE_BUMP_OFFSET / Math.sqrt(bump) : Infinity,
    effectNoise: { location: dev.sd / spread, scale: dev.sdAbs / spread },
  };
}

/** The calibration as a profile stores it: every finite field (JSON has no Infinity). */
export function storedCalibration(c: NumericCalibration): StoredCalibration {
  const finite = (x: number): number | undefined => (Number.isFinite(x) ? x : undefined);
  const out: Record<string, unknown> = { spread: c.spread };
  for (const key of ['locationNoise', 'scaleNoise', 'shapeNoise'] as const) if (finite(c[key]) !== undefined) out[key] = c[key];
  const effect: Record<string, number> = {};
  for (const key of ['location', 'scale'] as const) if (finite(c.effectNoise[key]) !== undefined) effect[key] = c.effectNoise[key];
  out.effectNoise = effect;
  return out as StoredCalibration;
}

const cache = new WeakMap<object, NumericCalibration>();

/** The profile's stored calibration, or one computed once per profile object. */
export function numericCalibration(source: CalibrationSource, quantile: QuantileFunction): NumericCalibration {
  const stored = source.calibration;
  // Profiles stored before the scale, shape and effect noises were calibrated compute them on first use.
  if (stored && typeof stored.spread === 'number' && stored.effectNoise !== undefined) {
    const num = (x: number | undefined): number => (typeof x === 'number' ? x : Infinity);
    return {
      spread: stored.spread,
      locationNoise: num(stored.locationNoise),
      scaleNoise: num(stored.scaleNoise),
      shapeNoise: num(stored.shapeNoise),
      effectNoise: { location: num(stored.effectNoise.location), scale: num(stored.effectNoise.scale) },
    };
  }
  let c = cache.get(source);
  if (!c) {
    c = computeNumericCalibration(source, quantile);
    cache.set(source, c);
  }
  return c;
}
