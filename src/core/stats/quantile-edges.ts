import { lerpNumpy } from './merging-digest.js';

/**
 * Quantile of an ascending array with numpy's default method (linear
 * interpolation between order statistics, `h = (n - 1) q`), bit for bit.
 */
export function numpyQuantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const i = Math.floor(h);
  if (i >= n - 1) return sorted[n - 1];
  if (i < 0) return sorted[0];
  return lerpNumpy(sorted[i], sorted[i + 1], h - i);
}

/**
 * Interior bin edges of a reference sample: its k/bins quantiles for
 * k = 1..bins-1 (numpy linear interpolation), duplicates removed. `sorted`
 * must be ascending and hold only finite values.
 */
export function quantileEdges(sorted: ArrayLike<number>, bins = 10): number[] {
  const edges: number[] = [];
  if (sorted.length === 0) return edges;
  for (let k = 1; k < bins; k++) {
    const e = numpyQuantile(sorted, k / bins);
    if (edges.length === 0 || e > edges[edges.length - 1]) edges.push(e);
  }
  return edges;
}
