import { describe, expect, it } from 'vitest';
import { CachedModelRepository, CachedResultRepository } from '../../../src/http/read-cache.js';
import { MemoryModelRepository, MemoryResultRepository } from '../../../src/adapters/memory/index.js';
import { creditEvaluations } from './fixtures.js';

describe('read caches', () => {
  it('reuses a model read within the TTL, rereads after it, and drops entries on its own writes', async () => {
    const inner = new MemoryModelRepository();
    let reads = 0;
    const counting = Object.assign(Object.create(inner) as MemoryModelRepository, {
      getModel: (id: string) => {
        reads++;
        return inner.getModel(id);
      },
    });
    let now = 0;
    const cache = new CachedModelRepository(counting, 1000, () => now);
    await inner.putModel({ modelId: 'm', minSamples: 1 });
    expect((await cache.getModel('m'))?.minSamples).toBe(1);
    expect(await cache.getModel('missing')).toBeUndefined();
    await cache.getModel('m');
    expect(reads).toBe(2);
    // Changed by another process: seen once the entry expires.
    await inner.putModel({ modelId: 'm', minSamples: 2 });
    now = 500;
    expect((await cache.getModel('m'))?.minSamples).toBe(1);
    now = 1000;
    expect((await cache.getModel('m'))?.minSamples).toBe(2);
    // Written through the cache: seen at once.
    await cache.putModel({ modelId: 'm', minSamples: 3 });
    expect((await cache.getModel('m'))?.minSamples).toBe(3);
    expect(await cache.deleteModel('m')).toBe(true);
    expect(await cache.getModel('m')).toBeUndefined();
  });

  it('reuses a window\'s latest evaluation within the TTL', async () => {
    const inner = new MemoryResultRepository();
    let now = 0;
    const cache = new CachedResultRepository(inner, 1000, () => now);
    const [a, b] = creditEvaluations(2);
    await inner.saveEvaluations([a]);
    expect((await cache.latestEvaluation('credit-risk', '1m'))?.evaluationId).toBe(a.evaluationId);
    await inner.saveEvaluations([b]);
    now = 999;
    expect((await cache.latestEvaluation('credit-risk', '1m'))?.evaluationId).toBe(a.evaluationId);
    expect((await cache.listEvaluations({ modelId: 'credit-risk' }))).toHaveLength(2);
    now = 1000;
    expect((await cache.latestEvaluation('credit-risk', '1m'))?.evaluationId).toBe(b.evaluationId);
  });
});
