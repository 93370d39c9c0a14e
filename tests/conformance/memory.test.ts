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
import { makeAlert, makeEvaluation, T0 } from '../support/fixtures.js';

checkpointStoreConformance('memory', async () => new MemoryCheckpointStore());
modelRepositoryConformance('memory', async () => new MemoryModelRepository());
resultRepositoryConformance('memory', async () => new MemoryResultRepository({ evaluationsPerWindow: 1_000 }));
paneCoordinatorConformance('memory', async () => new MemoryPaneCoordinator());
alertStateStoreConformance('memory', async () => new MemoryAlertStateStore());
labelJoinConformance('memory', async (options) => new MemoryLabelJoin(options));

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

  it('keeps the newest alert records', async () => {
    const repo = new MemoryResultRepository({ maxAlerts: 2 });
    await repo.saveAlerts([1, 2, 3].map((i) => makeAlert({ alertId: `a${i}`, detectedAt: T0 + i })));
    const { alerts } = await repo.listAlerts({});
    expect(alerts.map((a) => a.alertId)).toEqual(['a3', 'a2']);
  });
});
