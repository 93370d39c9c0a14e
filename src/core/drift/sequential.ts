/**
 * Sequential evidence for windows too small to see an effect at the floor:
 * a two-sided CUSUM of each per-window trend statistic (the location and
 * scale z of a numeric feature, the z of a categorical feature's largest
 * category share; standard normal when nothing changed). A persistent shift adds its mean z every window and
 * the sum crosses the threshold after a few windows, where one window alone
 * never reaches the budget's level.
 */

/** CUSUM state of one feature: the upward and downward sums and the run each belongs to. */
export interface SequentialState {
  /** Upward CUSUM. */
  up: number;
  /** Downward CUSUM. */
  down: number;
  /** Windows and sum of z since the upward sum last stood at 0. */
  upRun?: { windows: number; sumZ: number };
  /** Windows and sum of z since the downward sum last stood at 0. */
  downRun?: { windows: number; sumZ: number };
}

/**
 * Default reference value k: about half the mean z a window of 200 values
 * sees of a shift at 1.5 floors where the location test is sharp; with the
 * reference's share added ({@link sequentialReferenceValue}) it is near the
 * shortest delay for shifts of 1.3 to 2 z per window at the run lengths the
 * default budget needs (k from 0.8 to 1.1 are within 2 points of detection
 * within 10 windows of each other).
 */
export const DEFAULT_SEQUENTIAL_K = 0.7;

/**
 * Share of a window's z statistic that comes from the reference,
 * sqrt((1/m) / (1/n + 1/m)): every window is compared with the same
 * reference, so its sampling error enters every z alike, as a persistent
 * shift of that many standard deviations (drawn once, when the reference was
 * sampled).
 */
export function referenceErrorShare(n: number, m: number): number {
  return Math.sqrt(1 / m / (1 / n + 1 / m));
}

/**
 * The reference value k for windows of n values against a reference of m:
 * {@link DEFAULT_SEQUENTIAL_K} plus twice the reference's share of the z
 * statistic ({@link referenceErrorShare}), so the reference's own sampling
 * error rarely accumulates like a drift; the threshold accounts for the rest
 * ({@link sequentialThreshold}).
 */
export function sequentialReferenceValue(n: number, m: number): number {
  return DEFAULT_SEQUENTIAL_K + 2 * referenceErrorShare(n, m);
}

/** Result of {@link sequentialStep}. */
export interface SequentialStep {
  state: SequentialState;
  /** True when a sum crossed the threshold in this window. */
  fired: boolean;
  /** The crossing direction, when fired. */
  direction?: 'up' | 'down';
  /** Mean unclipped z over the run that crossed (with the window's standard error it estimates the shift). */
  meanZ?: number;
  /** The larger of the two sums after this window. */
  statistic: number;
}

/** Largest |z| one window adds: a single extreme window is the single-window tests' business. */
export const SEQUENTIAL_Z_CLIP = 3;

/** How far above the threshold a sum may climb, so that it falls back within a few clean windows once a drift ends. */
export const SEQUENTIAL_HEADROOM = 2;

/**
 * One window of the CUSUM on z clipped to +-{@link SEQUENTIAL_Z_CLIP}:
 * S+ = max(0, S+ + z - k), S- = max(0, S- - z - k); fires while either is at
 * or above `h`. Sums are capped at h + {@link SEQUENTIAL_HEADROOM} (which does
 * not change when they first cross), so a verdict held by the CUSUM clears a
 * few windows after the drift stops and the alert then resolves by the usual
 * hysteresis.
 */
export function sequentialStep(state: SequentialState, rawZ: number, k: number, h: number): SequentialStep {
  if (!Number.isFinite(rawZ)) return { state, fired: false, statistic: Math.max(state.up, state.down) };
  const z = Math.max(-SEQUENTIAL_Z_CLIP, Math.min(SEQUENTIAL_Z_CLIP, rawZ));
  const cap = h + SEQUENTIAL_HEADROOM;
  const up = Math.min(cap, Math.max(0, state.up + z - k));
  const down = Math.min(cap, Math.max(0, state.down - z - k));
  // The run's z are summed unclipped: the clip bounds what one window adds to the CUSUM, not the size
  // of the effect the run measures (a zero-inflated feature's shift can move z by 10 a window).
  const upRun = up === 0 ? undefined : { windows: (state.up > 0 ? (state.upRun?.windows ?? 0) : 0) + 1, sumZ: (state.up > 0 ? (state.upRun?.sumZ ?? 0) : 0) + rawZ };
  const downRun = down === 0 ? undefined : { windows: (state.down > 0 ? (state.downRun?.windows ?? 0) : 0) + 1, sumZ: (state.down > 0 ? (state.downRun?.sumZ ?? 0) : 0) + rawZ };
  const next: SequentialState = { up, down, ...(upRun ? { upRun } : {}), ...(downRun ? { downRun } : {}) };
  const statistic = Math.max(up, down);
  if (up >= h && up >= down) return { state: next, fired: true, direction: 'up', meanZ: upRun!.sumZ / upRun!.windows, statistic };
  if (down >= h) return { state: next, fired: true, direction: 'down', meanZ: downRun!.sumZ / downRun!.windows, statistic };
  return { state: next, fired: false, statistic };
}

/**
 * Siegmund's approximation of a one-sided CUSUM's average run length with no
 * change, for standard normal increments: (e^(2 k b) - 2 k b - 1) / (2 k^2)
 * with b = h + 1.166. k below 0 is a drift towards the threshold (the
 * formula holds for both signs).
 */
export function nullRunLength(k: number, h: number): number {
  const b = h + 1.166;
  if (Math.abs(k) < 1e-9) return b * b;
  return (Math.exp(2 * k * b) - 2 * k * b - 1) / (2 * k * k);
}

/** Half-width, in standard deviations of the reference's error, of the grid {@link falseAlarmRate} integrates over. */
const BIAS_GRID_SD = 8;
const BIAS_GRID_STEPS = 320;

/**
 * Probability per window that one one-sided CUSUM (reference value k,
 * threshold h) crosses with no change, averaged over the reference's
 * sampling error: a window's z is b + e, with b ~ N(0, rho^2) the persistent
 * part from the reference ({@link referenceErrorShare}) and e ~ N(0, 1 -
 * rho^2) the window's own; given b the rate is 1 / (Siegmund's run length
 * for increments N(b, 1 - rho^2)). This is the promise the single-window
 * tests make too (their level holds averaged over the reference's error).
 * rho = 0 gives 1 / {@link nullRunLength}.
 */
export function falseAlarmRate(k: number, h: number, rho = 0): number {
  if (!(rho > 0)) return 1 / nullRunLength(k, h);
  const sd = Math.sqrt(1 - rho * rho);
  const dx = (2 * BIAS_GRID_SD) / BIAS_GRID_STEPS;
  let rate = 0;
  for (let i = 0; i <= BIAS_GRID_STEPS; i++) {
    const x = -BIAS_GRID_SD + i * dx;
    const weight = (i === 0 || i === BIAS_GRID_STEPS ? 0.5 : 1) * dx * Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
    rate += weight / nullRunLength((k - rho * x) / sd, h / sd);
  }
  return rate;
}

/**
 * False drift verdicts per window of one CUSUM over its
 * {@link falseAlarmRate}: a crossing stays at or above h for about 1.45
 * windows while its overshoot lasts (the budget counts evaluations, so each
 * crossing is charged for them), and averaged over the reference's error
 * Siegmund's rate is 1.1 to 1.3 times too low at h = 4 to 6. Measured by
 * simulation with k = 0.98, rho = 0.14 and z clipped at
 * +-{@link SEQUENTIAL_Z_CLIP} (1.85 at h = 4.4, 1.67 at h = 5.8), rounded up;
 * tests/unit/core/stats/drift-tests.test.ts checks it.
 */
export const SEQUENTIAL_RATE_FACTOR = 2;

/**
 * The threshold h that holds `statistics` one-sided CUSUMs together to at
 * most `alpha` false drift verdicts per window: each one's
 * {@link falseAlarmRate} (averaged over the reference's error when rho > 0)
 * times {@link SEQUENTIAL_RATE_FACTOR} is at most alpha / statistics.
 */
export function sequentialThreshold(alpha: number, statistics: number, k = DEFAULT_SEQUENTIAL_K, rho = 0): number {
  const target = alpha / (Math.max(1, statistics) * SEQUENTIAL_RATE_FACTOR);
  let lo = 0;
  let hi = 200;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (falseAlarmRate(k, mid, rho) <= target) hi = mid;
    else lo = mid;
  }
  return hi;
}
