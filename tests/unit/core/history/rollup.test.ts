import { describe, expect, it } from 'vitest';
import { bucketStartOf, mergeRollups, onlyFeatures, pointOfEvaluation, rollup } from '../../../../src/core/history/rollup.js';
import type { Evaluation } from '../../../../src/core/drift/types.js';
import { makeEvaluation, T0 } from '../../../support/fixtures.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function window(i: number, psi: number, over: Partial<Evaluation> = {}): Evaluation {
  const e = makeEvaluation({ windowStart: T0 + i * MINUTE, ...over });
  e.features.age = { ...e.features.age, psi };
  return e;
}

describe('roll-ups', () => {
  it('buckets windows by the UTC hour or day of their start', () => {
    expect(bucketStartOf(T0 + 59 * MINUTE, 'hour')).toBe(T0);
    expect(bucketStartOf(T0 + HOUR, 'hour')).toBe(T0 + HOUR);
    expect(bucketStartOf(T0 + 11 * HOUR, 'day')).toBe(Date.UTC(2026, 0, 1));
    const buckets = rollup([window(0, 0.1), window(59, 0.3), window(60, 0.2)], 'hour');
    expect(buckets.map((b) => [b.bucketStart - T0, b.windows])).toEqual([[0, 2], [HOUR, 1]]);
  });

  it('adds counts, weighs means by windows, keeps maxima, minima of p-values and the worst severity', () => {
    const quiet = { datasetDrift: { share: 0, drift: false } };
    const evals = [window(0, 0.1, quiet), window(1, 0.2, quiet), window(2, 0.6)];
    const [b] = rollup(evals, 'hour');
    expect(b).toMatchObject({ windows: 3, alertableWindows: 3, driftWindows: 1, sampleSize: 3 * 1_234, severity: 'CRITICAL' });
    expect(b.driftShare.mean).toBeCloseTo(0.5 / 3, 12);
    expect(b.driftShare.max).toBe(0.5);
    expect(b.features.age.psi).toEqual({ n: 3, mean: expect.closeTo(0.3, 12), max: 0.6 });
    expect(b.features.age.ksPValueMin).toBe(1e-9);
    expect(b.features.region.chiSquarePValueMin).toBe(0.36);
    expect(b.performance).toEqual({ windows: 3, labelled: 1_800, predictions: 3 * 1_234, metrics: { accuracy: expect.closeTo(0.91, 12), auc: null } });
    // Merging hours into a day gives what rolling the windows up by day gives.
    const hourly = rollup([...evals, window(90, 0.9)], 'hour');
    const [fromHours] = rollup(hourly, 'day');
    const [fromWindows] = rollup([...evals, window(90, 0.9)], 'day');
    expect(fromHours.features.age.psi!.mean).toBeCloseTo(fromWindows.features.age.psi!.mean, 12);
    expect({ ...fromHours, features: {}, driftShare: {} }).toEqual({ ...fromWindows, features: {}, driftShare: {} });
    expect(mergeRollups(hourly[0], hourly[1]).windows).toBe(4);
  });

  it('leaves statistics that are not finite out of means and maxima', () => {
    const [b] = rollup([window(0, Number.NaN), window(1, 0.4)], 'hour');
    expect(b.features.age.psi).toEqual({ n: 1, mean: 0.4, max: 0.4 });
  });

  it('a window is a point of its own bounds; a point keeps the features asked for', () => {
    const p = pointOfEvaluation(window(3, 0.2));
    expect(p).toMatchObject({ resolution: 'window', bucketStart: T0 + 3 * MINUTE, bucketEnd: T0 + 4 * MINUTE, windows: 1 });
    const only = onlyFeatures(p, ['region', 'score']);
    expect(Object.keys(only.features)).toEqual(['region']);
    expect(Object.keys(only.prediction!)).toEqual(['score']);
  });
});
