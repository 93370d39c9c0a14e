/**
 * Weighted isotonic regression (pool adjacent violators): the nondecreasing
 * sequence closest to `values` in weighted least squares. Returns the fitted
 * value of each input position. Weights must be positive.
 */
export function isotonicFit(values: readonly number[], weights: readonly number[]): number[] {
  const n = values.length;
  // Blocks as a stack: their mean, total weight and how many positions they cover.
  const mean: number[] = [];
  const weight: number[] = [];
  const size: number[] = [];
  for (let i = 0; i < n; i++) {
    mean.push(values[i]);
    weight.push(weights[i]);
    size.push(1);
    while (mean.length > 1 && mean[mean.length - 2] > mean[mean.length - 1]) {
      const w = weight[weight.length - 2] + weight[weight.length - 1];
      const m = (mean[mean.length - 2] * weight[weight.length - 2] + mean[mean.length - 1] * weight[weight.length - 1]) / w;
      const s = size[size.length - 2] + size[size.length - 1];
      mean.length -= 1;
      weight.length -= 1;
      size.length -= 1;
      mean[mean.length - 1] = m;
      weight[weight.length - 1] = w;
      size[size.length - 1] = s;
    }
  }
  const out: number[] = [];
  for (let b = 0; b < mean.length; b++) for (let k = 0; k < size[b]; k++) out.push(mean[b]);
  return out;
}
