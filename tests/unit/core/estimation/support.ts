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
 * sigmoid(4 x): the same ranking, overconfident probabilities; a number k
 * makes it sigmoid(k x) (2 is calibrated).
 */
export function scoredRows(seed: number, n: number, sd = 1, miscalibrated: boolean | number = false): ScoredRow[] {
  const slope = miscalibrated === true ? 4 : miscalibrated === false ? 2 : miscalibrated;
  const u = mulberry32(seed);
  const out: ScoredRow[] = [];
  for (let i = 0; i < n; i++) {
    const x = sd * Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());
    const p = 1 / (1 + Math.exp(-2 * x));
    const score = slope === 2 ? p : 1 / (1 + Math.exp(-slope * x));
    out.push({ x, score, label: u() < p ? 1 : 0, prediction: score >= 0.5 ? '1' : '0' });
  }
  return out;
}

/** One event of a calibrated multi-class model whose score is the predicted class's probability. */
export interface ClassRow {
  x: number;
  score: number;
  label: string;
  prediction: string;
}

/**
 * Confidence ranges of the predicted classes: a prediction of `a` is right
 * with probability U(0.6, 1) (mean 0.8), `b` U(0.4, 0.8) (mean 0.6), `c`
 * U(0.3, 0.7) (mean 0.5). A wrong prediction's label is one of the two
 * other classes at random.
 */
export const CLASS_CONFIDENCE: Readonly<Record<string, readonly [number, number]>> = { a: [0.6, 1], b: [0.4, 0.8], c: [0.3, 0.7] };

/** Rows of that model with predicted classes a, b, c in the shares `mix`: the expected accuracy is sum(mix * class mean). */
export function classRows(seed: number, n: number, mix: readonly [number, number, number]): ClassRow[] {
  const u = mulberry32(seed);
  const classes = ['a', 'b', 'c'];
  const out: ClassRow[] = [];
  for (let i = 0; i < n; i++) {
    const r = u();
    const k = r < mix[0] ? 0 : r < mix[0] + mix[1] ? 1 : 2;
    const [lo, hi] = CLASS_CONFIDENCE[classes[k]];
    const score = lo + (hi - lo) * u();
    const others = classes.filter((_, j) => j !== k);
    const label = u() < score ? classes[k] : others[u() < 0.5 ? 0 : 1];
    out.push({ x: k + u(), score, label, prediction: classes[k] });
  }
  return out;
}
