import { describe, expect, it } from 'vitest';
import { categoricalHistogram, numericHistogram } from '../../../../src/core/drift/feature-histogram.js';
import { ReferenceProfileBuilder, createSummary, type CategoricalFeatureProfile, type NumericFeatureProfile } from '../../../../src/core/profile/reference-profile.js';

function profile() {
  const b = new ReferenceProfileBuilder({ x: 'numeric', c: 'categorical' });
  for (let i = 0; i < 1000; i++) b.accept({ x: i, c: ['a', 'b', 'c', 'd'][i % 4] });
  return b.build({ createdAt: 0 });
}

describe('feature histograms', () => {
  it('gives numeric proportions on the reference bins', () => {
    const p = profile();
    const ref = p.features.x as NumericFeatureProfile;
    const cur = createSummary(ref);
    for (let i = 0; i < 100; i++) cur.accept(900 + i);
    const h = numericHistogram(ref, cur);
    expect(h.edges).toEqual([...ref.edges]);
    expect(h.reference).toHaveLength(ref.edges.length + 1);
    expect(h.reference.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(h.current.at(-1)).toBe(1);
    expect(h.current.slice(0, -1).every((v) => v === 0)).toBe(true);
  });

  it('aligns categories, keeps new ones, and folds the smallest past the limit into __other__', () => {
    const p = profile();
    const ref = p.features.c as CategoricalFeatureProfile;
    const cur = createSummary(ref);
    for (const c of ['a', 'a', 'a', 'e', 'f']) cur.accept(c);
    let h = categoricalHistogram(ref, cur);
    expect(h.categories).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(h.reference).toEqual([0.25, 0.25, 0.25, 0.25, 0, 0]);
    expect(h.current).toEqual([0.6, 0, 0, 0, 0.2, 0.2]);
    h = categoricalHistogram(ref, cur, 2);
    expect(h.categories).toEqual(['a', 'b', '__other__']);
    expect(h.reference).toEqual([0.25, 0.25, 0.5]);
    expect(h.current).toEqual([0.6, 0, 0.4]);
  });
});
