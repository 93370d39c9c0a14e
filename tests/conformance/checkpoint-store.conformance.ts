import { describe, expect, it } from 'vitest';
import type { CheckpointStore, PartitionCheckpoint } from '../../src/ports/checkpoint-store.js';

/** What every CheckpointStore must do. `make` returns a fresh, empty store. */
export function checkpointStoreConformance(name: string, make: () => Promise<CheckpointStore>): void {
  describe(`CheckpointStore conformance: ${name}`, () => {
    const cp = (over: Partial<PartitionCheckpoint> = {}): PartitionCheckpoint => ({
      topic: 'inference-events',
      partition: 3,
      nextOffset: '9007199254740993',
      watermark: 1_767_268_800_000,
      state: { panes: [{ start: 1, counts: [1, 2, 3], nested: { a: null, b: 'x' } }] },
      savedAt: 1_767_268_805_000,
      ...over,
    });

    it('returns undefined for a partition never checkpointed', async () => {
      const store = await make();
      expect(await store.loadCheckpoint('g', 'inference-events', 0)).toBeUndefined();
    });

    it('round-trips a checkpoint, offsets beyond 2^53 included', async () => {
      const store = await make();
      await store.saveCheckpoint('g', cp());
      expect(await store.loadCheckpoint('g', 'inference-events', 3)).toEqual(cp());
    });

    it('replaces the previous checkpoint whole', async () => {
      const store = await make();
      await store.saveCheckpoint('g', cp({ state: { a: 1, b: 2 } }));
      await store.saveCheckpoint('g', cp({ nextOffset: '12', state: { c: 3 } }));
      expect(await store.loadCheckpoint('g', 'inference-events', 3)).toEqual(cp({ nextOffset: '12', state: { c: 3 } }));
    });

    it('keeps groups, topics and partitions apart', async () => {
      const store = await make();
      await store.saveCheckpoint('g1', cp({ nextOffset: '1' }));
      await store.saveCheckpoint('g2', cp({ nextOffset: '2' }));
      await store.saveCheckpoint('g1', cp({ topic: 'other', nextOffset: '3' }));
      await store.saveCheckpoint('g1', cp({ partition: 4, nextOffset: '4' }));
      expect((await store.loadCheckpoint('g1', 'inference-events', 3))?.nextOffset).toBe('1');
      expect((await store.loadCheckpoint('g2', 'inference-events', 3))?.nextOffset).toBe('2');
      expect((await store.loadCheckpoint('g1', 'other', 3))?.nextOffset).toBe('3');
      expect((await store.loadCheckpoint('g1', 'inference-events', 4))?.nextOffset).toBe('4');
    });

    it('does not share mutable state with the caller', async () => {
      const store = await make();
      const c = cp({ state: { list: [1] } });
      await store.saveCheckpoint('g', c);
      (c.state as { list: number[] }).list.push(2);
      expect((await store.loadCheckpoint('g', 'inference-events', 3))?.state).toEqual({ list: [1] });
    });
  });
}
