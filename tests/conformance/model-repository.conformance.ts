import { describe, expect, it } from 'vitest';
import type { ModelRepository } from '../../src/ports/model-repository.js';

/** What every ModelRepository must do. `make` returns a fresh, empty repository. */
export function modelRepositoryConformance(name: string, make: () => Promise<ModelRepository>): void {
  describe(`ModelRepository conformance: ${name}`, () => {
    const model = (modelId: string, extra: Record<string, unknown> = {}) => ({
      modelId,
      features: { age: 'numeric', region: 'categorical' },
      windows: [{ name: '1m', size: '1m' }],
      ...extra,
    });

    it('stores, replaces, lists in id order and deletes models', async () => {
      const repo = await make();
      expect(await repo.listModels()).toEqual([]);
      await repo.putModel(model('zeta'));
      await repo.putModel(model('alpha'));
      await repo.putModel(model('alpha', { minSamples: 50 }));
      expect((await repo.listModels()).map((m) => m.modelId)).toEqual(['alpha', 'zeta']);
      expect(await repo.getModel('alpha')).toEqual(model('alpha', { minSamples: 50 }));
      expect(await repo.getModel('missing')).toBeUndefined();
      expect(await repo.deleteModel('alpha')).toBe(true);
      expect(await repo.deleteModel('alpha')).toBe(false);
      expect((await repo.listModels()).map((m) => m.modelId)).toEqual(['zeta']);
    });

    it('versions model changes and compares-and-sets on the version', async () => {
      const repo = await make();
      expect(await repo.getModelEntry('m')).toBeUndefined();
      expect(await repo.putModelIf(model('m', { autoRegistered: true }), null)).toBe(1);
      // Created already: a second create-if-absent writes nothing.
      expect(await repo.putModelIf(model('m', { minSamples: 7 }), null)).toBeUndefined();
      expect(await repo.getModelEntry('m')).toEqual({ config: model('m', { autoRegistered: true }), version: 1 });
      // A declaration always writes and takes the next version.
      expect(await repo.putModel(model('m', { minSamples: 50 }))).toBe(2);
      // A writer that read version 1 loses: the declaration stays.
      expect(await repo.putModelIf(model('m', { autoRegistered: true, features: { age: 'categorical' } }), 1)).toBeUndefined();
      expect(await repo.getModel('m')).toEqual(model('m', { minSamples: 50 }));
      expect(await repo.putModelIf(model('m', { minSamples: 60 }), 2)).toBe(3);
      expect(await repo.getModelEntry('m')).toEqual({ config: model('m', { minSamples: 60 }), version: 3 });
    });

    it('lets exactly one of concurrent compare-and-sets on a version win', async () => {
      const repo = await make();
      await repo.putModel(model('m'));
      const outcomes = await Promise.all(Array.from({ length: 8 }, (_, i) => repo.putModelIf(model('m', { minSamples: 10 + i }), 1)));
      const won = outcomes.filter((v) => v !== undefined);
      expect(won).toEqual([2]);
      const winner = outcomes.findIndex((v) => v === 2);
      expect(await repo.getModel('m')).toEqual(model('m', { minSamples: 10 + winner }));
      const creates = await Promise.all(Array.from({ length: 8 }, (_, i) => repo.putModelIf(model('fresh', { minSamples: 10 + i }), null)));
      expect(creates.filter((v) => v !== undefined)).toEqual([1]);
    });

    it('numbers reference versions per model and keeps each one', async () => {
      const repo = await make();
      const r1 = await repo.addReference('m', 'ref-1', { features: { age: { edges: [1, 2, 3] } } });
      const r2 = await repo.addReference('m', 'ref-2', { features: { age: { edges: [4, 5] } } });
      const o1 = await repo.addReference('other', 'ref-3', { x: 1 });
      expect([r1.version, r2.version, o1.version]).toEqual([1, 2, 1]);
      expect(r1).toMatchObject({ referenceId: 'ref-1', modelId: 'm' });
      expect(typeof r1.createdAt).toBe('number');
      expect((await repo.latestReference('m'))?.referenceId).toBe('ref-2');
      expect((await repo.getReference('ref-1'))?.profile).toEqual({ features: { age: { edges: [1, 2, 3] } } });
      expect(await repo.latestReference('nobody')).toBeUndefined();
      expect(await repo.getReference('nope')).toBeUndefined();
    });

    it('summarizes the latest reference without its profile (model answers read only this)', async () => {
      const repo = (await make()) as ModelRepository & { latestReferenceSummary: (id: string) => Promise<unknown> };
      expect(typeof repo.latestReferenceSummary).toBe('function');
      expect(await repo.latestReferenceSummary('m')).toBeUndefined();
      await repo.addReference('m', 'ref-1', { rows: 10, features: {} });
      const r2 = await repo.addReference('m', 'ref-2', { rows: 2500, features: { age: { edges: [1, 2] } } });
      await repo.addReference('n', 'ref-3', { features: {} });
      expect(await repo.latestReferenceSummary('m')).toEqual({ referenceId: 'ref-2', version: 2, createdAt: r2.createdAt, rows: 2500 });
      expect(await repo.latestReferenceSummary('n')).toMatchObject({ referenceId: 'ref-3', version: 1, rows: null });
    });

    it('adding a reference id again returns the stored version unchanged', async () => {
      const repo = await make();
      const first = await repo.addReference('m', 'ref-1', { v: 1 });
      const again = await repo.addReference('m', 'ref-1', { v: 2 });
      expect(again.version).toBe(first.version);
      expect(again.profile).toEqual({ v: 1 });
      expect((await repo.latestReference('m'))?.version).toBe(1);
    });

    it('gives concurrent reference additions distinct versions', async () => {
      const repo = await make();
      const refs = await Promise.all(Array.from({ length: 8 }, (_, i) => repo.addReference('m', `ref-${i}`, { i })));
      expect(refs.map((r) => r.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    });
  });
}
