import type { FeatureType } from '../core/drift/types.js';
import type { ModelConfig } from '../core/model/model-config.js';
import { RESERVED_COLUMNS } from '../core/model/model-config.js';
import { multivariateBuilderFor, withMultivariate } from '../core/profile/multivariate-profile.js';
import { buildSegmentProfiles } from '../core/profile/segment-profiles.js';
import { ReferenceProfileBuilder, type ColumnType, type ReferenceProfile } from '../core/profile/reference-profile.js';
import { PREDICTION_COLUMN, SCORE_COLUMN } from '../core/windows/pane-layout.js';

/** The parts of an inference event a reference is built from. */
export interface ReferenceRow {
  readonly features: Readonly<Record<string, unknown>>;
  readonly score: number | null;
  readonly prediction: number | string | null;
  /** The event's attributes (and `modelVersion`), or a flat row's columns: where segment values are read. */
  readonly segment?: Readonly<Record<string, unknown>>;
}

/** Type a feature value implies: numbers are numeric, strings and booleans categorical. */
export function inferType(value: unknown): FeatureType | undefined {
  if (typeof value === 'number') return 'numeric';
  if (typeof value === 'string' || typeof value === 'boolean') return 'categorical';
  return undefined;
}

/**
 * Collects a model's first events into a reference (DESIGN.md section 3):
 * until `bootstrapEvents` events, or `bootstrapDuration` of event time with
 * at least `minSamples` events. Feature types are the model's, or inferred
 * from the first value seen of each feature when the model declares none.
 */
export class ReferenceBootstrap {
  private readonly rows: ReferenceRow[] = [];
  private readonly types: Record<string, FeatureType>;
  private readonly infer: boolean;
  private firstTs = Infinity;
  private lastTs = -Infinity;
  private hasScore = false;
  private predictionType: ColumnType | undefined;

  constructor(private readonly model: ModelConfig) {
    this.types = { ...model.features };
    this.infer = Object.keys(model.features).length === 0;
  }

  get size(): number {
    return this.rows.length;
  }

  get target(): number {
    return this.model.reference.bootstrapEvents;
  }

  /**
   * Adds one event; returns the name of a feature whose type contradicts the
   * model (or the type inferred so far) instead, and then adds nothing.
   */
  add(row: ReferenceRow, ts: number): string | undefined {
    const f = row.features;
    for (const name in f) {
      const v = f[name];
      if (v === null || v === undefined) continue;
      const known = this.types[name];
      const t = inferType(v);
      if (known === undefined) {
        if (this.infer && t !== undefined && !RESERVED_COLUMNS.has(name)) this.types[name] = t;
        continue;
      }
      if (known === 'numeric' && t !== 'numeric') return name;
      if (known === 'categorical' && t === undefined) return name;
    }
    this.rows.push(row);
    if (ts < this.firstTs) this.firstTs = ts;
    if (ts > this.lastTs) this.lastTs = ts;
    if (row.score !== null) this.hasScore = true;
    if (row.prediction !== null && this.predictionType === undefined) {
      this.predictionType = this.model.prediction === 'regression' && typeof row.prediction === 'number' ? 'numeric' : 'categorical';
    }
    return undefined;
  }

  /** True once enough events are in. */
  get ready(): boolean {
    if (this.rows.length >= this.model.reference.bootstrapEvents) return true;
    return this.rows.length >= this.model.minSamples && this.lastTs - this.firstTs >= this.model.reference.bootstrapDurationMs;
  }

  /** The feature types the reference will have. */
  featureTypes(): Record<string, FeatureType> {
    return { ...this.types };
  }

  /** Builds the reference profile from the collected events. */
  build(meta: { createdAt: number; id: string; version?: number }): ReferenceProfile {
    return buildReference(this.model, this.featureTypes(), this.rows, { hasScore: this.hasScore, predictionType: this.predictionType }, meta);
  }
}

/**
 * Builds a reference profile of `model` from rows: its features, and the
 * score and prediction when present (as the `score` and `prediction` columns).
 */
export function buildReference(
  model: ModelConfig,
  types: Record<string, FeatureType>,
  rows: Iterable<ReferenceRow>,
  outputs: { hasScore: boolean; predictionType: ColumnType | undefined },
  meta: { createdAt: number; id: string; version?: number },
): ReferenceProfile {
  const columns: Record<string, ColumnType> = { ...types };
  if (outputs.hasScore) columns[SCORE_COLUMN] = 'numeric';
  if (outputs.predictionType) columns[PREDICTION_COLUMN] = outputs.predictionType;
  const newBuilder = (): ReferenceProfileBuilder => new ReferenceProfileBuilder(columns, { bins: model.bins, topK: model.topK });
  const builder = newBuilder();
  const multivariate = multivariateBuilderFor(types, { varianceShare: model.multivariate.varianceShare });
  const names = Object.keys(types);
  const feed = (b: ReferenceProfileBuilder, row: ReferenceRow): void => {
    for (const n of names) b.acceptValue(n, row.features[n] ?? null);
    if (outputs.hasScore) b.acceptValue(SCORE_COLUMN, row.score);
    if (outputs.predictionType) b.acceptValue(PREDICTION_COLUMN, row.prediction);
    b.countRow();
  };
  const list = Array.isArray(rows) ? (rows as readonly ReferenceRow[]) : [...rows];
  for (const row of list) {
    multivariate?.acceptRecord(row.features);
    feed(builder, row);
  }
  const profileMeta = { createdAt: meta.createdAt, id: meta.id, modelId: model.modelId, version: meta.version };
  const profile = withMultivariate(builder.build(profileMeta), multivariate);
  const segments = buildSegmentProfiles<ReferenceRow, ReferenceProfile, ReferenceProfileBuilder>(list, model.segments.attributes, model.segments.topK, (r) => r.segment, newBuilder, feed, profileMeta);
  return segments ? Object.freeze({ ...profile, segments }) : profile;
}
