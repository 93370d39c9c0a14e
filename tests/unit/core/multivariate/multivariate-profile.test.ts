import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  MIN_MULTIVARIATE_ROWS,
  MultivariateProfileBuilder,
  checkMultivariateProfile,
  multivariateBuilderFor,
  principalAxes,
  residualOfStandardized,
  withMultivariate,
} from '../../../../src/core/profile/multivariate-profile.js';
import { correlatedRows } from './support.js';

const numpy = JSON.parse(readFileSync(new URL('../../../fixtures/multivariate/pca-numpy.json', import.meta.url), 'utf8')) as {
  rows: number[][];
  components: number[][];
  explained: number[];
};

describe('principal axes (ml-pca) against numpy', () => {
  it('finds numpy eigh axes and explained shares on the same rows, up to each axis sign', () => {
    const { components, explained } = principalAxes(numpy.rows, 0.999);
    expect(components).toHaveLength(4); // at most p - 1 axes: some error always remains
    for (let k = 0; k < components.length; k++) {
      const dot = components[k].reduce((s, v, i) => s + v * numpy.components[k][i], 0);
      expect(Math.abs(dot)).toBeCloseTo(1, 9);
    }
    const cumulative = numpy.explained.slice(0, 4).reduce((s, v) => s + v, 0);
    expect(explained).toBeCloseTo(cumulative, 9);
  });

  it('keeps the fewest axes whose explained share reaches the asked share', () => {
    expect(principalAxes(numpy.rows, 0.4).components).toHaveLength(1);
    expect(principalAxes(numpy.rows, 0.85).components).toHaveLength(2);
    expect(principalAxes(numpy.rows, 0.9).components).toHaveLength(3);
  });

  it('measures the squared residual: zero on an axis, the whole norm orthogonal to every axis', () => {
    const axes = [
      [1, 0, 0],
      [0, 1, 0],
    ];
    expect(residualOfStandardized([3, -2, 0], axes)).toBeCloseTo(0, 12);
    expect(residualOfStandardized([3, -2, 2], axes)).toBeCloseTo(4, 12);
  });
});

describe('MultivariateProfileBuilder', () => {
  it('fits on complete rows and measures the error on held-out rows: 1 - rho for two features at correlation rho', () => {
    const builder = new MultivariateProfileBuilder(['a', 'b'], { varianceShare: 0.65 });
    for (const r of correlatedRows(1, 20_000, 0.8)) builder.acceptRecord(r);
    builder.acceptRecord({ a: 1, b: null }); // incomplete: left out
    builder.acceptRecord({ a: 1, b: 'x' });
    const mv = builder.build()!;
    expect(mv.features).toEqual(['a', 'b']);
    expect(mv.components).toHaveLength(1);
    expect(Math.abs(mv.components[0][0])).toBeCloseTo(Math.SQRT1_2, 2);
    expect(mv.explained).toBeCloseTo(0.9, 2);
    expect(mv.fitRows + mv.error.rows).toBe(20_000);
    // The residual along (1, -1)/sqrt(2) of standardized a, b is normal with variance 1 - rho = 0.2: its
    // distance is half-normal, mean sqrt(0.2 * 2 / pi), sd sqrt(0.2 * (1 - 2 / pi)) (a little less, capped).
    expect(mv.error.mean).toBeCloseTo(Math.sqrt(0.4 / Math.PI), 2);
    expect(Math.sqrt(mv.error.variance)).toBeCloseTo(Math.sqrt(0.2 * (1 - 2 / Math.PI)), 1);
    expect(mv.error.cap).toBeGreaterThan(2.5 * Math.sqrt(0.2)); // the 99.5% quantile of the half-normal: 2.81 sd
    expect(mv.error.cap).toBeLessThan(3.1 * Math.sqrt(0.2));
    expect(() => checkMultivariateProfile(JSON.parse(JSON.stringify(mv)))).not.toThrow();
  });

  it('keeps a bounded uniform reservoir, and fits nothing from too few rows or fewer than two varying features', () => {
    const bounded = new MultivariateProfileBuilder(['a', 'b', 'c'], { maxRows: 1000 });
    for (const r of correlatedRows(2, 10_000, 0.5)) bounded.acceptRecord(r);
    const mv = bounded.build()!;
    expect(mv.fitRows + mv.error.rows).toBe(1000);
    expect(mv.mean[2]).toBeGreaterThan(9.5); // c's mean is 10: the reservoir is not the first rows only
    const few = new MultivariateProfileBuilder(['a', 'b']);
    for (const r of correlatedRows(3, MIN_MULTIVARIATE_ROWS - 1, 0.5)) few.acceptRecord(r);
    expect(few.build()).toBeUndefined();
    const constant = new MultivariateProfileBuilder(['a', 'k']);
    for (const r of correlatedRows(4, 1000, 0.5)) constant.acceptRecord({ a: r.a, k: 1 });
    expect(constant.build()).toBeUndefined();
    expect(multivariateBuilderFor({ a: 'numeric', r: 'categorical' })).toBeUndefined();
    expect(multivariateBuilderFor({ a: 'numeric', b: 'numeric', r: 'categorical' })?.features).toEqual(['a', 'b']);
    const profile = Object.freeze({ id: 'x' });
    expect(withMultivariate(profile, few)).toBe(profile);
  });

  it('refuses a malformed stored multivariate profile', () => {
    expect(() => checkMultivariateProfile({ features: ['a'], mean: [0], std: [1], components: [[1]], error: { rows: 1, mean: 1, variance: 1, cap: 3 } })).toThrow(/malformed/);
    expect(() => checkMultivariateProfile({ features: ['a', 'b'], mean: [0, 0], std: [1, 0], components: [[1, 0]], error: { rows: 1, mean: 1, variance: 1, cap: 3 } })).toThrow(/malformed/);
    expect(() => checkMultivariateProfile(null)).toThrow(/malformed/);
  });
});
