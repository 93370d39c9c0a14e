import type { ModelConfig } from '../model/model-config.js';
import type { Pane } from '../windows/pane.js';
import { judgeMultivariate } from './multivariate-verdict.js';
import type { MultivariateResult } from './types.js';

/**
 * Share of the model's false-alarm budget the multivariate test takes in a
 * window with `tests` univariate verdicts: one test's share (Bonferroni
 * weight 1 among tests + 1), 0 when the window is not reconstructed. The
 * univariate verdicts get the rest, so the evaluation stays within the budget.
 */
export function multivariateBudgetShare(pane: Pane, tests: number): number {
  return pane.reconstruction && pane.layout.profile.multivariate ? 1 / (tests + 1) : 0;
}

/** The multivariate verdict of a window at its share of the budget, or undefined when it is not reconstructed. */
export function evaluateMultivariate(model: ModelConfig, pane: Pane, share: number): MultivariateResult | undefined {
  const profile = pane.layout.profile.multivariate;
  if (!pane.reconstruction || !profile || share <= 0) return undefined;
  return judgeMultivariate(pane.reconstruction, profile, { level: model.falseAlarmBudget * share, floor: model.multivariate.floor, minSamples: model.minSamples });
}
