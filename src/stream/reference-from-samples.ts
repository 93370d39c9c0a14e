import { randomUUID } from 'node:crypto';
import type { FeatureType } from '../core/drift/types.js';
import type { ModelConfig } from '../core/model/model-config.js';
import type { ColumnType, ReferenceProfile } from '../core/profile/reference-profile.js';
import { PREDICTION_COLUMN, SCORE_COLUMN } from '../core/windows/pane-layout.js';
import { ValidationError } from '../errors.js';
import { buildReference, type ReferenceRow } from './reference-bootstrap.js';
import { ColumnTypeInference } from '../core/profile/column-inference.js';
import { numberOf } from '../core/profile/cell-number.js';
import { performanceSpecOf } from './label-records.js';

/** The column of a sample that holds the true outcome; it gives the profile its reference performance. */
export const LABEL_COLUMN = 'label';

const NOT_FEATURES: ReadonlySet<string> = new Set([SCORE_COLUMN, PREDICTION_COLUMN, LABEL_COLUMN]);

/** A sample record: a flat row (CSV or NDJSON) or an inference event (`features`, `score`, `prediction`). */
export type SampleLike = Readonly<Record<string, unknown>>;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The row a sample record stands for: events keep their features under `features`, flat rows are the features. */
export function sampleToRow(record: SampleLike): ReferenceRow {
  if (isObject(record.features)) {
    return {
      features: record.features,
      score: numberOf(record.score),
      prediction: (record.prediction as number | string | null | undefined) ?? null,
      segment: { ...(isObject(record.attributes) ? record.attributes : {}), modelVersion: record.modelVersion },
    };
  }
  return { features: record, score: numberOf(record[SCORE_COLUMN]), prediction: (record[PREDICTION_COLUMN] as number | string | null | undefined) ?? null, segment: record };
}

/**
 * Builds a reference profile of `model` from sample records (async batches, e.g.
 * `readSampleBatches(path)` or events consumed from a topic). Feature types are
 * the model's; a model without declared features takes them from the sample by
 * {@link ColumnTypeInference} (a column is categorical when any value is text;
 * the sample's schema types first). Returns the profile and the feature types
 * it used.
 */
export async function buildReferenceFromSamples(
  model: ModelConfig,
  batches: AsyncIterable<readonly SampleLike[]>,
  meta: {
    createdAt: number;
    id?: string;
    version?: number;
    /** Types the sample's schema gives its columns (Parquet, Arrow); they win over inference. */
    columnTypes?: Readonly<Record<string, ColumnType>>;
  },
): Promise<{ profile: ReferenceProfile; types: Record<string, FeatureType> }> {
  const rows: (ReferenceRow & { label?: unknown })[] = [];
  const declared = Object.keys(model.features).length > 0;
  const inference = new ColumnTypeInference({ fixed: meta.columnTypes, exclude: NOT_FEATURES });
  let hasScore = false;
  let predictionType: ColumnType | undefined;
  for await (const batch of batches) {
    for (const rec of batch) {
      const row = sampleToRow(rec);
      rows.push(rec[LABEL_COLUMN] === undefined ? row : { ...row, label: rec[LABEL_COLUMN] });
      if (row.score !== null) hasScore = true;
      if (row.prediction !== null && predictionType === undefined) {
        predictionType = model.prediction === 'regression' && numberOf(row.prediction) !== null ? 'numeric' : 'categorical';
      }
      if (!declared) inference.observeRecord(row.features);
    }
  }
  if (rows.length === 0) throw new ValidationError('the sample holds no records', { code: 'SAMPLE_EMPTY' });
  const types: Record<string, FeatureType> = declared ? { ...model.features } : inference.types();
  if (Object.keys(types).length === 0) throw new ValidationError('the sample has no feature columns', { code: 'SAMPLE_EMPTY' });
  if (declared) {
    const first = rows[0].features;
    const missing = Object.keys(types).filter((f) => rows.every((r) => r.features[f] === undefined));
    if (missing.length === Object.keys(types).length) {
      throw new ValidationError(`the sample has none of the model's features (${Object.keys(types).join(', ')}); its columns are ${Object.keys(first).join(', ')}`, { code: 'SAMPLE_MISMATCH' });
    }
  }
  const profile = buildReference(
    model,
    types,
    rows,
    { hasScore, predictionType, performance: performanceSpecOf(model) },
    { createdAt: meta.createdAt, id: meta.id ?? randomUUID(), version: meta.version },
  );
  return { profile, types };
}
