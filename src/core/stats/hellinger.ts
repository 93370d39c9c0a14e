import { proportions } from './proportions.js';

/**
 * Hellinger distance sqrt(1 - sum sqrt(p_ref p_cur)) between two count vectors
 * over the same bins or categories. In [0, 1]; NaN when either side is empty.
 */
export function hellinger(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  if (reference.length !== current.length) throw new RangeError('hellinger: reference and current need the same bins');
  const p = proportions(reference);
  const q = proportions(current);
  let bc = 0;
  let sp = 0;
  let sq = 0;
  for (let i = 0; i < p.length; i++) {
    bc += Math.sqrt(p[i] * q[i]);
    sp += p[i];
    sq += q[i];
  }
  if (sp === 0 || sq === 0) return NaN;
  return Math.sqrt(Math.max(0, 1 - bc));
}
