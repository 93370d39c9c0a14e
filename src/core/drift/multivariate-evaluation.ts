import type { ModelConfig } from '../model/model-config.js';
import type { Pane } from '../windows/pane.js';
import { judgeMultivariate } from './multivariate-verdict.js';
import type { MultivariateResult } from './types.js';

/** True when the window's pane keeps reconstruction errors and its reference has the reconstruction: one more test. */
export function hasMultivariate(pane: Pane): boolean {
  return pane.reconstruction !== undefined && pane.layout.profile.multivariate !== undefined;
}

/** The multivariate verdict of a window at `level`, or undefined when it is not reconstructed. */
export function evaluateMultivariate(model: ModelConfig, pane: Pane, level: number): MultivariateResult | undefined {
  const profile = pane.layout.profile.multivariate;
  if (!pane.reconstruction || !profile) return undefined;
  return judgeMultivariate(pane.reconstruction, profile, { level, floor: model.multivariate.floor, minSamples: model.minSamples });
}
