import { describe, expect, it } from 'vitest';
import { advanceRetrainGate, initialRetrainState, retrainStateOf, type RetrainGateState } from '../../../../src/core/drift/retrain-gate.js';
import type { Evaluation } from '../../../../src/core/drift/types.js';
import { modelConfigToJson, parseModelConfig } from '../../../../src/core/model/model-config.js';

const MINUTE = 60_000;

function model(retrain: Record<string, unknown>) {
  return parseModelConfig({ modelId: 'm', features: { a: 'numeric', b: 'numeric', c: 'numeric' }, importance: { a: 0.2, b: 0.7, c: 0.1 }, windows: [{ name: '1m', size: '1m' }], retrain });
}

function evaluation(i: number, drifting: string[], accuracy?: number, labelled = 500): Evaluation {
  const f = (name: string) => ({ type: 'numeric' as const, nReference: 1000, nCurrent: 1000, missing: 0, missingRate: 0, drift: drifting.includes(name), severity: drifting.includes(name) ? ('CRITICAL' as const) : ('NONE' as const) });
  const weights: Record<string, number> = { a: 0.2, b: 0.7, c: 0.1 };
  const weightedShare = drifting.reduce((s, n) => s + weights[n], 0);
  return {
    evaluationId: `e${i}`,
    modelId: 'm',
    modelVersion: null,
    windowName: '1m',
    windowStart: i * MINUTE,
    windowEnd: (i + 1) * MINUTE,
    sampleSize: 1000,
    referenceId: 'r1',
    evaluatedAt: (i + 1) * MINUTE,
    datasetDrift: { share: drifting.length / 3, drift: drifting.length >= 2, weightedShare },
    features: { a: f('a'), b: f('b'), c: f('c') },
    ...(accuracy !== undefined ? { performance: { labelled, predictions: 1000, coverage: labelled / 1000, metrics: { accuracy } } } : {}),
    alertable: true,
  };
}

function run(m: ReturnType<typeof model>, evaluations: Evaluation[], state: RetrainGateState = initialRetrainState(), reference?: { accuracy: number }) {
  const records = [];
  for (const e of evaluations) {
    const next = advanceRetrainGate(state, e, m, reference ? { labelled: 1000, kind: 'score', positiveClass: '1', metrics: reference } : undefined, e.windowEnd + 1000);
    state = next.state;
    if (next.record) records.push(next.record);
  }
  return { records, state };
}

describe('retrain gate', () => {
  it('signals once when the weighted drift gate holds for the sustained span, with its evidence', () => {
    const m = model({ weightedDriftShare: 0.6, sustainFor: '3m' });
    // b (0.7) drifts from window 2 on: held since 2m; 3 minutes later (end of window 4) it signals, then stays quiet.
    const evals = Array.from({ length: 10 }, (_, i) => evaluation(i, i >= 2 ? ['b', 'c'] : []));
    const { records } = run(m, evals);
    expect(records).toHaveLength(1);
    const r = records[0];
    expect(r.kind).toBe('RETRAIN_RECOMMENDED');
    expect(r.status).toBe('FIRING');
    expect(r.windowStart).toBe(2 * MINUTE);
    expect(r.windowEnd).toBe(5 * MINUTE);
    expect(r.statistic).toBe('weightedDriftShare');
    expect(r.value).toBeCloseTo(0.8, 12);
    expect(r.details['weightedDriftShare.driftingFeatures']).toBe('b,c');
    expect(r.details.heldForMs).toBe(String(3 * MINUTE));
    // A replay of the same evaluations names the same incident.
    expect(run(m, evals).records[0].alertId).toBe(r.alertId);
  });

  it('needs an unbroken run: a clean window before the span restarts it', () => {
    const m = model({ weightedDriftShare: 0.6, sustainFor: '3m' });
    const evals = Array.from({ length: 8 }, (_, i) => evaluation(i, i === 2 || i === 5 ? [] : ['b']));
    expect(run(m, evals).records).toHaveLength(0);
  });

  it('signals again only after the incident clears', () => {
    const m = model({ weightedDriftShare: 0.6, sustainFor: '2m', clearAfter: 2 });
    const pattern = [1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1];
    const evals = pattern.map((d, i) => evaluation(i, d ? ['b'] : []));
    const { records } = run(m, evals);
    // First incident at 0m..2m; one clean window does not end it; two do; the next run signals again.
    expect(records.map((r) => r.windowStart)).toEqual([0, 8 * MINUTE]);
    expect(new Set(records.map((r) => r.alertId)).size).toBe(2);
  });

  it('holds the performance gate only with enough labels, and requires all gates when told', () => {
    const perf = model({ performance: { metric: 'accuracy', degradation: 0.05, minLabelled: 200 }, sustainFor: '1m' });
    expect(run(perf, [evaluation(0, [], 0.8, 100), evaluation(1, [], 0.8, 100)], undefined, { accuracy: 0.9 }).records).toHaveLength(0);
    const [r] = run(perf, [evaluation(0, [], 0.8), evaluation(1, [], 0.8)], undefined, { accuracy: 0.9 }).records;
    expect(r.statistic).toBe('performance');
    expect(r.value).toBeCloseTo(0.1, 12);
    expect(r.details['performance.reference']).toBe('0.9');
    const both = model({ weightedDriftShare: 0.6, performance: { metric: 'accuracy', degradation: 0.05 }, require: 'all', sustainFor: '1m' });
    expect(run(both, [evaluation(0, ['b'], 0.89), evaluation(1, ['b'], 0.89)], undefined, { accuracy: 0.9 }).records).toHaveLength(0);
    expect(run(both, [evaluation(0, ['b'], 0.8), evaluation(1, ['b'], 0.8)], undefined, { accuracy: 0.9 }).records).toHaveLength(1);
  });

  it('validates its configuration, keeps it through JSON, and ignores a window seen again', () => {
    const m = model({ weightedDriftShare: 0.5, sustainFor: '30m' });
    expect(parseModelConfig(modelConfigToJson(m))).toEqual(m);
    expect(() => model({ sustainFor: '1h' })).toThrow(/needs at least one gate/);
    expect(() => model({ weightedDriftShare: 0.5 })).toThrow(/retrain.sustainFor/);
    expect(() => model({ weightedDriftShare: 0.5, sustainFor: '1h', window: '5m' })).toThrow(/retrain.window/);
    expect(() => model({ performance: { metric: 'nope', degradation: 1 }, sustainFor: '1h' })).toThrow(/retrain.performance.metric/);
    const once = advanceRetrainGate(initialRetrainState(), evaluation(5, ['b']), m, undefined, 0).state;
    expect(advanceRetrainGate(once, evaluation(5, ['b']), m, undefined, 0).state).toEqual(once);
    expect(retrainStateOf(JSON.parse(JSON.stringify(once)))).toEqual(once);
    expect(retrainStateOf('garbage')).toEqual(initialRetrainState());
  });
});
