/** A model's declared configuration, as JSON (validated by src/core/model). */
export type ModelConfigJson = Record<string, unknown> & { modelId: string };

/** A stored reference without its profile (which may be megabytes), for listings. */
export interface ReferenceSummary {
  referenceId: string;
  version: number;
  createdAt: number;
  /** Rows of the sample it was built from, when the profile says. */
  rows: number | null;
}

export interface StoredReference {
  referenceId: string;
  modelId: string;
  version: number;
  createdAt: number;
  /** The serialized profile (src/core/profile). */
  profile: unknown;
}

/** A stored model configuration and its version: 1 when created, one more on every change. */
export interface ModelEntry {
  config: ModelConfigJson;
  version: number;
}

/**
 * Models and their immutable, versioned reference profiles. Every change to
 * a model's configuration takes the next version; {@link putModelIf} is a
 * compare-and-set on it, so writers that read, decide and write (a detector
 * registering a model, an API client with If-Match) never overwrite each
 * other's changes unseen.
 */
export interface ModelRepository {
  listModels(): Promise<ModelConfigJson[]>;
  getModel(modelId: string): Promise<ModelConfigJson | undefined>;
  /** The configuration with its version. */
  getModelEntry(modelId: string): Promise<ModelEntry | undefined>;
  /** Stores a configuration unconditionally (a declaration); returns its new version. */
  putModel(config: ModelConfigJson): Promise<number>;
  /**
   * Stores a configuration only when the stored version is `expectedVersion`
   * (`null`: only when the model does not exist), atomically; returns the new
   * version, or undefined when the stored version differs (nothing written).
   */
  putModelIf(config: ModelConfigJson, expectedVersion: number | null): Promise<number | undefined>;
  deleteModel(modelId: string): Promise<boolean>;
  /** Stores a new reference version; returns it with its assigned version. */
  addReference(modelId: string, referenceId: string, profile: unknown): Promise<StoredReference>;
  latestReference(modelId: string): Promise<StoredReference | undefined>;
  /** The latest reference's summary without reading its profile; callers fall back to {@link latestReference} where it is absent. */
  latestReferenceSummary?(modelId: string): Promise<ReferenceSummary | undefined>;
  getReference(referenceId: string): Promise<StoredReference | undefined>;
}
