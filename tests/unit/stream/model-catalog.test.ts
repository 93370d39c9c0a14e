import { describe, expect, it } from 'vitest';
import { MemoryModelRepository } from '../../../src/adapters/memory/memory-model-repository.js';
import { modelConfigToJson } from '../../../src/core/model/model-config.js';
import { createLogger } from '../../../src/observability/logger.js';
import { ModelCatalog } from '../../../src/stream/model-catalog.js';
import { testModel, testReference } from '../core/windows/fixtures.js';

async function setup() {
  const repo = new MemoryModelRepository();
  const model = testModel();
  const catalog = new ModelCatalog({ repository: repo, logger: createLogger('silent'), autoRegister: true });
  await repo.addReference('m1', 'ref-1', testReference(2000, 1));
  await catalog.init([model]);
  return { repo, catalog, model };
}

describe('ModelCatalog', () => {
  it('loads declared models with their latest reference', async () => {
    const { catalog } = await setup();
    const rt = catalog.get('m1')!;
    expect(rt.layout?.referenceId).toBe('ref-1');
    expect(rt.params).toEqual({ paneMs: 10_000, latenessMs: 2000 });
    expect(catalog.maxLatenessMs).toBe(2000);
    expect(catalog.longestWindowMs).toBe(30_000);
  });

  it('keeps the configuration object when the store returns it in another key order, replaces it when it changed', async () => {
    const { repo, catalog } = await setup();
    const before = catalog.get('m1')!.config;
    const json = modelConfigToJson(before);
    await repo.putModel(Object.fromEntries(Object.entries(json).reverse()) as typeof json);
    await catalog.refresh();
    expect(catalog.get('m1')!.config).toBe(before);
    await repo.putModel({ ...json, minSamples: 7, allowedLateness: '5s' });
    await catalog.refresh();
    expect(catalog.get('m1')!.config.minSamples).toBe(7);
    expect(catalog.maxLatenessMs).toBe(5000);
  });

  it('switches to a new reference version on refresh, and can still resolve the old one', async () => {
    const { repo, catalog } = await setup();
    const seen: string[] = [];
    catalog.onReference = (_m, r) => seen.push(r);
    await repo.addReference('m1', 'ref-2', testReference(2000, 2));
    await catalog.refresh();
    expect(catalog.get('m1')!.layout?.referenceId).toBe('ref-2');
    expect(seen).toEqual(['ref-2']);
    expect(catalog.layoutFor('m1', 'ref-1')?.referenceId).toBe('ref-1');
    expect(await catalog.ensureReference('m1', 'nope')).toBeUndefined();
  });

  it('auto-registers unknown models only when allowed', async () => {
    const { catalog } = await setup();
    expect(catalog.resolve('new-one')?.bootstrap).toBeDefined();
    const strict = new ModelCatalog({ repository: new MemoryModelRepository(), logger: createLogger('silent'), autoRegister: false });
    expect(strict.resolve('new-one')).toBeUndefined();
  });
});
