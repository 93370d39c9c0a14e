import type { ModelConfigJson, ModelEntry, ModelRepository, StoredReference } from '../../ports/model-repository.js';

/** Models and references in process memory: the default without PostgreSQL, and for tests. */
export class MemoryModelRepository implements ModelRepository {
  private readonly models = new Map<string, ModelConfigJson>();
  private readonly versions = new Map<string, number>();
  private readonly references = new Map<string, StoredReference>();
  private readonly latest = new Map<string, StoredReference>();

  async listModels(): Promise<ModelConfigJson[]> {
    return [...this.models.values()].sort((a, b) => a.modelId.localeCompare(b.modelId)).map((m) => structuredClone(m));
  }

  async getModel(modelId: string): Promise<ModelConfigJson | undefined> {
    const m = this.models.get(modelId);
    return m && structuredClone(m);
  }

  async getModelEntry(modelId: string): Promise<ModelEntry | undefined> {
    const m = this.models.get(modelId);
    return m && { config: structuredClone(m), version: this.versions.get(modelId)! };
  }

  async putModel(config: ModelConfigJson): Promise<number> {
    return this.write(config);
  }

  async putModelIf(config: ModelConfigJson, expectedVersion: number | null): Promise<number | undefined> {
    // Check and write in one synchronous step: nothing interleaves in between.
    if ((this.versions.get(config.modelId) ?? null) !== expectedVersion) return undefined;
    return this.write(config);
  }

  private write(config: ModelConfigJson): number {
    const version = (this.versions.get(config.modelId) ?? 0) + 1;
    this.models.set(config.modelId, structuredClone(config));
    this.versions.set(config.modelId, version);
    return version;
  }

  async deleteModel(modelId: string): Promise<boolean> {
    this.versions.delete(modelId);
    return this.models.delete(modelId);
  }

  async addReference(modelId: string, referenceId: string, profile: unknown): Promise<StoredReference> {
    const existing = this.references.get(referenceId);
    if (existing) return existing;
    const version = (this.latest.get(modelId)?.version ?? 0) + 1;
    const ref: StoredReference = Object.freeze({ referenceId, modelId, version, createdAt: Date.now(), profile });
    this.references.set(referenceId, ref);
    this.latest.set(modelId, ref);
    return ref;
  }

  async latestReference(modelId: string): Promise<StoredReference | undefined> {
    return this.latest.get(modelId);
  }

  /** The latest reference without its profile (see the PostgreSQL repository). */
  async latestReferenceSummary(modelId: string): Promise<{ referenceId: string; version: number; createdAt: number; rows: number | null } | undefined> {
    const ref = this.latest.get(modelId);
    if (!ref) return undefined;
    const rows = (ref.profile as { rows?: unknown } | null)?.rows;
    return { referenceId: ref.referenceId, version: ref.version, createdAt: ref.createdAt, rows: typeof rows === 'number' ? rows : null };
  }

  async getReference(referenceId: string): Promise<StoredReference | undefined> {
    return this.references.get(referenceId);
  }
}
