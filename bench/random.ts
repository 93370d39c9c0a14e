import { mulberry32 } from '../src/core/random.js';
// Seeded generators so benchmark runs are comparable.
export { mulberry32 };

export function normalGenerator(seed: number): () => number {
  const u = mulberry32(seed);
  return () => {
    const a = u() || 1e-12;
    return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * u());
  };
}
