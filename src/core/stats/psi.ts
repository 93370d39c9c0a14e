import { proportions } from './proportions.js';

/** Proportion that replaces an empty bin before PSI (DESIGN.md section 4). */
export const PSI_EPSILON = 1e-4;

/**
 * Population stability index of `current` against `reference`, both given as
 * counts over the same bins or categories: sum of (p_cur - p_ref) ln(p_cur / p_ref),
 * with zero proportions replaced by `epsilon` (no renormalization). NaN when
 * either side is empty.
 */
export function psi(reference: ArrayLike<number>, current: ArrayLike<number>, epsilon = PSI_EPSILON): number {
  if (reference.length !== current.length) throw new RangeError('psi: reference and current need the same bins');
  const p = proportions(reference);
  const q = proportions(current);
  if (isEmpty(reference) || isEmpty(current)) return NaN;
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    const r = p[i] === 0 ? epsilon : p[i];
    const c = q[i] === 0 ? epsilon : q[i];
    sum += (c - r) * Math.log(c / r);
  }
  return sum;
}

function isEmpty(counts: ArrayLike<number>): boolean {
  for (let i = 0; i < counts.length; i++) if (counts[i] > 0) return false;
  return true;
}
