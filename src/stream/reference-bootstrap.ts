import type { FeatureType } from '../core/drift/types.js';
import type { ModelConfig } from '../core/model/model-config.js';
import { RESERVED_COLUMNS } from '../core/model/model-config.js';
import { ColumnTypeInference, valueKind } from '../core/profile/column-inference.js';
import type { ColumnType, ReferenceProfile } from '../core/profile/reference-profile.js';
import { rowsAsBatch, SampleProfileBuilder } from '../core/profile/sample-profile.js';
import type { PerformanceSpec } from '../core/performance/records.js';
import { multivariateBuilderFor } from '../core/profile/multivariate-profile.js';
import { estimationBuilderFor } from '../core/profile/estimation-profile.js';
import { SegmentValueTally, segmentValueOf } from '../core/profile/segment-profiles.js';
import { PREDICTION_COLUMN, SCORE_COLUMN } from '../core/windows/pane-layout.js';

/** The parts of an inference event a reference is built from. */
export interface ReferenceRow {
  readonly features: Readonly<Record<string, unknown>>;
  readonly score: number | null;
  readonly prediction: number | string | null;
  /** The event's attributes (and `modelVersion`), or a flat row's columns: where segment values are read. */
  readonly segment?: Readonly<Record<string, unknown>>;
}

/** Whether a value fits a declared feature type (event values are typed: the string "3" is a category). */
function fits(type: FeatureType, value: unknown): boolean {
  const kind = valueKind(value, EVENT_VALUES);
  return type === 'numeric' ? kind === 'number' : kind !== 'missing' && typeof value !== 'object';
}

const EVENT_VALUES = { textNumbers: false };

/**
 * Collects a model's first events into a reference (DESIGN.md section 3):
 * until `bootstrapEvents` events, or `bootstrapDuration` of event time with
 * at least `minSamples` events. Feature types are the model's, or, when it
 * declares none, inferred by {@link ColumnTypeInference} from the event values
 * (typed: numbers numeric, strings and booleans categorical); an event whose
 * value contradicts a numeric type inferred so far is refused.
 */
export class ReferenceBootstrap {
  private readonly rows: ReferenceRow[] = [];
  private readonly inference: ColumnTypeInference;
  private readonly infer: boolean;
  private firstTs = Infinity;
  private lastTs = -Infinity;
  private hasScore = false;
  private predictionType: ColumnType | undefined;

  constructor(private readonly model: ModelConfig) {
    this.inference = new ColumnTypeInference({ fixed: model.features, exclude: RESERVED_COLUMNS, ...EVENT_VALUES });
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
      const declared = this.model.features[name];
      if (declared !== undefined ? !fits(declared, v) : this.infer && this.inference.contradicts(name, v)) return name;
    }
    if (this.infer) this.inference.observeRecord(f);
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
    return this.inference.types();
  }

  /** Builds the reference profile from the collected events. */
  build(meta: { createdAt: number; id: string; version?: number }): ReferenceProfile {
    return buildReference(this.model, this.featureTypes(), this.rows, { hasScore: this.hasScore, predictionType: this.predictionType }, meta);
  }
}

/**
 * Builds a reference profile of `model` from rows: its features, and the
 * score and prediction when present (as the `score` and `prediction` columns),
 * through the one sample pipeline ({@link SampleProfileBuilder}); rows with a
 * `label` give the reference performance when `performance` is passed.
 */
export function buildReference(
  model: ModelConfig,
  types: Record<string, FeatureType>,
  rows: Iterable<ReferenceRow & { label?: unknown }>,
  outputs: { hasScore: boolean; predictionType: ColumnType | undefined; performance?: PerformanceSpec },
  meta: { createdAt: number; id: string; version?: number },
): ReferenceProfile {
  const columns: Record<string, ColumnType> = { ...types };
  if (outputs.hasScore) columns[SCORE_COLUMN] = 'numeric';
  if (outputs.predictionType) columns[PREDICTION_COLUMN] = outputs.predictionType;
  const list = Array.isArray(rows) ? (rows as readonly (ReferenceRow & { label?: unknown })[]) : [...rows];
  // Segments: the top values of each attribute by traffic first, then every row to its segment's profile in the same pass as the rest.
  const attributes = model.segments.attributes;
  const tally = new SegmentValueTally(attributes, model.segments.topK);
  for (const row of list) for (const a of attributes) tally.accept(a, segmentValueOf(row.segment, a));
  const builder = new SampleProfileBuilder({
    columns,
    bins: model.bins,
    topK: model.topK,
    performance: outputs.performance,
    multivariate: multivariateBuilderFor(types, { varianceShare: model.multivariate.varianceShare }),
    estimation: outputs.performance ? estimationBuilderFor(model) : undefined,
    ...(attributes.length > 0 ? { segments: { kept: tally.kept(), columnOf: segmentColumn } } : {}),
  });
  builder.acceptBatch(
    rowsAsBatch(
      list.map((row) => {
        const r: Record<string, unknown> = { ...row.features, [SCORE_COLUMN]: row.score, [PREDICTION_COLUMN]: row.prediction, label: row.label };
        for (const a of attributes) r[segmentColumn(a)] = segmentValueOf(row.segment, a);
        return r;
      }),
    ),
  );
  return builder.build({ createdAt: meta.createdAt, id: meta.id, modelId: model.modelId, version: meta.version });
}

/** The batch column of a segment attribute's values (a name no feature can have: feature names hold no control characters). */
function segmentColumn(attribute: string): string {
  return `\u0000segment:${attribute}`;
}
