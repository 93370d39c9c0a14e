import type { EffectFloors } from './verdict.js';

/**
 * Default effect floors (docs/detector.md): a numeric feature drifts when its
 * distribution moved by at least 0.1 of the reference's typical deviation
 * (Wasserstein distance over the mean absolute deviation from the median;
 * WARNING) or 0.2 (CRITICAL); a categorical one when at least 10% (WARNING)
 * or 20% (CRITICAL) of its mass changed category (total variation distance).
 */
export const DEFAULT_FLOORS: Readonly<{ numeric: EffectFloors; categorical: EffectFloors }> = Object.freeze({
  numeric: Object.freeze({ warning: 0.1, critical: 0.2 }),
  categorical: Object.freeze({ warning: 0.1, critical: 0.2 }),
});

/** Default false-alarm budget: at most 1 evaluation in 1,000 with any false drift verdict. */
export const DEFAULT_FALSE_ALARM_BUDGET = 0.001;
