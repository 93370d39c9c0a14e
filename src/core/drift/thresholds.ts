/** WARNING / CRITICAL levels of a statistic that alerts when it is at least the level. */
export interface LevelThresholds {
  warning: number;
  critical: number;
  /** Whether the statistic takes part in the verdict. */
  enabled: boolean;
}

/**
 * WARNING / CRITICAL levels of a test: the level fires when the p-value is
 * below `warning` (`critical`) AND the effect size reaches
 * `effectSize.warning` (`effectSize.critical`). The effect size is KS D for
 * KS and PSI for chi-square.
 */
export interface TestThresholds {
  warning: number;
  critical: number;
  effectSize: { warning: number; critical: number };
  enabled: boolean;
}

/** Every threshold of a feature's evaluation (DESIGN.md section 4 defaults in {@link DEFAULT_THRESHOLDS}). */
export interface Thresholds {
  psi: LevelThresholds;
  ks: TestThresholds;
  chiSquare: TestThresholds;
  wasserstein: LevelThresholds;
  jensenShannon: LevelThresholds;
  hellinger: LevelThresholds;
  /**
   * Effect floors of the verdict (docs/detector.md), in the feature's effect
   * metric: Wasserstein distance in the reference's typical deviations for
   * numeric features, total variation distance for categorical ones.
   */
  floor: { warning: number; critical: number };
  /** Below this many current values a feature is reported, never in drift. */
  minSamples: number;
}

/** A partial override of {@link Thresholds}, as written in a model's configuration. */
export type ThresholdOverrides = {
  [K in keyof Thresholds]?: Thresholds[K] extends object ? DeepPartial<Thresholds[K]> : Thresholds[K];
};
type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/**
 * Defaults. The verdict is the rule of docs/detector.md: significance at the
 * model's false-alarm budget and an effect above `floor`. The per-statistic
 * levels (PSI, KS, chi-square, Wasserstein, Jensen-Shannon, Hellinger) are
 * reported beside the statistics and drive only {@link classify}, the rule
 * used before the budget, kept as the detection benchmark's baseline.
 */
export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = deepFreeze({
  psi: { warning: 0.1, critical: 0.25, enabled: true },
  ks: { warning: 0.05, critical: 0.001, effectSize: { warning: 0.1, critical: 0.2 }, enabled: true },
  chiSquare: { warning: 0.05, critical: 0.001, effectSize: { warning: 0.1, critical: 0.25 }, enabled: true },
  wasserstein: { warning: 0.1, critical: 0.2, enabled: false },
  jensenShannon: { warning: 0.1, critical: 0.2, enabled: false },
  hellinger: { warning: 0.1, critical: 0.2, enabled: false },
  floor: { warning: 0.1, critical: 0.2 },
  minSamples: 100,
});

/** The threshold-related part of a model's configuration (DESIGN.md section 3). */
export interface ModelThresholdConfig {
  thresholds?: ThresholdOverrides;
  featureThresholds?: Record<string, ThresholdOverrides>;
  minSamples?: number;
}

/**
 * Thresholds of one feature: defaults, then the model's `minSamples` and
 * `thresholds`, then `featureThresholds[feature]`, each merged field by field
 * (an override of `psi.warning` keeps the default `psi.critical`). The result
 * is frozen.
 */
export function resolveThresholds(model: ModelThresholdConfig = {}, feature?: string, base: Thresholds = DEFAULT_THRESHOLDS): Thresholds {
  let t = mergeThresholds(base, model.minSamples === undefined ? undefined : { minSamples: model.minSamples });
  t = mergeThresholds(t, model.thresholds);
  if (feature !== undefined) t = mergeThresholds(t, model.featureThresholds?.[feature]);
  return deepFreeze(t);
}

/** `base` with `override` merged in field by field (neither is modified). */
export function mergeThresholds(base: Thresholds, override: ThresholdOverrides | undefined): Thresholds {
  return deepMerge(base, override) as Thresholds;
}

function deepMerge(base: unknown, override: unknown): unknown {
  if (override === undefined) return structuredClone(base);
  if (base === null || typeof base !== 'object' || override === null || typeof override !== 'object') return override;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(override as Record<string, unknown>)) {
    if (v === undefined) continue;
    out[k] = deepMerge((base as Record<string, unknown>)[k], v);
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
