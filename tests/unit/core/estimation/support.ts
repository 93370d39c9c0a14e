import { mulberry32 } from '../../../../src/core/random.js';

/** One scored, labelled row of a calibrated binary model: P(label = 1 | x) = score = sigmoid(2 x), x ~ N(mean, sd). */
export interface ScoredRow {
  x: number;
  score: number;
  label: number;
  prediction: string;
}

/**
 * Rows of a calibrated model. Narrowing x to sd 0.6 (a covariate shift: the
 * model's rule still holds) moves events towards the decision boundary and
 * lowers the accuracy from 0.778 to 0.701. `miscalibrated` makes the score
 * sigmoid(4 x): the same ranking, overconfident probabilities.
 */
export function scoredRows(seed: number, n: number, sd = 1, miscalibrated = false): ScoredRow[] {
  const u = mulberry32(seed);
  const out: ScoredRow[] = [];
  for (let i = 0; i < n; i++) {
    const x = sd * Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());
    const p = 1 / (1 + Math.exp(-2 * x));
    const score = miscalibrated ? 1 / (1 + Math.exp(-4 * x)) : p;
    out.push({ x, score, label: u() < p ? 1 : 0, prediction: score >= 0.5 ? '1' : '0' });
  }
  return out;
}
