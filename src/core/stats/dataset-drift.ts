/** Default share of drifting features above which a dataset drifts. */
export const DEFAULT_DATASET_DRIFT_SHARE = 0.5;

/** Result of {@link datasetDrift}. */
export interface DatasetDriftResult {
  /** Share of features in drift (0 when there are none). */
  driftShare: number;
  /** True when driftShare >= the threshold and at least one feature drifts. */
  drift: boolean;
}

/** Dataset drift: the share of features in drift, compared with `shareThreshold`. */
export function datasetDrift(featureDrift: readonly boolean[], shareThreshold = DEFAULT_DATASET_DRIFT_SHARE): DatasetDriftResult {
  if (featureDrift.length === 0) return { driftShare: 0, drift: false };
  let k = 0;
  for (const d of featureDrift) if (d) k++;
  const driftShare = k / featureDrift.length;
  return { driftShare, drift: k > 0 && driftShare >= shareThreshold };
}

/**
 * Importance-weighted share of features in drift: the summed weight of the
 * drifting features over the summed weight of all of them (0 when the
 * weights sum to 0). `weights[i]` belongs to `featureDrift[i]`.
 */
export function weightedDriftShare(featureDrift: readonly boolean[], weights: readonly number[]): number {
  let total = 0;
  let drifting = 0;
  for (let i = 0; i < featureDrift.length; i++) {
    const w = weights[i] ?? 0;
    total += w;
    if (featureDrift[i]) drifting += w;
  }
  return total > 0 ? drifting / total : 0;
}
