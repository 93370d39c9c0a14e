import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { coxCalibrationTest } from '../../../../src/core/stats/calibration-test.js';
import { EstimationProfileBuilder } from '../../../../src/core/profile/estimation-profile.js';
import { scoredRows } from '../estimation/support.js';

interface Case {
  name: string;
  scores: number[];
  labels: number[];
  intercept: number;
  slope: number;
  statistic: number;
  pValue: number;
}

// Fitted by scipy.optimize.minimize (BFGS) on the same rows: see the fixture's `source`.
const fixture = JSON.parse(readFileSync(new URL('../../../fixtures/calibration/cox.json', import.meta.url), 'utf8')) as { cases: Case[] };

describe("Cox's calibration test", () => {
  for (const c of fixture.cases) {
    it(`matches scipy on ${c.name} scores`, () => {
      const t = coxCalibrationTest(c.scores, c.labels);
      expect(t.intercept).toBeCloseTo(c.intercept, 5);
      expect(t.slope).toBeCloseTo(c.slope, 5);
      expect(t.statistic).toBeCloseTo(c.statistic, 4);
      expect(t.pValue / c.pValue).toBeCloseTo(1, 3);
    });
  }

  it('keeps calibrated scores as they are, and fits the others', () => {
    const calibrated = new EstimationProfileBuilder({ positiveClass: '1', decisionThreshold: 0.5 });
    const overconfident = new EstimationProfileBuilder({ positiveClass: '1', decisionThreshold: 0.5 });
    const forced = new EstimationProfileBuilder({ positiveClass: '1', decisionThreshold: 0.5, method: 'isotonic' });
    for (const r of scoredRows(3, 10_000)) {
      calibrated.accept(r.score, r.label);
      forced.accept(r.score, r.label);
    }
    for (const r of scoredRows(3, 10_000, 1, true)) overconfident.accept(r.score, r.label);
    const identity = calibrated.build()!;
    expect(identity.method).toBe('logistic');
    // Calibrated scores recalibrated by a logistic fit near a = 0, b = 1: each bin's probability within its edges.
    identity.probability.forEach((p, b) => {
      if (b > 0) expect(p).toBeGreaterThan(identity.edges[b - 1] - 0.01);
      if (b < identity.edges.length) expect(p).toBeLessThan(identity.edges[b] + 0.01);
    });
    expect(overconfident.build()!.method).toBe('isotonic');
    expect(forced.build()!.method).toBe('isotonic');
  });
});
