import type { ModelConfigJson, ModelRepository, StoredReference } from '../stream/ports.js';

/**
 * A {@link ModelRepository} that remembers `getModel` answers for `ttlMs`:
 * every drift, window and feature request looks its model up, which is a
 * PostgreSQL round trip (or a deep copy in memory) per request otherwise.
 * Writes through this wrapper drop the entry at once; a change made by
 * another process shows after at most `ttlMs`. Answers are shared between
 * requests: callers must not mutate them.
 */
export class CachedModelRepository implements ModelRepository {
  private readonly entries = new Map<string, { at: number; value: ModelConfigJson | undefined }>();

  constructor(
    private readonly inner: ModelRepository,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 10_000,
  ) {}

  async getModel(modelId: string): Promise<ModelConfigJson | undefined> {
    const hit = this.entries.get(modelId);
    const t = this.now();
    if (hit && t - hit.at < this.ttlMs) return hit.value;
    const value = await this.inner.getModel(modelId);
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(modelId, { at: t, value });
    return value;
  }

  listModels(): Promise<ModelConfigJson[]> {
    return this.inner.listModels();
  }

  async putModel(config: ModelConfigJson): Promise<void> {
    this.entries.delete(config.modelId);
    await this.inner.putModel(config);
    this.entries.delete(config.modelId);
  }

  async deleteModel(modelId: string): Promise<boolean> {
    this.entries.delete(modelId);
    const deleted = await this.inner.deleteModel(modelId);
    this.entries.delete(modelId);
    return deleted;
  }

  addReference(modelId: string, referenceId: string, profile: unknown): Promise<StoredReference> {
    return this.inner.addReference(modelId, referenceId, profile);
  }

  latestReference(modelId: string): Promise<StoredReference | undefined> {
    return this.inner.latestReference(modelId);
  }

  getReference(referenceId: string): Promise<StoredReference | undefined> {
    return this.inner.getReference(referenceId);
  }
}
