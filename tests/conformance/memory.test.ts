// Conformance of the in-memory adapters: the default without Redis and PostgreSQL.
import { describe, expect, it } from 'vitest';
import {
  MemoryAlertStateStore,
  MemoryCheckpointStore,
  MemoryModelRepository,
  MemoryPaneCoordinator,
  MemoryResultRepository,
} from '../../src/adapters/memory/index.js';
import { MemoryLabelJoin } from '../../src/adapters/memory/memory-label-join.js';
import { alertStateStoreConformance } from './alert-state-store.conformance.js';
import { checkpointStoreConformance } from './checkpoint-store.conformance.js';
import { labelJoinConformance } from './label-join.conformance.js';
import { modelRepositoryConformance } from './model-repository.conformance.js';
import { paneCoordinatorConformance } from './pane-coordinator.conformance.js';
import { resultRepositoryConformance } from './result-repository.conformance.js';
import { analysisRepositoryConformance } from './analysis-repository.conformance.js';
import { MemoryAnalysisRepository } from '../../src/adapters/memory/memory-analysis-repository.js';
import { makeAlert, makeEvaluation, T0 } from '../support/fixtures.js';
import { MemoryChannelRepository, MemoryNotificationLog } from '../../src/adapters/memory/memory-notification-log.js';
import { channelRepositoryConformance, notificationLogConformance } from './notification-log.conformance.js';
import { toAlertRecord } from '../../src/core/notify/alert-record.js';

checkpointStoreConformance('memory', async () => new MemoryCheckpointStore());
modelRepositoryConformance('memory', async () => new MemoryModelRepository());
resultRepositoryConformance('memory', async () => new MemoryResultRepository({ evaluationsPerWindow: 1_000 }));
paneCoordinatorConformance('memory', async () => new MemoryPaneCoordinator());
alertStateStoreConformance('memory', async () => new MemoryAlertStateStore());
labelJoinConformance('memory', async (options) => new MemoryLabelJoin(options));
analysisRepositoryConformance('memory', async () => new MemoryAnalysisRepository());
notificationLogConformance('memory', async () => new MemoryNotificationLog());
channelRepositoryConformance('memory', async () => new MemoryChannelRepository());

describe('MemoryNotificationLog bounds', () => {
  it('forgets the oldest settled notifications beyond its bound, never a pending one', async () => {
    const log = new MemoryNotificationLog(2);
    const item = (alertId: string) => ({ channelId: 'c', groupKey: alertId, dueAt: T0, record: toAlertRecord({ alertId, modelId: 'm' }, T0) });
    await log.enqueue(['a', 'b', 'c', 'd'].map(item));
    const claimed = await log.claimDue(['c'], 'o', T0, 1000, 10);
    await log.markDelivered(claimed.filter((r) => r.alertId !== 'd').map((r) => r.id), 'o', 'm', T0);
    await log.enqueue([item('e')]);
    const left = (await log.list({ limit: 10 })).notifications.map((n) => `${n.alertId}:${n.state}`);
    expect(left).toEqual(['e:pending', 'd:pending', 'c:delivered', 'b:delivered']);
  });
});

describe('MemoryResultRepository bounds', () => {
  it('keeps the newest evaluations per (model, window) by window end, whatever the write order', async () => {
    const repo = new MemoryResultRepository({ evaluationsPerWindow: 3 });
    const starts = [5, 1, 4, 2, 3, 0].map((i) => T0 + i * 60_000);
    await repo.saveEvaluations(starts.map((windowStart) => makeEvaluation({ windowStart })));
    await repo.saveEvaluations([makeEvaluation({ modelId: 'other', windowStart: T0 })]);
    const kept = await repo.listEvaluations({ modelId: 'credit-risk', windowName: '1m' });
    expect(kept.map((e) => (e.windowStart - T0) / 60_000)).toEqual([5, 4, 3]);
    expect(await repo.listEvaluations({ modelId: 'other' })).toHaveLength(1);
  });

  it('keeps evaluations packed and hands out independent copies with every value intact', async () => {
    const repo = new MemoryResultRepository();
    const e = makeEvaluation();
    const feature = Object.keys(e.features)[0];
    e.features[feature].psi = Number.NaN;
    e.features[feature].histogram = { edges: [0.5], reference: [0.25, 0.75], current: [0.5, 0.5] };
    await repo.saveEvaluations([e]);
    e.sampleSize = -1;
    const first = (await repo.latestEvaluation(e.modelId, e.windowName))!;
    expect(first.sampleSize).not.toBe(-1);
    expect(first.features[feature].psi).toBeNaN();
    expect(first.features[feature].histogram).toEqual({ edges: [0.5], reference: [0.25, 0.75], current: [0.5, 0.5] });
    first.features[feature].histogram!.current[0] = 9;
    const again = (await repo.listEvaluations({ modelId: e.modelId }))[0];
    expect(again.features[feature].histogram!.current[0]).toBe(0.5);
  });

  it('keeps the newest alert records', async () => {
    const repo = new MemoryResultRepository({ maxAlerts: 2 });
    await repo.saveAlerts([1, 2, 3].map((i) => makeAlert({ alertId: `a${i}`, detectedAt: T0 + i })));
    const { alerts } = await repo.listAlerts({});
    expect(alerts.map((a) => a.alertId)).toEqual(['a3', 'a2']);
  });
});

describe('MemoryPaneCoordinator payload retention', () => {
  const M = 60_000;
  const T = 1_767_268_800_000;
  const report = (c: MemoryPaneCoordinator, partition: number, watermark: number, paneStart: number, state: unknown) =>
    c.report({ topic: 't', partition, partitionCount: 2, watermark, idle: false, partials: [{ modelId: 'm', paneStart, paneEnd: paneStart + M, topic: 't', partition, state }] });

  it('after letting a pane’s partials go, ignores their replay and hands out a changed one alone', async () => {
    const c = new MemoryPaneCoordinator(3_600_000, 2 * M);
    await report(c, 0, T + M, T, { p: 0, n: 1 });
    expect(await report(c, 1, T + M, T, { p: 1, n: 1 })).toHaveLength(1);
    // Five more panes complete: the first is past the payload retention.
    for (let i = 1; i <= 5; i++) {
      await report(c, 0, T + (i + 1) * M, T + i * M, { p: 0, i });
      await report(c, 1, T + (i + 1) * M, T + i * M, { p: 1, i });
    }
    expect(await c.panes('m', T, T + M)).toEqual([]);
    expect((await c.panes('m', T + 4 * M, T + 5 * M))[0].partials).toEqual([{ p: 0, i: 4 }, { p: 1, i: 4 }]);
    // A replay of partition 1's partial of the first pane changes nothing.
    expect(await report(c, 1, T + 6 * M, T, { p: 1, n: 1 })).toEqual([]);
    // A changed partial is handed out alone, and once it is known a replay of it is ignored.
    const again = await report(c, 0, T + 6 * M, T, { p: 0, n: 2 });
    expect(again.map((p) => p.partials)).toEqual([[{ p: 0, n: 2 }]]);
    expect(await report(c, 0, T + 6 * M, T, { p: 0, n: 2 })).toEqual([]);
    // Partition 1's digest was kept through partition 0's change.
    expect(await report(c, 1, T + 6 * M, T, { p: 1, n: 1 })).toEqual([]);
  });
});
