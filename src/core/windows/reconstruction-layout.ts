import type { MultivariateProfile } from '../profile/multivariate-profile.js';
import { Reconstruction } from '../stats/reconstruction-error.js';

/**
 * The compiled reconstruction of a reference's multivariate profile over a
 * layout's numeric features, or undefined when the reference has none or
 * one of its features is not among them (the model changed its features
 * since the reference was built).
 */
export function reconstructionOf(mv: MultivariateProfile | undefined, numericNames: readonly string[]): Reconstruction | undefined {
  if (!mv) return undefined;
  const position = new Map(numericNames.map((n, i) => [n, i]));
  const indices = new Int32Array(mv.features.length);
  for (let i = 0; i < mv.features.length; i++) {
    const at = position.get(mv.features[i]);
    if (at === undefined) return undefined;
    indices[i] = at;
  }
  return new Reconstruction(indices, Float64Array.from(mv.mean), Float64Array.from(mv.std), mv.components, mv.error.cap);
}
