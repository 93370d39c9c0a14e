import { describe, expect, it } from 'vitest';
import { AlertTracker } from '../../../../src/core/drift/alert-tracker.js';
import type { AlertCondition } from '../../../../src/core/drift/alert-conditions.js';
import { alertIdOf, evaluationIdOf } from '../../../../src/core/drift/ids.js';
import type { Evaluation, Severity } from '../../../../src/core/drift/types.js';

const W = 10_000;

function evaluation(i: number, alertable = true): Evaluation {
  return {
    evaluationId: evaluationIdOf('m', 'w', i * W),
    modelId: 'm',
    modelVersion: 'v1',
    windowName: 'w',
    windowStart: i * W,
    windowEnd: (i + 1) * W,
    sampleSize: 500,
    referenceId: 'r1',
    evaluatedAt: 0,
    datasetDrift: { share: 0, drift: false },
    features: {},
    alertable,
  };
}

function cond(feature: string, severity: Severity, psi = severity === 'NONE' ? 0.01 : severity === 'WARNING' ? 0.15 : 0.4): AlertCondition {
  return {
    key: `FEATURE_DRIFT|${feature}`,
    kind: 'FEATURE_DRIFT',
    feature,
    severity,
    triggered: severity === 'NONE' ? [] : ['psi'],
    measures: { psi: { value: psi, warning: 0.1, critical: 0.25 }, ks: { value: 0.3, warning: 0.1, critical: 0.2 } },
  };
}

function run(tracker: AlertTracker, steps: [number, AlertCondition[]][]) {
  return steps.flatMap(([i, c]) => tracker.update(evaluation(i), c, 1000 + i).map((a) => `${i}:${a.feature}:${a.status}:${a.severity}`));
}

describe('AlertTracker', () => {
  it('fires once when crossing, stays quiet while in alarm, resolves after resolveAfter clean evaluations', () => {
    const t = new AlertTracker('m', 'w', { resolveAfter: 2 });
    const out = run(t, [
      [0, [cond('a', 'NONE')]],
      [1, [cond('a', 'WARNING')]],
      [2, [cond('a', 'WARNING')]],
      [3, [cond('a', 'NONE')]],
      [4, [cond('a', 'WARNING')]], // back in alarm before resolving: same incident, nothing new
      [5, [cond('a', 'NONE')]],
      [6, [cond('a', 'NONE')]],
      [7, [cond('a', 'NONE')]],
    ]);
    expect(out).toEqual(['1:a:FIRING:WARNING', '6:a:RESOLVED:WARNING']);
  });

  it('escalates WARNING to CRITICAL under the same alertId, once, and never de-escalates', () => {
    const t = new AlertTracker('m', 'w', { resolveAfter: 1 });
    const alerts = [0, 1, 2, 3, 4].flatMap((i) =>
      t.update(evaluation(i), [cond('a', (['WARNING', 'CRITICAL', 'WARNING', 'CRITICAL', 'NONE'] as Severity[])[i])], 0),
    );
    expect(alerts.map((a) => `${a.status}:${a.severity}`)).toEqual(['FIRING:WARNING', 'FIRING:CRITICAL', 'RESOLVED:CRITICAL']);
    expect(new Set(alerts.map((a) => a.alertId)).size).toBe(1);
    expect(alerts[0].alertId).toBe(alertIdOf('m', 'w', 'FEATURE_DRIFT', 'a', 'psi', 0));
    expect(alerts[1].threshold).toBe(0.25);
    expect(alerts[0].threshold).toBe(0.1);
  });

  it('derives the alertId from model, window, kind, feature, statistic and the first window start', () => {
    const a = alertIdOf('m', 'w', 'FEATURE_DRIFT', 'a', 'psi', 10_000);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(alertIdOf('m', 'w', 'FEATURE_DRIFT', 'a', 'psi', 10_000)).toBe(a);
    for (const other of [
      alertIdOf('m2', 'w', 'FEATURE_DRIFT', 'a', 'psi', 10_000),
      alertIdOf('m', 'w2', 'FEATURE_DRIFT', 'a', 'psi', 10_000),
      alertIdOf('m', 'w', 'PREDICTION_DRIFT', 'a', 'psi', 10_000),
      alertIdOf('m', 'w', 'FEATURE_DRIFT', 'b', 'psi', 10_000),
      alertIdOf('m', 'w', 'FEATURE_DRIFT', 'a', 'ks', 10_000),
      alertIdOf('m', 'w', 'FEATURE_DRIFT', 'a', 'psi', 20_000),
      alertIdOf('m', 'w', 'FEATURE_DRIFT', null, 'psi', 10_000),
    ]) {
      expect(other).not.toBe(a);
    }
  });

  it('gives a new incident a new id after the old one resolved', () => {
    const t = new AlertTracker('m', 'w', { resolveAfter: 1 });
    const alerts = [0, 1, 2].flatMap((i) => t.update(evaluation(i), [cond('a', i === 1 ? 'NONE' : 'WARNING')], 0));
    expect(alerts.map((a) => a.status)).toEqual(['FIRING', 'RESOLVED', 'FIRING']);
    expect(alerts[2].alertId).not.toBe(alerts[0].alertId);
  });

  it('replays to the same records from the same evaluations (deterministic), and ignores older windows', () => {
    const steps: [number, AlertCondition[]][] = [
      [0, [cond('a', 'WARNING'), cond('b', 'NONE')]],
      [1, [cond('a', 'CRITICAL'), cond('b', 'WARNING')]],
      [2, [cond('a', 'NONE'), cond('b', 'NONE')]],
      [3, [cond('a', 'NONE'), cond('b', 'NONE')]],
    ];
    const t1 = new AlertTracker('m', 'w', { resolveAfter: 2 });
    const t2 = new AlertTracker('m', 'w', { resolveAfter: 2 });
    const ids = (t: AlertTracker) => steps.flatMap(([i, c]) => t.update(evaluation(i), c, 0).map((a) => [a.alertId, a.status, a.severity].join('|')));
    const first = ids(t1);
    expect(first).toHaveLength(5);
    expect(ids(t2)).toEqual(first);
    // A replay into a tracker that already saw these windows publishes nothing.
    expect(ids(t1)).toEqual([]);
  });

  it('does not count a re-evaluation of the latest window as a second clean evaluation', () => {
    const t = new AlertTracker('m', 'w', { resolveAfter: 2 });
    t.update(evaluation(0), [cond('a', 'WARNING')], 0);
    expect(t.update(evaluation(1), [cond('a', 'NONE')], 0)).toEqual([]);
    expect(t.update(evaluation(1), [cond('a', 'NONE')], 0)).toEqual([]);
    expect(t.firing).toBe(true);
    expect(t.update(evaluation(2), [cond('a', 'NONE')], 0).map((a) => a.status)).toEqual(['RESOLVED']);
  });

  it('ignores windows with too few samples', () => {
    const t = new AlertTracker('m', 'w', { resolveAfter: 1 });
    expect(t.update(evaluation(0, false), [cond('a', 'CRITICAL')], 0)).toEqual([]);
    t.update(evaluation(1), [cond('a', 'WARNING')], 0);
    expect(t.update(evaluation(2, false), [cond('a', 'NONE')], 0)).toEqual([]);
    expect(t.firing).toBe(true);
  });

  it('round-trips its state through JSON and continues where it left off', () => {
    const t = new AlertTracker('m', 'w', { resolveAfter: 2 });
    t.update(evaluation(0), [cond('a', 'WARNING')], 0);
    t.update(evaluation(1), [cond('a', 'NONE')], 0);
    const back = AlertTracker.fromJSON('m', 'w', { resolveAfter: 2 }, JSON.parse(JSON.stringify(t.toJSON())));
    expect(back.update(evaluation(2), [cond('a', 'NONE')], 0).map((a) => a.status)).toEqual(['RESOLVED']);
    expect(AlertTracker.fromJSON('m', 'w', { resolveAfter: 2 }, { garbage: true }).firing).toBe(false);
  });

  it('names the incident after its statistic and reports that statistic while it lasts', () => {
    const t = new AlertTracker('m', 'w', { resolveAfter: 1 });
    const ks: AlertCondition = { ...cond('a', 'WARNING'), triggered: ['ks'] };
    const [fired] = t.update(evaluation(0), [ks], 0);
    expect(fired.statistic).toBe('ks');
    expect(fired.value).toBe(0.3);
    const [escalated] = t.update(evaluation(1), [cond('a', 'CRITICAL')], 0);
    expect(escalated.statistic).toBe('ks');
    expect(escalated.alertId).toBe(fired.alertId);
  });
});

describe('AlertTracker sequential state', () => {
  it('keeps the derived-window state for newer windows and hands the latest window evaluated again a copy without its own entry, through JSON', () => {
    const t = new AlertTracker('m', 'w', { resolveAfter: 3 });
    t.sequentialFor(W).x = { z: [1.5], n: [200] };
    t.update(evaluation(0), [], 1);
    t.sequentialFor(2 * W).x = { z: [1.5, 2], n: [200, 200] };
    t.update(evaluation(1), [], 1);
    const restored = AlertTracker.fromJSON('m', 'w', { resolveAfter: 3 }, JSON.parse(JSON.stringify(t.toJSON())));
    // The latest window evaluated again (a late partial): its own z must not count twice.
    const again = restored.sequentialFor(2 * W);
    expect(again.x).toEqual({ z: [1.5], n: [200] });
    again.x = { z: [1.5, 9], n: [200, 200] };
    expect(restored.sequentialFor(3 * W).x).toEqual({ z: [1.5, 2], n: [200, 200] });
  });

  it('starts a window older than the latest from an empty state, leaving the latest state alone', () => {
    const t = new AlertTracker('m', 'w', { resolveAfter: 3 });
    t.sequentialFor(3 * W).x = { z: [3], n: [200] };
    t.update(evaluation(2), [], 1);
    // A replay from an earlier offset: the windows after it are not its evidence.
    const older = t.sequentialFor(2 * W);
    expect(older).toEqual({});
    older.x = { z: [1], n: [200] };
    expect(t.toJSON().sequential!.x).toEqual({ z: [3], n: [200] });
    expect(t.sequentialFor(4 * W).x).toEqual({ z: [3], n: [200] });
  });
});
