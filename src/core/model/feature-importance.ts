/**
 * Weight of each feature in the importance-weighted dataset drift share: its
 * declared `importance`; when a model declares none, every feature weighs 1
 * (the weighted share is then the plain share); when it declares some, a
 * feature left out weighs 0 (the model does not rely on it).
 */
export function importanceWeights(names: readonly string[], importance: Readonly<Record<string, number>> | undefined): number[] {
  if (!importance || Object.keys(importance).length === 0) return names.map(() => 1);
  return names.map((n) => importance[n] ?? 0);
}

/**
 * Names ordered by importance, largest first; names of equal importance (or
 * none declared) keep their given order.
 */
export function byImportance(names: readonly string[], importance: Readonly<Record<string, number>> | undefined): string[] {
  if (!importance) return [...names];
  return names
    .map((n, i) => ({ n, i, w: importance[n] ?? 0 }))
    .sort((a, b) => b.w - a.w || a.i - b.i)
    .map((x) => x.n);
}
