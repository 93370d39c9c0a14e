import type { DriftAlert, Evaluation } from '../core/drift/types.js';
import type { AlertQuery, EvaluationRollup, ResultRepository, RollupQuery, WindowQuery } from '../ports/result-repository.js';
import type { ModelConfigJson, ModelEntry, ModelRepository, StoredReference } from '../ports/model-repository.js';
import { latestReferenceSummary } from './model-view.js';
import type { ReferenceSummary } from '../ports/model-repository.js';

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

  getModelEntry(modelId: string): Promise<ModelEntry | undefined> {
    return this.inner.getModelEntry(modelId);
  }

  async putModel(config: ModelConfigJson): Promise<number> {
    this.entries.delete(config.modelId);
    const version = await this.inner.putModel(config);
    this.entries.delete(config.modelId);
    return version;
  }

  async putModelIf(config: ModelConfigJson, expectedVersion: number | null): Promise<number | undefined> {
    this.entries.delete(config.modelId);
    const version = await this.inner.putModelIf(config, expectedVersion);
    this.entries.delete(config.modelId);
    return version;
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

  /** The inner repository's summary when it has one, else one made from the whole reference. */
  async latestReferenceSummary(modelId: string): Promise<ReferenceSummary | undefined> {
    return (await latestReferenceSummary(this.inner, modelId)) ?? undefined;
  }
}

/**
 * A {@link ResultRepository} that remembers `latestEvaluation` answers for
 * `ttlMs`: dashboards and scrapers ask for the same few windows many times a
 * second, and a window changes at most once per slide. History queries and
 * writes pass through.
 */
export class CachedResultRepository implements ResultRepository {
  private readonly latest = new Map<string, { at: number; value: Evaluation | undefined }>();

  constructor(
    private readonly inner: ResultRepository,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 10_000,
  ) {}

  async latestEvaluation(modelId: string, windowName: string): Promise<Evaluation | undefined> {
    const key = `${modelId}\u0000${windowName}`;
    const hit = this.latest.get(key);
    const t = this.now();
    if (hit && t - hit.at < this.ttlMs) return hit.value;
    const value = await this.inner.latestEvaluation(modelId, windowName);
    if (this.latest.size >= this.maxEntries) this.latest.clear();
    this.latest.set(key, { at: t, value });
    return value;
  }

  saveEvaluations(evaluations: readonly Evaluation[]): Promise<void> {
    return this.inner.saveEvaluations(evaluations);
  }

  saveAlerts(alerts: readonly DriftAlert[]): Promise<void> {
    return this.inner.saveAlerts(alerts);
  }

  listEvaluations(query: WindowQuery): Promise<Evaluation[]> {
    return this.inner.listEvaluations(query);
  }

  listRollups(query: RollupQuery): Promise<EvaluationRollup[]> {
    return this.inner.listRollups(query);
  }

  listAlerts(query: AlertQuery): Promise<{ alerts: DriftAlert[]; nextCursor?: string }> {
    return this.inner.listAlerts(query);
  }
}
