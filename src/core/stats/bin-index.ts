/** Up to this many edges a linear scan beats the binary search (fewer mispredicted branches). */
const LINEAR_MAX = 16;

/**
 * Index of the bin holding `x` given ascending interior `edges`: the number of
 * edges <= x, so bin i covers [e(i-1), e(i)) and the outer bins are open.
 */
export function binIndex(edges: ArrayLike<number>, x: number): number {
  const n = edges.length;
  if (n <= LINEAR_MAX) {
    let i = 0;
    while (i < n && edges[i] <= x) i++;
    return i;
  }
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
