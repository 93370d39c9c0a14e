import { proportions } from './proportions.js';

/**
 * Jensen-Shannon distance (square root of the divergence, natural log) between
 * two count vectors over the same bins or categories; as scipy's
 * `jensenshannon`. In [0, sqrt(ln 2)]; NaN when either side is empty.
 */
export function jensenShannon(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  if (reference.length !== current.length) throw new RangeError('jensenShannon: reference and current need the same bins');
  const p = proportions(reference);
  const q = proportions(current);
  let sp = 0;
  let sq = 0;
  let div = 0;
  for (let i = 0; i < p.length; i++) {
    sp += p[i];
    sq += q[i];
    const m = (p[i] + q[i]) / 2;
    if (p[i] > 0) div += p[i] * Math.log(p[i] / m);
    if (q[i] > 0) div += q[i] * Math.log(q[i] / m);
  }
  if (sp === 0 || sq === 0) return NaN;
  return Math.sqrt(Math.max(0, div / 2));
}
