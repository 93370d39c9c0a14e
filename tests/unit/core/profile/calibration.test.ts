import { describe, expect, it } from 'vitest';
import { computeNumericCalibration, numericCalibration, storedCalibration } from '../../../../src/core/profile/calibration.js';

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

// A uniform(0, 1) reference on its decile bins, worked out by hand: typical deviation 0.25; ridits
// 0.05..0.95 (sd sqrt(0.0825)); scale scores (ridit - 0.5)^2 (variance 0.01208625 - 0.0825^2 =
// 0.00528); the interior bins have density 1 (sum of share^2 / width 0.8); a stretch by 1.1 about
// 0.5 moves (e - 0.5) 0.1 / 1.1 of the mass outward across each edge e, gaining 0.2 |e - 0.5| of
// score, 2 x 0.2 x 0.3 x 0.1 / 1.1 in all, per 0.1 of stretch 0.12 / 1.1; a bump of 3 typical
// deviations (0.75) sends 5% of the mass to bin 7, 10% to bin 8 and 85% to bin 9, a chi-square
// divergence of (7 x 0.01 + 0.0025 + 0.5625) / 0.1 = 6.35.
describe('numeric calibration', () => {
  const uniform = { edges: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], counts: new Array(10).fill(1000) };
  const c = computeNumericCalibration(uniform, (q) => q);

  it('measures the test noises of a shift, a stretch and a bump, and the effect estimate noise', () => {
    expect(rel(c.spread, 0.25)).toBeLessThan(1e-9);
    expect(rel(c.locationNoise, Math.sqrt(0.0825) / (0.25 * 0.8))).toBeLessThan(1e-9);
    // The grid of 2,000 quantiles counts the moved shares to within a few grid steps.
    expect(rel(c.scaleNoise, Math.sqrt(0.00528) / (0.12 / 1.1))).toBeLessThan(5e-3);
    expect(rel(c.shapeNoise, 3 / Math.sqrt(6.35))).toBeLessThan(1e-9);
    expect(rel(c.effectNoise.location, 1 / Math.sqrt(12) / 0.25)).toBeLessThan(1e-5);
    expect(rel(c.effectNoise.scale, 0.5 / Math.sqrt(12) / 0.25)).toBeLessThan(1e-5);
  });

  it('stores finite fields only and reads them back; older stored calibrations are recomputed', () => {
    const tied = computeNumericCalibration({ edges: [0], counts: [0, 10_000] }, () => 0);
    expect(tied.locationNoise).toBe(Infinity);
    expect(JSON.parse(JSON.stringify(storedCalibration(c)))).toEqual(storedCalibration(c));
    const roundTrip = numericCalibration({ ...uniform, calibration: storedCalibration(c) }, () => NaN);
    expect(roundTrip).toEqual(c);
    const old = numericCalibration({ ...uniform, calibration: { spread: 0.25, locationNoise: 1 } }, (q) => q);
    expect(old.scaleNoise).toBeCloseTo(c.scaleNoise, 12);
  });
});
