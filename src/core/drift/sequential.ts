/**
 * Sequential evidence for windows too small to see an effect at the floor:
 * a derived longer window. Each trend statistic of a feature (the location
 * and scale z of a numeric feature, its mean z where that is sharper, the z
 * of a categorical feature's largest category share; standard normal when
 * nothing changed) is kept for the last {@link SEQUENTIAL_WINDOWS} windows,
 * and their sum, standardized with the reference's shared error, is tested
 * in every evaluation. A persistent shift adds its mean z every window, so
 * ten windows see it where one window alone never reaches the budget's level.
 */
import { normalTwoSided } from '../stats/normal.js';

/**
 * Derived-window state of one trend statistic: its z and the window's n for
 * the last windows, oldest first. (States stored by the earlier CUSUM carry
 * `up` / `down` instead; they are read as empty.)
 */
export interface SequentialState {
  /** z of the last windows (at most {@link SEQUENTIAL_WINDOWS}), oldest first. */
  z?: number[];
  /** Values in each of those windows. */
  n?: number[];
  /** Each window's estimate of the effect the statistic measures (signed, floor units). */
  e?: number[];
}

/** Windows the derived window holds: a persistent drift is judged on up to this many consecutive windows. */
export const SEQUENTIAL_WINDOWS = 10;

/**
 * Largest |z| one window adds to the sum: below the derived window's level
 * at one window, so a single extreme window (the single-window tests'
 * business) can never hold the sequential verdict alone.
 */
export const SEQUENTIAL_Z_CLIP = 4;

/**
 * Share of a window's z statistic that comes from the reference,
 * sqrt((1/m) / (1/n + 1/m)): every window is compared with the same
 * reference, so its sampling error enters every z alike (a shift of that
 * many standard deviations, drawn once, when the reference was sampled).
 */
export function referenceErrorShare(n: number, m: number): number {
  return Math.sqrt(1 / m / (1 / n + 1 / m));
}

/**
 * Standard deviation of the sum of windows' z when nothing changed: window
 * i's z is rho_i B + sqrt(1 - rho_i^2) E_i with B the reference's error (shared
 * by every window) and E_i the window's own, so the variance is
 * sum(1 - rho_i^2) + (sum rho_i)^2.
 */
export function sumStandardDeviation(ns: readonly number[], m: number): number {
  let own = 0;
  let shared = 0;
  for (const n of ns) {
    const rho = referenceErrorShare(n, m);
    own += 1 - rho * rho;
    shared += rho;
  }
  return Math.sqrt(own + shared * shared);
}

/** Result of {@link sequentialStep}. */
export interface SequentialStep {
  state: SequentialState;
  /** The derived window's standardized statistic: the windows' summed (clipped) z over its null standard deviation. */
  z: number;
  /** Windows in the derived window. */
  windows: number;
  /** Mean unclipped z of those windows. */
  meanZ: number;
  /** |Mean of the windows' effect estimates|: the persistent effect the derived window measures (floor units). */
  effect: number;
}

/**
 * Adds one window's z (clipped to +-{@link SEQUENTIAL_Z_CLIP}; a non-finite
 * z counts as 0, no evidence), its n and its effect estimate to the state, drops windows beyond
 * {@link SEQUENTIAL_WINDOWS}, and returns the derived window's statistic
 * against a reference of m values: standard normal when nothing changed,
 * averaged over the reference's error, as the single-window tests are.
 */
export function sequentialStep(state: SequentialState, rawZ: number, n: number, m: number, effect = 0, windows = SEQUENTIAL_WINDOWS): SequentialStep {
  const zs = [...(state.z ?? []), Number.isFinite(rawZ) ? rawZ : 0].slice(-windows);
  const ns = [...(state.n ?? []), n].slice(-windows);
  const es = [...(state.e ?? []), Number.isFinite(effect) ? effect : 0].slice(-windows);
  // A state from another shape (an older version) starts over rather than pairing z with the wrong n.
  const whole = zs.length === ns.length && zs.length === es.length;
  const z = whole ? zs : zs.slice(-1);
  const nn = whole ? ns : ns.slice(-1);
  const e = whole ? es : es.slice(-1);
  let clipped = 0;
  let raw = 0;
  for (const x of z) {
    clipped += Math.max(-SEQUENTIAL_Z_CLIP, Math.min(SEQUENTIAL_Z_CLIP, x));
    raw += x;
  }
  let sumE = 0;
  for (const x of e) sumE += x;
  return { state: { z, n: nn, e }, z: clipped / sumStandardDeviation(nn, m), windows: z.length, meanZ: raw / z.length, effect: Math.abs(sumE) / e.length };
}

/** Two-sided p-value of a derived window's statistic. */
export function sequentialPValue(z: number): number {
  return normalTwoSided(z);
}
