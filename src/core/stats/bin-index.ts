/**
 * Index of the bin holding `x` given ascending interior `edges`: the number of
 * edges <= x, so bin i covers [e(i-1), e(i)) and the outer bins are open.
 */
export function binIndex(edges: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
