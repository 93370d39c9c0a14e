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
 * sees of a shift at 1.5 floors where the location test is sharp; 0.7 gave
 * the shortest delay for shifts of 1.5 to 3 z per window at the run lengths
 * the default budget needs (0.5 trades a window more there for half a
 * window less at 1.2 z).
 */
export const DEFAULT_SEQUENTIAL_K = 0.7;

/**
 * The reference value k for windows of n values against a reference of m:
 * {@link DEFAULT_SEQUENTIAL_K} plus twice the share of the z statistic's
 * spread that comes from the reference, sqrt((1/m) / (1/n + 1/m)). Every
 * window is compared with the same reference, so the reference's own
 * sampling error enters every z alike, as a small persistent shift; without
 * the margin a CUSUM accumulates it and fires far more often than its run
 * length promises.
 */
export function sequentialReferenceValue(n: number, m: number): number {
  return DEFAULT_SEQUENTIAL_K + 2 * Math.sqrt(1 / m / (1 / n + 1 / m));
}

/** Result of {@link sequentialStep}. */
export interface SequentialStep {
  state: SequentialState;
  /** True when a sum crossed the threshold in this window. */
  fired: boolean;
  /** The crossing direction, when fired. */
  direction?: 'up' | 'down';
  /** Mean z over the run that crossed (with the window's standard error it estimates the shift). */
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
  const upRun = up === 0 ? undefined : { windows: (state.up > 0 ? (state.upRun?.windows ?? 0) : 0) + 1, sumZ: (state.up > 0 ? (state.upRun?.sumZ ?? 0) : 0) + z };
  const downRun = down === 0 ? undefined : { windows: (state.down > 0 ? (state.downRun?.windows ?? 0) : 0) + 1, sumZ: (state.down > 0 ? (state.downRun?.sumZ ?? 0) : 0) + z };
  const next: SequentialState = { up, down, ...(upRun ? { upRun } : {}), ...(downRun ? { downRun } : {}) };
  const statistic = Math.max(up, down);
  if (up >= h && up >= down) return { state: next, fired: true, direction: 'up', meanZ: upRun!.sumZ / upRun!.windows, statistic };
  if (down >= h) return { state: next, fired: true, direction: 'down', meanZ: downRun!.sumZ / downRun!.windows, statistic };
  return { state: next, fired: false, statistic };
}

/**
 * Siegmund's approximation of a one-sided CUSUM's average run length with no
 * change, for standard normal increments: (e^(2 k b) - 2 k b - 1) / (2 k^2)
 * with b = h + 1.166.
 */
export function nullRunLength(k: number, h: number): number {
  const b = h + 1.166;
  return (Math.exp(2 * k * b) - 2 * k * b - 1) / (2 * k * k);
}

/**
 * The threshold h that holds `statistics` one-sided CUSUMs together to at
 * most `alpha` false crossings per window: each one's null average run
 * length is at least statistics / alpha windows.
 */
export function sequentialThreshold(alpha: number, statistics: number, k = DEFAULT_SEQUENTIAL_K): number {
  const target = Math.max(1, statistics) / alpha;
  let lo = 0;
  let hi = 200;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (nullRunLength(k, mid) >= target) hi = mid;
    else lo = mid;
  }
  return hi;
}
