import { describe, expect, it } from 'vitest';
import { parseModelConfig, type ModelConfig } from '../../../../src/core/model/model-config.js';
import { ReferenceProfileBuilder, parseProfile, serializeProfile, type ReferenceProfile } from '../../../../src/core/profile/reference-profile.js';
import { MultivariateProfileBuilder, withMultivariate } from '../../../../src/core/profile/multivariate-profile.js';
import { createPaneLayout } from '../../../../src/core/windows/pane-layout.js';
import { Pane } from '../../../../src/core/windows/pane.js';
import { evaluateWindow } from '../../../../src/core/drift/evaluate-window.js';
import { multivariateConditions } from '../../../../src/core/drift/multivariate-conditions.js';
import { reconstructionNullUpper, reconstructionPValue } from '../../../../src/core/drift/multivariate-verdict.js';
import { ReconstructionSummary } from '../../../../src/core/stats/reconstruction-error.js';
import { correlatedRows } from './support.js';

function model(enabled = true): ModelConfig {
  return parseModelConfig({ modelId: 'mv', features: { a: 'numeric', b: 'numeric', c: 'numeric' }, windows: [{ name: '1m', size: '1m' }], multivariate: { enabled } });
}

function reference(rows: Record<string, number>[]): ReferenceProfile {
  const builder = new ReferenceProfileBuilder({ a: 'numeric', b: 'numeric', c: 'numeric' });
  const mv = new MultivariateProfileBuilder(['a', 'b', 'c']);
  for (const r of rows) {
    builder.accept(r);
    mv.acceptRecord(r);
  }
  // Through its stored form, as the detector reads it.
  return parseProfile(serializeProfile(withMultivariate(builder.build({ createdAt: 0, id: 'ref' }), mv)));
}

const profile = reference(correlatedRows(7, 20_000, 0.8));

function windowOf(m: ModelConfig, rows: Record<string, number>[]): Pane {
  const pane = new Pane(createPaneLayout(m, 'ref', profile), 0, 60_000);
  for (const r of rows) pane.accept(r, null, null, null);
  return pane;
}

function evaluate(m: ModelConfig, rows: Record<string, number>[]) {
  return evaluateWindow({ model: m, pane: windowOf(m, rows), windowName: '1m', windowStart: 0, windowEnd: 60_000, evaluatedAt: 0 });
}

describe('multivariate drift verdict', () => {
  it('fires on a correlation flip with unchanged marginals, which the univariate verdicts do not see', () => {
    const m = model();
    const e = evaluate(m, correlatedRows(8, 1000, -0.8));
    expect(e.multivariate?.verdict).toBe('drift');
    expect(e.multivariate?.severity).toBe('CRITICAL');
    expect(e.multivariate!.effect!).toBeGreaterThan(1);
    for (const f of ['a', 'b', 'c']) expect(e.features[f].drift).toBe(false);
    const condition = multivariateConditions(e).find((c) => c.kind === 'MULTIVARIATE_DRIFT');
    expect(condition?.severity).toBe('CRITICAL');
    expect(condition?.measures.reconstructionError.details?.verdict).toBe('drift');
  });

  it('stays ok on windows from the reference law, takes one test share of the budget, and reports what it could see', () => {
    const m = model();
    let alarms = 0;
    for (let s = 0; s < 200; s++) if (evaluate(m, correlatedRows(100 + s, 500, 0.8)).multivariate?.verdict === 'drift') alarms++;
    expect(alarms).toBe(0);
    const e = evaluate(m, correlatedRows(99, 500, 0.8));
    expect(e.multivariate!.level).toBeCloseTo(m.falseAlarmBudget / 4, 12); // three features and the multivariate test
    expect(e.multivariate!.reference.components).toBe(2); // shares 0.6, 0.33, 0.07: two reach 0.65
    const small = evaluate(m, correlatedRows(98, 20, 0.8)).multivariate!;
    expect(small.verdict).toBe('insufficient');
    expect(small.mde!).toBeGreaterThan(m.multivariate.floor.warning);
  });

  it('is absent when disabled, and counts rows with a missing feature as incomplete', () => {
    expect(evaluate(model(false), correlatedRows(9, 300, 0.8)).multivariate).toBeUndefined();
    const m = model();
    const rows = correlatedRows(10, 300, 0.8).map((r, i) => (i % 3 === 0 ? { ...r, b: null as unknown as number } : r));
    const e = evaluate(m, rows);
    expect(e.multivariate!.n).toBe(200);
    expect(e.multivariate!.incomplete).toBe(100);
  });

  it('keeps per-pane sums that merge across panes and partitions and survive a checkpoint', () => {
    const m = model();
    const rows = correlatedRows(11, 900, 0.8);
    const whole = windowOf(m, rows);
    const parts = [windowOf(m, rows.slice(0, 300)), windowOf(m, rows.slice(300, 900))];
    const restored = Pane.fromJSON(JSON.parse(JSON.stringify(parts[1].toJSON())), parts[1].layout);
    const merged = Pane.empty(whole.layout, 0, 60_000).merge(parts[0]).merge(restored);
    expect(merged.reconstruction!.count).toBe(900);
    expect(merged.reconstruction!.sum).toBeCloseTo(whole.reconstruction!.sum, 8);
    expect(merged.reconstruction!.sumSq).toBeCloseTo(whole.reconstruction!.sumSq, 8);
    // The gathered path (the stream's) and the record path count the same error.
    const gathered = new Pane(whole.layout, 0, 60_000);
    for (const r of rows) {
      whole.layout.scratchNumeric.set([r.a, r.b, r.c]);
      gathered.acceptGathered(null, null, null);
    }
    expect(gathered.reconstruction!.sum).toBeCloseTo(whole.reconstruction!.sum, 8);
    expect(() => ReconstructionSummary.fromJSON([1, 2] as never)).toThrow(/expected/);
  });

  it('keeps the sums finite under absurd values', () => {
    const m = model();
    const pane = windowOf(m, [{ a: 1e300, b: -1e300, c: 1 }]);
    expect(Number.isFinite(pane.reconstruction!.sum)).toBe(true);
  });

  it('p-value: exact for gamma errors (chi-square rows), one-sided', () => {
    // Rows' errors chi-square(1): mean 1, variance 2. The mean of n of them is gamma(n/2, scale 2/n).
    const ref = { rows: 1e12, mean: 1, variance: 2, cap: Infinity };
    expect(reconstructionPValue(1, 100, ref)).toBeGreaterThan(0.4);
    expect(reconstructionPValue(1.5, 100, ref)).toBeCloseTo(0.000_903_932, 8); // P(chi-square(100) >= 150), scipy.stats.chi2.sf
    expect(reconstructionPValue(0.5, 100, ref)).toBeGreaterThan(0.99);
  });

  it('null range: the mean error whose p-value is the level', () => {
    const ref = { rows: 1e12, mean: 1, variance: 2, cap: Infinity };
    // P(chi-square(100) >= 150) = 0.000903932 (scipy.stats.chi2.sf): the mean of 100 rows reaches 1.5 with that probability.
    expect(reconstructionNullUpper(0.000_903_932, 100, ref)).toBeCloseTo(1.5, 5);
    for (const [level, n] of [[0.001, 100], [1e-5, 1000], [0.05, 20]] as const) {
      const upper = reconstructionNullUpper(level, n, ref);
      expect(reconstructionPValue(upper, n, ref) / level).toBeCloseTo(1, 6);
    }
    // A smaller level or a smaller window widens the range.
    expect(reconstructionNullUpper(1e-5, 100, ref)).toBeGreaterThan(reconstructionNullUpper(1e-3, 100, ref));
    expect(reconstructionNullUpper(1e-3, 100, ref)).toBeGreaterThan(reconstructionNullUpper(1e-3, 1000, ref));
  });
});
