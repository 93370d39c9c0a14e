import { describe, expect, it } from 'vitest';
import { chiSquareUpperQuantile, noncentralChiSquareSurvival, noncentralityForPower } from '../../../../src/core/stats/chi-square-power.js';

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

// scipy 1.17.1: chi2.isf(alpha, dof); ncx2.sf(x, dof, lambda); the lambda solving
// ncx2.sf(chi2.isf(alpha, dof), dof, lambda) = 0.8 with brentq (xtol 1e-12).
describe('chi-square power pinned to scipy', () => {
  it('upper quantiles of the central chi-square', () => {
    const cases: [number, number, number][] = [
      [0.001, 4, 18.466826952903173],
      [5.6e-6, 9, 40.73033745701137],
      [1e-7, 5, 40.86302108810562],
      [0.05, 9, 16.91897760462045],
    ];
    for (const [p, dof, x] of cases) expect(rel(chiSquareUpperQuantile(p, dof), x), `isf(${p}, ${dof})`).toBeLessThan(1e-9);
  });

  it("non-central tail and the non-centrality for 80% power (Patnaik's approximation, within 2%)", () => {
    expect(rel(noncentralChiSquareSurvival(18.466826952903173, 4, 20), 0.6984642155105989)).toBeLessThan(0.02);
    expect(rel(noncentralChiSquareSurvival(40.73033745701137, 9, 30), 0.41039582174225536)).toBeLessThan(0.03);
    const cases: [number, number, number][] = [
      [0.001, 4, 23.100158397790917],
      [5.6e-6, 9, 43.62990049269778],
      [1e-7, 5, 48.05985877704326],
      [0.05, 9, 15.649797895188195],
      [1e-4, 9, 35.59216097294364],
    ];
    for (const [alpha, dof, lambda] of cases) expect(rel(noncentralityForPower(alpha, dof), lambda), `lambda(${alpha}, ${dof})`).toBeLessThan(0.02);
  });
});
