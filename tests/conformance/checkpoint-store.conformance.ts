import { describe, expect, it } from 'vitest';
import { CheckpointSupersededError } from '../../src/errors.js';
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
      await store.saveCheckpoint('g', cp({ nextOffset: '12', state: { a: 1, b: 2 } }));
      await store.saveCheckpoint('g', cp({ state: { c: 3 } }));
      expect(await store.loadCheckpoint('g', 'inference-events', 3)).toEqual(cp({ state: { c: 3 } }));
    });

    it('never moves a checkpoint back: a stale owner is refused, the same offset replaces it', async () => {
      const store = await make();
      // The new owner went on to 9007199254740993; a stale one that did not hear of the rebalance saves 99.
      await store.saveCheckpoint('g', cp());
      const stale = store.saveCheckpoint('g', cp({ nextOffset: '99', state: { stale: true } }));
      await expect(stale).rejects.toBeInstanceOf(CheckpointSupersededError);
      await expect(stale).rejects.toThrow('the stored one is further, at 9007199254740993');
      // Offsets compare exactly: 2^53 and 2^53 + 1 are the same double, so comparing numbers would let this through.
      await expect(store.saveCheckpoint('g', cp({ nextOffset: '9007199254740992' }))).rejects.toBeInstanceOf(CheckpointSupersededError);
      expect(await store.loadCheckpoint('g', 'inference-events', 3)).toEqual(cp());
      await store.saveCheckpoint('g', cp({ state: { idleClosed: true } }));
      expect((await store.loadCheckpoint('g', 'inference-events', 3))?.state).toEqual({ idleClosed: true });
      await store.saveCheckpoint('g', cp({ nextOffset: '10000000000000000' }));
      expect((await store.loadCheckpoint('g', 'inference-events', 3))?.nextOffset).toBe('10000000000000000');
      // Another partition is not held back by this one.
      await store.saveCheckpoint('g', cp({ partition: 4, nextOffset: '5' }));
      expect((await store.loadCheckpoint('g', 'inference-events', 4))?.nextOffset).toBe('5');
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
