import type { DriftAlert } from '../../src/core/events.js';
import type { Evaluation } from '../../src/core/drift/types.js';

const MINUTE = 60_000;
export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

/** A complete, realistic evaluation of one window. */
export function makeEvaluation(over: Partial<Evaluation> = {}): Evaluation {
  const windowName = over.windowName ?? '1m';
  const windowStart = over.windowStart ?? T0;
  const modelId = over.modelId ?? 'credit-risk';
  return {
    evaluationId: `${modelId}|${windowName}|${windowStart}`,
    modelId,
    modelVersion: 'v3',
    windowName,
    windowStart,
    windowEnd: windowStart + MINUTE,
    sampleSize: 1_234,
    referenceId: 'ref-1',
    evaluatedAt: windowStart + MINUTE + 1_500,
    datasetDrift: { share: 0.5, drift: true },
    features: {
      age: {
        type: 'numeric',
        nReference: 5_000,
        nCurrent: 1_234,
        missing: 4,
        missingRate: 4 / 1_234,
        psi: 0.31,
        ks: { statistic: 0.21, pValue: 1e-9, errorBound: 0.004 },
        wassersteinNormed: 0.18,
        jensenShannon: 0.12,
        hellinger: 0.11,
        drift: true,
        severity: 'CRITICAL',
      },
      region: {
        type: 'categorical',
        nReference: 5_000,
        nCurrent: 1_234,
        missing: 0,
        missingRate: 0,
        psi: 0.01,
        chiSquare: { statistic: 3.2, pValue: 0.36, dof: 3 },
        newCategories: ['mars'],
        drift: false,
        severity: 'NONE',
      },
    },
    prediction: {
      score: { type: 'numeric', nReference: 5_000, nCurrent: 1_234, missing: 0, missingRate: 0, psi: 0.02, drift: false, severity: 'NONE' },
    },
    proxy: { positiveRate: 0.31, scoreMean: 0.42, scoreStd: null },
    performance: { labelled: 600, predictions: 1_234, coverage: 600 / 1_234, metrics: { accuracy: 0.91, auc: null }, labelDelayP50Ms: 12_000, labelDelayP95Ms: null },
    alertable: true,
    ...over,
  };
}

export function makeAlert(over: Partial<DriftAlert> = {}): DriftAlert {
  return {
    alertId: 'a1b2c3d4e5f6',
    modelId: 'credit-risk',
    modelVersion: 'v3',
    kind: 'FEATURE_DRIFT',
    feature: 'age',
    statistic: 'psi',
    value: 0.31,
    threshold: 0.25,
    severity: 'CRITICAL',
    status: 'FIRING',
    windowName: '1m',
    windowStart: T0,
    windowEnd: T0 + MINUTE,
    sampleSize: 1_234,
    referenceId: 'ref-1',
    detectedAt: T0 + MINUTE + 1_500,
    details: { psiWarning: '0.1' },
    ...over,
  };
}
