import { mulberry32 } from '../../../../src/core/random.js';
/**
 * Performance metrics computed directly from (prediction, label) pairs, the
 * textbook way, independently of the counters: the value every counter-based
 * metric is checked against.
 */
export interface Pair {
  score: number | null;
  prediction: number | string | null;
  label: number | string | boolean;
}

const key = (v: number | string | boolean): string => (typeof v === 'boolean' ? (v ? '1' : '0') : String(v));

/** Exact ROC AUC: Mann-Whitney U over all positive-negative pairs, ties one half. */
export function exactAuc(scores: number[], positives: boolean[]): number | null {
  const idx = scores.map((s, i) => i).sort((a, b) => scores[a] - scores[b]);
  // Average ranks with ties.
  const rank = new Array<number>(scores.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[i]]) j++;
    for (let k = i; k <= j; k++) rank[idx[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  let p = 0;
  let sumRanks = 0;
  for (let i = 0; i < scores.length; i++) if (positives[i]) {
    p++;
    sumRanks += rank[i];
  }
  const n = scores.length - p;
  if (p === 0 || n === 0) return null;
  return (sumRanks - (p * (p + 1)) / 2) / (p * n);
}

export function binaryOracle(pairs: Pair[], positiveClass = '1', threshold = 0.5) {
  let tp = 0, fp = 0, tn = 0, fn = 0, brier = 0, bn = 0;
  const scores: number[] = [];
  const pos: boolean[] = [];
  for (const p of pairs) {
    const y = key(p.label) === positiveClass;
    const predPos = p.score !== null ? p.score >= threshold : p.prediction !== null ? key(p.prediction) === positiveClass : null;
    if (predPos !== null) {
      if (predPos && y) tp++;
      else if (predPos) fp++;
      else if (y) fn++;
      else tn++;
    }
    if (p.score !== null) {
      brier += (p.score - (y ? 1 : 0)) ** 2;
      bn++;
      scores.push(p.score);
      pos.push(y);
    }
  }
  const n = tp + fp + tn + fn;
  return {
    accuracy: n ? (tp + tn) / n : null,
    precision: tp + fp ? tp / (tp + fp) : null,
    recall: tp + fn ? tp / (tp + fn) : null,
    f1: 2 * tp + fp + fn ? (2 * tp) / (2 * tp + fp + fn) : null,
    brier: bn ? brier / bn : null,
    rocAuc: exactAuc(scores, pos),
  };
}

export function multiclassOracle(pairs: Pair[]) {
  const classes = new Set<string>();
  let correct = 0, n = 0;
  for (const p of pairs) {
    if (p.prediction === null) continue;
    n++;
    classes.add(key(p.label)).add(key(p.prediction));
    if (key(p.label) === key(p.prediction)) correct++;
  }
  let f1 = 0;
  for (const c of classes) {
    let tp = 0, fp = 0, fn = 0;
    for (const p of pairs) {
      if (p.prediction === null) continue;
      const a = key(p.label) === c, b = key(p.prediction) === c;
      if (a && b) tp++;
      else if (b) fp++;
      else if (a) fn++;
    }
    f1 += 2 * tp + fp + fn ? (2 * tp) / (2 * tp + fp + fn) : 0;
  }
  return { accuracy: n ? correct / n : null, macroF1: classes.size ? f1 / classes.size : null };
}

export function regressionOracle(pairs: { prediction: number; label: number }[]) {
  const n = pairs.length;
  const e = pairs.map((p) => p.prediction - p.label);
  return {
    mae: e.reduce((a, b) => a + Math.abs(b), 0) / n,
    rmse: Math.sqrt(e.reduce((a, b) => a + b * b, 0) / n),
    meanError: e.reduce((a, b) => a + b, 0) / n,
  };
}

/** Sample mean and std (ddof 1). */
export function meanStd(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, std: Math.sqrt(v) };
}

/** Nearest-rank quantile of exact values. */
export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)];
}

/** A seeded generator (mulberry32) so failures reproduce. */
export const rng = mulberry32;
