import { toAlertRecord, type AlertRecord } from '../../../../src/core/notify/alert-record.js';

export const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);

/** A DriftAlert-shaped record of the credit-risk model, one feature drifted in the 1m window. */
export function driftAlert(over: Record<string, unknown> = {}): AlertRecord {
  return toAlertRecord(
    {
      alertId: 'a-1',
      modelId: 'credit-risk',
      modelVersion: null,
      kind: 'FEATURE_DRIFT',
      feature: 'income',
      statistic: 'wasserstein',
      value: 0.42,
      threshold: 0.1,
      severity: 'WARNING',
      status: 'FIRING',
      windowName: '1m',
      windowStart: T0,
      windowEnd: T0 + 60_000,
      sampleSize: 1200,
      referenceId: 'ref-1',
      detectedAt: T0 + 61_000,
      details: { effect: '0.4', segment: 'eu' },
      ...over,
    },
    T0,
  );
}
