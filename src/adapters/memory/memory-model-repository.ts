import type { ModelConfigJson, ModelRepository, StoredReference } from '../../stream/ports.js';

/** Models and references in process memory: the default without PostgreSQL, and for tests. */
export class MemoryModelRepository implements ModelRepository {
  private readonly models = new Map<string, ModelConfigJson>();
  private readonly references = new Map<string, StoredReference>();
  private readonly latest = new Map<string, StoredReference>();

  async listModels(): Promise<ModelConfigJson[]> {
    return [...this.models.values()].sort((a, b) => a.modelId.localeCompare(b.modelId)).map((m) => structuredClone(m));
  }

  async getModel(modelId: string): Promise<ModelConfigJson | undefined> {
    const m = this.models.get(modelId);
    return m && structuredClone(m);
  }

  async putModel(config: ModelConfigJson): Promise<void> {
    this.models.set(config.modelId, structuredClone(config));
  }

  async deleteModel(modelId: string): Promise<boolean> {
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
