import type { AlertCondition } from './alert-conditions.js';
import type { Evaluation } from './types.js';

/**
 * The MULTIVARIATE_DRIFT condition of an evaluation (none when it has no
 * multivariate result): valued by the relative rise of the mean
 * reconstruction error, at the verdict's severity, with its evidence in the
 * details.
 */
export function multivariateConditions(evaluation: Evaluation): AlertCondition[] {
  const r = evaluation.multivariate;
  if (!r) return [];
  return [
    {
      key: 'MULTIVARIATE_DRIFT|',
      kind: 'MULTIVARIATE_DRIFT',
      feature: null,
      severity: r.severity,
      triggered: r.severity === 'NONE' ? [] : ['reconstructionError'],
      measures: {
        reconstructionError: {
          value: r.effect ?? 0,
          warning: r.floor.warning,
          critical: r.floor.critical,
          details: {
            verdict: r.verdict,
            pValue: String(r.pValue),
            level: String(r.level),
            meanError: String(r.meanError),
            referenceMeanError: String(r.reference.mean),
            components: String(r.reference.components),
            features: String(r.reference.features),
            n: String(r.n),
            mde: String(r.mde),
          },
        },
      },
    },
  ];
}
