import { describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/core/drift/types.js';
import type { DriftAlert } from '../../src/core/events.js';
import type { ResultRepository } from '../../src/ports/result-repository.js';
import { makeAlert, makeEvaluation, T0 } from '../support/fixtures.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** An evaluation of a window that did not drift, with statistics that vary by `i`. */
function quiet(i: number, over: Partial<Evaluation> = {}): Evaluation {
  const e = makeEvaluation({ windowStart: T0 + i * MINUTE, datasetDrift: { share: 0, drift: false }, ...over });
  e.features.age = { ...e.features.age, missingRate: 4 / 1_238, psi: 0.01 + i / 1_000, drift: false, severity: 'NONE' };
  return e;
}

/** What every ResultRepository must do. `make` returns a fresh, empty repository; `settle` waits for buffered writes. */
export function resultRepositoryConformance(
  name: string,
  make: () => Promise<ResultRepository>,
  settle: (repo: ResultRepository) => Promise<void> = async () => undefined,
): void {
  describe(`ResultRepository conformance: ${name}`, () => {
    it('round-trips an evaluation and serves the latest per window', async () => {
      const repo = await make();
      const e1 = makeEvaluation({ windowStart: T0 });
      const e2 = makeEvaluation({ windowStart: T0 + MINUTE });
      const h = makeEvaluation({ windowName: '1h', windowStart: T0, windowEnd: T0 + 60 * MINUTE });
      await repo.saveEvaluations([e1, e2, h]);
      await settle(repo);
      expect(await repo.latestEvaluation('credit-risk', '1m')).toEqual(e2);
      expect(await repo.latestEvaluation('credit-risk', '1h')).toEqual(h);
      expect(await repo.latestEvaluation('credit-risk', '5m')).toBeUndefined();
      expect(await repo.latestEvaluation('other', '1m')).toBeUndefined();
    });

    it('upserts on the evaluation id: writing again replaces, never duplicates', async () => {
      const repo = await make();
      const e = makeEvaluation();
      await repo.saveEvaluations([e]);
      await repo.saveEvaluations([e, { ...e, sampleSize: 2_000, evaluatedAt: e.evaluatedAt + 5 }]);
      await settle(repo);
      const all = await repo.listEvaluations({ modelId: 'credit-risk' });
      expect(all).toHaveLength(1);
      expect(all[0].sampleSize).toBe(2_000);
    });

    it('lists windows overlapping [from, to), newest first, filtered by name and limited', async () => {
      const repo = await make();
      const evals = Array.from({ length: 10 }, (_, i) => makeEvaluation({ windowStart: T0 + i * MINUTE }));
      const hourly = makeEvaluation({ windowName: '1h', windowStart: T0, windowEnd: T0 + 60 * MINUTE });
      const other = makeEvaluation({ modelId: 'other' });
      await repo.saveEvaluations([...evals, hourly, other]);
      await settle(repo);
      const oneMinute = await repo.listEvaluations({ modelId: 'credit-risk', windowName: '1m' });
      expect(oneMinute.map((e) => e.windowStart)).toEqual(evals.map((e) => e.windowStart).reverse());
      const range = await repo.listEvaluations({ modelId: 'credit-risk', windowName: '1m', from: T0 + 2 * MINUTE, to: T0 + 5 * MINUTE });
      expect(range.map((e) => (e.windowStart - T0) / MINUTE)).toEqual([4, 3, 2]);
      const limited = await repo.listEvaluations({ modelId: 'credit-risk', windowName: '1m', limit: 3 });
      expect(limited.map((e) => (e.windowStart - T0) / MINUTE)).toEqual([9, 8, 7]);
      const both = await repo.listEvaluations({ modelId: 'credit-risk', from: T0 + 9 * MINUTE });
      expect(both.map((e) => e.windowName)).toEqual(['1h', '1m']);
      expect(await repo.listEvaluations({ modelId: 'nobody' })).toEqual([]);
    });

    it('keeps a window that did not drift at least as its statistics, and the newest one whole', async () => {
      const repo = await make();
      const older = quiet(1);
      const newest = quiet(2);
      await repo.saveEvaluations([older, newest]);
      await settle(repo);
      const [second, first] = await repo.listEvaluations({ modelId: 'credit-risk', windowName: '1m' });
      expect(second).toEqual(newest);
      expect(await repo.latestEvaluation('credit-risk', '1m')).toEqual(newest);
      expect(first.evaluationId).toBe(older.evaluationId);
      expect(first.sampleSize).toBe(older.sampleSize);
      expect(first.performance).toEqual(older.performance);
      for (const [name, f] of Object.entries(older.features)) {
        const kept = first.features[name];
        expect(kept.severity).toBe(f.severity);
        expect(kept.drift).toBe(f.drift);
        expect(kept.nCurrent).toBe(f.nCurrent);
        expect(kept.missingRate).toBeCloseTo(f.missingRate, 9);
        expect(kept.psi).toBeCloseTo(f.psi!, 6);
        if (f.ks) expect(kept.ks?.pValue).toBeCloseTo(f.ks.pValue, 12);
        if (f.chiSquare) expect(kept.chiSquare?.pValue).toBeCloseTo(f.chiSquare.pValue, 6);
      }
      expect(first.prediction?.score.psi).toBeCloseTo(older.prediction!.score.psi!, 6);
      expect(first.proxy?.positiveRate).toBeCloseTo(older.proxy!.positiveRate!, 6);
    });

    it('rolls windows up by hour and by day, after replacements too', async () => {
      const repo = await make();
      const evals = Array.from({ length: 90 }, (_, i) => quiet(i));
      evals[70] = makeEvaluation({ windowStart: T0 + 70 * MINUTE });
      await repo.saveEvaluations(evals);
      await repo.saveEvaluations([{ ...evals[5], sampleSize: 2_000 }]);
      await repo.saveEvaluations([makeEvaluation({ modelId: 'other', windowStart: T0 })]);
      await settle(repo);
      const overview = await repo.listRollups({ modelId: 'credit-risk', windowName: '1m', resolution: 'hour', from: T0, to: T0 + 2 * HOUR });
      // Without features named, every feature comes with its counts and severity only.
      expect(overview[1].features).toEqual({
        age: { windows: 30, driftWindows: 1, severity: 'CRITICAL' },
        region: { windows: 30, driftWindows: 0, severity: 'NONE' },
      });
      expect(overview[1].prediction).toEqual({ score: { windows: 30, driftWindows: 0, severity: 'NONE' } });
      const hours = await repo.listRollups({ modelId: 'credit-risk', windowName: '1m', resolution: 'hour', from: T0, to: T0 + 2 * HOUR, features: ['age'] });
      expect(hours.map((h) => Object.keys(h.features))).toEqual([['age'], ['age']]);
      expect(hours[0].prediction).toEqual({});
      expect(overview.map((h) => [h.bucketStart, h.windows, h.sampleSize])).toEqual(hours.map((h) => [h.bucketStart, h.windows, h.sampleSize]));
      expect(hours.map((h) => [h.bucketStart - T0, h.bucketEnd - T0, h.windows, h.driftWindows, h.severity])).toEqual([
        [0, HOUR, 60, 0, 'NONE'],
        [HOUR, 2 * HOUR, 30, 1, 'CRITICAL'],
      ]);
      expect(hours[0].sampleSize).toBe(59 * 1_234 + 2_000);
      expect(hours[0].features.age.psi?.max).toBeCloseTo(0.01 + 59 / 1_000, 6);
      expect(hours[0].features.age.psi?.mean).toBeCloseTo(0.01 + 29.5 / 1_000, 6);
      expect(hours[1].features.age).toMatchObject({ windows: 30, driftWindows: 1, severity: 'CRITICAL', ksPValueMin: 1e-9 });
      expect(hours[1].performance).toMatchObject({ windows: 30, labelled: 30 * 600 });
      const days = await repo.listRollups({ modelId: 'credit-risk', windowName: '1m', resolution: 'day', from: T0, to: T0 + HOUR, features: ['region'] });
      expect(days).toHaveLength(1);
      expect(days[0]).toMatchObject({ resolution: 'day', windows: 90, driftWindows: 1, alertableWindows: 90 });
      expect(Object.keys(days[0].features)).toEqual(['region']);
      expect(days[0].features.region.psi?.mean).toBeCloseTo(0.01, 6);
      expect(await repo.listRollups({ modelId: 'credit-risk', windowName: '1m', resolution: 'hour', from: T0 + 3 * HOUR, to: T0 + 4 * HOUR })).toEqual([]);
      expect(await repo.listRollups({ modelId: 'nobody', windowName: '1m', resolution: 'hour', from: T0, to: T0 + HOUR })).toEqual([]);
    });

    it('writes each alert record (alertId, status, severity) once and keeps the history', async () => {
      const repo = await make();
      const firing = makeAlert({ severity: 'WARNING', detectedAt: T0 + 1 });
      const escalated = makeAlert({ severity: 'CRITICAL', detectedAt: T0 + 2 });
      const resolved = makeAlert({ status: 'RESOLVED', severity: 'CRITICAL', detectedAt: T0 + 3 });
      await repo.saveAlerts([firing, escalated]);
      await repo.saveAlerts([firing, { ...escalated, value: 99 }, resolved]);
      await settle(repo);
      const { alerts, nextCursor } = await repo.listAlerts({});
      expect(nextCursor).toBeUndefined();
      expect(alerts).toEqual([resolved, escalated, firing]);
    });

    it('filters alerts by status, model and time, and pages through all of them with a cursor', async () => {
      const repo = await make();
      const alerts: DriftAlert[] = [];
      for (let i = 0; i < 23; i++) {
        alerts.push(
          makeAlert({
            alertId: `id-${String(i).padStart(2, '0')}`,
            modelId: i % 2 === 0 ? 'even' : 'odd',
            status: i % 3 === 0 ? 'RESOLVED' : 'FIRING',
            // Several share a detectedAt, so the order must break ties.
            detectedAt: T0 + Math.floor(i / 4) * 1_000,
          }),
        );
      }
      await repo.saveAlerts(alerts);
      await settle(repo);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await repo.listAlerts({ limit: 5, cursor });
        seen.push(...page.alerts.map((a) => a.alertId));
        cursor = page.nextCursor;
        pages++;
      } while (cursor && pages < 20);
      expect(pages).toBe(5);
      expect(new Set(seen).size).toBe(23);
      const detected = seen.map((id) => alerts.find((a) => a.alertId === id)!.detectedAt);
      expect(detected).toEqual([...detected].sort((a, b) => b - a));

      const resolvedOdd = await repo.listAlerts({ status: 'RESOLVED', modelId: 'odd' });
      expect(resolvedOdd.alerts.map((a) => a.alertId).sort()).toEqual(['id-03', 'id-09', 'id-15', 'id-21']);
      const recent = await repo.listAlerts({ since: T0 + 5_000 });
      expect(recent.alerts.map((a) => a.alertId).sort()).toEqual(['id-20', 'id-21', 'id-22']);
    });

    it('lists the records of incidents by when they first fired, whatever window the record itself is about', async () => {
      const repo = await make();
      const DAY = 86_400_000;
      const first = (t: number) => ({ firstWindowStart: new Date(t).toISOString() });
      // An incident that first fired on day 0 and resolved on day 40, one that fired on day 35, a retraining signal (no firstWindowStart) of day 40.
      const old = makeAlert({ alertId: 'old', details: first(T0) });
      const oldResolved = makeAlert({ alertId: 'old', status: 'RESOLVED', windowStart: T0 + 40 * DAY, windowEnd: T0 + 40 * DAY + 60_000, detectedAt: T0 + 40 * DAY, details: first(T0) });
      const recent = makeAlert({ alertId: 'recent', windowStart: T0 + 35 * DAY, detectedAt: T0 + 35 * DAY, details: first(T0 + 35 * DAY) });
      const retrain = makeAlert({ alertId: 'retrain', kind: 'RETRAIN_RECOMMENDED', windowStart: T0 + 40 * DAY, detectedAt: T0 + 41 * DAY, details: {} });
      await repo.saveAlerts([old, oldResolved, recent, retrain]);
      // A replay detects the RESOLVED record again, later: it is the same record.
      await repo.saveAlerts([{ ...oldResolved, detectedAt: T0 + 50 * DAY }]);
      await settle(repo);
      const ids = async (q: { firedFrom?: number; firedTo?: number }) => (await repo.listAlerts(q)).alerts.map((a) => `${a.alertId}:${a.status}`);
      expect(await ids({})).toEqual(['retrain:FIRING', 'old:RESOLVED', 'recent:FIRING', 'old:FIRING']);
      expect(await ids({ firedTo: T0 + DAY })).toEqual(['old:RESOLVED', 'old:FIRING']);
      expect(await ids({ firedFrom: T0 + DAY })).toEqual(['retrain:FIRING', 'recent:FIRING']);
      expect(await ids({ firedFrom: T0 + 36 * DAY, firedTo: T0 + 41 * DAY })).toEqual(['retrain:FIRING']);
    });
  });
}
