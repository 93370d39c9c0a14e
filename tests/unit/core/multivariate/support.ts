import { mulberry32 } from '../../../../src/core/random.js';

/** Standard normal draws from a seeded generator (Box-Muller). */
export function normals(seed: number): () => number {
  const u = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());
}

/**
 * Rows `{a, b, c}`: a and b standard normal with correlation `rho` (both
 * marginals unchanged whatever rho), c independent and scaled to mean 10,
 * sd 3.
 */
export function correlatedRows(seed: number, n: number, rho: number): Record<string, number>[] {
  const z = normals(seed);
  const rows: Record<string, number>[] = [];
  for (let i = 0; i < n; i++) {
    const a = z();
    const b = rho * a + Math.sqrt(1 - rho * rho) * z();
    rows.push({ a, b, c: 10 + 3 * z() });
  }
  return rows;
}
