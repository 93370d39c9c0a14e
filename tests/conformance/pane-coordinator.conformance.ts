import { describe, expect, it } from 'vitest';
import type { CompletePane, PaneCoordinator, PanePartial, PaneProgress } from '../../src/ports/pane-coordinator.js';

const T = 1_767_268_800_000; // 2026-01-01T12:00:00Z
const M = 60_000;
const TOPIC = 'inference-events';

function partial(partition: number, paneStart: number, state: unknown, modelId = 'm', paneEnd = paneStart + M): PanePartial {
  return { modelId, paneStart, paneEnd, topic: TOPIC, partition, state };
}

function progress(partition: number, watermark: number, partials: PanePartial[] = [], idle = false, partitionCount = 2): PaneProgress {
  return { topic: TOPIC, partition, partitionCount, watermark, idle, partials };
}

const key = (p: CompletePane) => `${p.modelId}@${p.paneStart}-${p.paneEnd}`;

/**
 * What every PaneCoordinator must do. `make` returns a fresh coordinator;
 * with `shared`, it returns a second handle on the same state (another process).
 */
export function paneCoordinatorConformance(name: string, make: () => Promise<PaneCoordinator>, shared?: () => Promise<PaneCoordinator>): void {
  describe(`PaneCoordinator conformance: ${name}`, () => {
    it('completes a pane only once every partition has passed it, with every partial', async () => {
      const c = await make();
      expect(await c.report(progress(0, T + M, [partial(0, T, { n: 3 })]))).toEqual([]);
      expect(await c.report(progress(1, T + M / 2))).toEqual([]);
      const done = await c.report(progress(1, T + M, [partial(1, T, { n: 4 })]));
      expect(done).toHaveLength(1);
      expect(done[0]).toMatchObject({ modelId: 'm', paneStart: T, paneEnd: T + M });
      expect(done[0].partials).toEqual([{ n: 3 }, { n: 4 }]);
    });

    it('a partition that has not reported holds panes back; an idle one does not', async () => {
      const c = await make();
      expect(await c.report(progress(0, T + 5 * M, [partial(0, T, { n: 1 })], false, 3))).toEqual([]);
      expect(await c.report(progress(1, T + 5 * M, [], false, 3))).toEqual([]);
      const done = await c.report(progress(2, 0, [], true, 3));
      expect(done.map(key)).toEqual([`m@${T}-${T + M}`]);
      expect(done[0].partials).toEqual([{ n: 1 }]);
    });

    it('keeps panes of other lengths and models apart', async () => {
      const c = await make();
      await c.report(progress(0, T + 10 * M, [partial(0, T, 'a1'), partial(0, T, 'a5', 'm', T + 5 * M), partial(0, T, 'b1', 'n')]));
      const done = await c.report(progress(1, T + 10 * M));
      expect(done.map(key).sort()).toEqual([`m@${T}-${T + 5 * M}`, `m@${T}-${T + M}`, `n@${T}-${T + M}`].sort());
      const byKey = new Map(done.map((p) => [key(p), p.partials]));
      expect(byKey.get(`m@${T}-${T + 5 * M}`)).toEqual(['a5']);
      expect(byKey.get(`n@${T}-${T + M}`)).toEqual(['b1']);
    });

    it('hands each complete pane to exactly one reporter, however they race', async () => {
      const c = await make();
      const other = shared ? await shared() : c;
      const partitions = 6;
      const reports: Promise<CompletePane[]>[] = [];
      for (let round = 1; round <= 5; round++) {
        for (let p = 0; p < partitions; p++) {
          const coordinator = p % 2 === 0 ? c : other;
          reports.push(
            coordinator.report({
              topic: TOPIC,
              partition: p,
              partitionCount: partitions,
              watermark: T + round * M,
              idle: false,
              partials: [partial(p, T + (round - 1) * M, { p, round })],
            }),
          );
        }
      }
      const elected = (await Promise.all(reports)).flat();
      expect(elected.map(key).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `m@${T + i * M}-${T + (i + 1) * M}`).sort());
      for (const pane of elected) expect(pane.partials).toHaveLength(partitions);
    });

    it('ignores a replayed partial but evaluates a pane again when a late partial changes it', async () => {
      const c = await make();
      await c.report(progress(0, T + M, [partial(0, T, { n: 3 })]));
      expect(await c.report(progress(1, T + M, [partial(1, T, { n: 4 })]))).toHaveLength(1);
      // After a crash, partition 1 replays the same events and closes the same pane again.
      expect(await c.report(progress(1, T + M, [partial(1, T, { n: 4 })]))).toEqual([]);
      // Late events of partition 0 change its partial: the pane is evaluated again, whole.
      const again = await c.report(progress(0, T + 2 * M, [partial(0, T, { n: 5 })]));
      expect(again).toHaveLength(1);
      expect(again[0].partials).toEqual([{ n: 5 }, { n: 4 }]);
    });

    it('serves complete panes of a model for sliding windows, not pending ones', async () => {
      const c = await make();
      for (let i = 0; i < 4; i++) {
        await c.report(progress(0, T + (i + 1) * M, [partial(0, T + i * M, { i, p: 0 })]));
      }
      await c.report(progress(1, T + 3 * M, [partial(1, T + M, { i: 1, p: 1 })]));
      const panes = await c.panes('m', T, T + 4 * M);
      expect(panes.map((p) => (p.paneStart - T) / M)).toEqual([0, 1, 2]);
      expect(panes[1].partials).toEqual([{ i: 1, p: 0 }, { i: 1, p: 1 }]);
      expect((await c.panes('m', T + M, T + 2 * M)).map((p) => (p.paneStart - T) / M)).toEqual([1]);
      expect(await c.panes('other', T, T + 4 * M)).toEqual([]);
    });
  });
}
