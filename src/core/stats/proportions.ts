/** Counts divided by their sum (all zeros when the sum is zero). */
export function proportions(counts: ArrayLike<number>): Float64Array {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  const out = new Float64Array(counts.length);
  if (total > 0) for (let i = 0; i < counts.length; i++) out[i] = counts[i] / total;
  return out;
}
