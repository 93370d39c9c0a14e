import { describe, expect, it } from 'vitest';
import { MemoryModelRepository } from '../../../src/adapters/memory/index.js';
import { CachedModelRepository } from '../../../src/http/cached-models.js';

describe('CachedModelRepository', () => {
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
});
