import type { ModelConfig } from '../model/model-config.js';
import type { AlertCondition } from './alert-conditions.js';
import type { Evaluation } from './types.js';

/**
 * ESTIMATED_PERFORMANCE conditions of an evaluation: one per judged metric
 * of its estimated performance (none when nothing was estimated), valued by
 * the estimated drop below the reference, at the verdict's severity.
 */
export function estimatedPerformanceConditions(evaluation: Evaluation, model: ModelConfig): AlertCondition[] {
  const verdicts = evaluation.estimatedPerformance?.verdicts;
  if (!verdicts) return [];
  const out: AlertCondition[] = [];
  for (const [metric, v] of Object.entries(verdicts)) {
    const t = model.performance.thresholds[metric];
    out.push({
      key: `ESTIMATED_PERFORMANCE||${metric}`,
      kind: 'ESTIMATED_PERFORMANCE',
      feature: null,
      severity: v.severity,
      triggered: v.severity === 'NONE' ? [] : [metric],
      measures: {
        [metric]: {
          value: v.degradation,
          warning: t.warning,
          critical: t.critical,
          details: {
            estimated: String(v.estimate),
            reference: String(v.reference),
            comparison: 'estimated drop below the reference (no labels)',
            pValue: String(v.pValue),
            level: String(v.level),
            n: String(evaluation.estimatedPerformance?.status === 'estimated' ? evaluation.estimatedPerformance.n : 0),
          },
        },
      },
    });
  }
  return out;
}
