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
