import { chiSquareSurvival } from './chi-square.js';
import { hypergeometricTwoSided } from './hypergeometric.js';

/** A categorical 2 x k table after pooling sparse categories. */
export interface PooledTable {
  /** Reference counts per cell. */
  reference: number[];
  /** Current counts per cell. */
  current: number[];
  /** Index of the pooled cell (rare, new and `__other__` categories), or -1 when none was needed. */
  pooledIndex: number;
}

/**
 * Pools the categories whose expected count in the current window
 * (reference share x n) is below `minExpected` into one cell, together with
 * categories the reference never saw (reference count 0). The other
 * categories keep their own cell. Sparse cells are what make a chi-square's
 * tail wrong; pooling keeps its approximation honest at every n.
 */
export function poolCategories(reference: ArrayLike<number>, current: ArrayLike<number>, minExpected: number): PooledTable {
  let m = 0;
  let n = 0;
  for (let i = 0; i < reference.length; i++) {
    m += reference[i];
    n += current[i];
  }
  const ref: number[] = [];
  const cur: number[] = [];
  let pr = 0;
  let pc = 0;
  let pooled = false;
  for (let i = 0; i < reference.length; i++) {
    const expected = m > 0 ? (reference[i] / m) * n : 0;
    if (reference[i] === 0 || expected < minExpected) {
      pr += reference[i];
      pc += current[i];
      pooled = true;
    } else {
      ref.push(reference[i]);
      cur.push(current[i]);
    }
  }
  if (!pooled) return { reference: ref, current: cur, pooledIndex: -1 };
  ref.push(pr);
  cur.push(pc);
  return { reference: ref, current: cur, pooledIndex: ref.length - 1 };
}

/** Result of {@link categoryShareTest}. */
export interface CategoryShareResult {
  /** Bonferroni-adjusted (over the cells) smallest exact p-value. */
  pValue: number;
  /** Cell with the smallest p-value. */
  cell: number;
  /** Number of cells tested. */
  cells: number;
}

/**
 * Max-type test of a categorical table: each cell's share is tested exactly
 * against the pooled table ({@link hypergeometricTwoSided}), and the
 * smallest p-value is multiplied by the number of cells (Bonferroni). Exact
 * at any sparsity, and most powerful when mass moves into or out of one
 * category (a category's share moved, a new category).
 */
export function categoryShareTest(reference: ArrayLike<number>, current: ArrayLike<number>): CategoryShareResult {
  let m = 0;
  let n = 0;
  for (let i = 0; i < reference.length; i++) {
    m += reference[i];
    n += current[i];
  }
  const cells = reference.length;
  if (cells < 2 || m === 0 || n === 0) return { pValue: 1, cell: -1, cells };
  let best = 1;
  let cell = -1;
  for (let i = 0; i < cells; i++) {
    const k = reference[i] + current[i];
    if (k === 0) continue;
    const p = hypergeometricTwoSided(current[i], n, k, m + n);
    if (p < best) {
      best = p;
      cell = i;
    }
  }
  return { pValue: Math.min(1, best * cells), cell, cells };
}

/**
 * Pearson chi-square of a 2 x k table (no continuity correction), computed on
 * the table pooled so every expected current count is at least `minExpected`
 * (a pooled cell still below it is merged into the smallest other cell). p = 1
 * when fewer than two cells remain.
 */
export function pooledChiSquare(reference: ArrayLike<number>, current: ArrayLike<number>, minExpected = 10): { statistic: number; pValue: number; dof: number } {
  const t = poolCategories(reference, current, minExpected);
  const ref = t.reference;
  const cur = t.current;
  let m = 0;
  let n = 0;
  for (let i = 0; i < ref.length; i++) {
    m += ref[i];
    n += cur[i];
  }
  if (t.pooledIndex >= 0 && ref.length > 1 && (ref[t.pooledIndex] / m) * n < minExpected) {
    let smallest = -1;
    for (let i = 0; i < ref.length; i++) if (i !== t.pooledIndex && (smallest < 0 || ref[i] < ref[smallest])) smallest = i;
    ref[smallest] += ref[t.pooledIndex];
    cur[smallest] += cur[t.pooledIndex];
    ref.splice(t.pooledIndex, 1);
    cur.splice(t.pooledIndex, 1);
  }
  const k = ref.length;
  if (k < 2 || m === 0 || n === 0) return { statistic: 0, pValue: 1, dof: Math.max(0, k - 1) };
  const total = m + n;
  let stat = 0;
  for (let i = 0; i < k; i++) {
    const col = ref[i] + cur[i];
    if (col === 0) continue;
    const er = (m * col) / total;
    const ec = (n * col) / total;
    stat += ((ref[i] - er) * (ref[i] - er)) / er + ((cur[i] - ec) * (cur[i] - ec)) / ec;
  }
  return { statistic: stat, pValue: chiSquareSurvival(stat, k - 1), dof: k - 1 };
}
