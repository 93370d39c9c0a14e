import { randomUUID } from 'node:crypto';
import type { FeatureType } from '../core/drift/types.js';
import type { ModelConfig } from '../core/model/model-config.js';
import type { ColumnType, ReferenceProfile } from '../core/profile/reference-profile.js';
import { PREDICTION_COLUMN, SCORE_COLUMN } from '../core/windows/pane-layout.js';
import { ValidationError } from '../errors.js';
import { buildReference, inferType, type ReferenceRow } from './reference-bootstrap.js';
import { ReferencePerformanceBuilder } from '../core/performance/reference-performance.js';
import { performanceSpecOf } from './label-records.js';
import { estimationBuilderFor, withEstimation } from '../core/profile/estimation-profile.js';

/** The column of a sample that holds the true outcome; it gives the profile its reference performance. */
export const LABEL_COLUMN = 'label';

/** A sample record: a flat row (CSV or NDJSON) or an inference event (`features`, `score`, `prediction`). */
export type SampleLike = Readonly<Record<string, unknown>>;

function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The row a sample record stands for: events keep their features under `features`, flat rows are the features. */
export function sampleToRow(record: SampleLike): ReferenceRow {
  if (isObject(record.features)) {
    return {
      features: record.features,
      score: toNumber(record.score),
      prediction: (record.prediction as number | string | null | undefined) ?? null,
      segment: { ...(isObject(record.attributes) ? record.attributes : {}), modelVersion: record.modelVersion },
    };
  }
  return { features: record, score: toNumber(record[SCORE_COLUMN]), prediction: (record[PREDICTION_COLUMN] as number | string | null | undefined) ?? null, segment: record };
}

/**
 * Builds a reference profile of `model` from sample records (async batches, e.g.
 * `readSampleBatches(path)` or events consumed from a topic). Feature types are
 * the model's; a model without declared features takes the types of the first
 * values seen (numbers numeric, strings and booleans categorical; CSV cells that
 * read as numbers in every row are numeric). Returns the profile and the
 * feature types it used.
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
  const rows: ReferenceRow[] = [];
  const declared = Object.keys(model.features).length > 0;
  const seen: Record<string, { numeric: number; other: number }> = {};
  let hasScore = false;
  let predictionType: ColumnType | undefined;
  const performance = new ReferencePerformanceBuilder(performanceSpecOf(model));
  const estimation = estimationBuilderFor(model);
  for await (const batch of batches) {
    for (const rec of batch) {
      const row = sampleToRow(rec);
      rows.push(row);
      if (rec[LABEL_COLUMN] !== undefined) {
        performance.accept({ prediction: row.prediction, score: row.score, label: rec[LABEL_COLUMN] });
        estimation?.accept(row.score, rec[LABEL_COLUMN]);
      }
      if (row.score !== null) hasScore = true;
      if (row.prediction !== null && predictionType === undefined) {
        predictionType = model.prediction === 'regression' && toNumber(row.prediction) !== null ? 'numeric' : 'categorical';
      }
      if (!declared) {
        for (const [k, v] of Object.entries(row.features)) {
          if (k === SCORE_COLUMN || k === PREDICTION_COLUMN || k === LABEL_COLUMN || v === null || v === undefined) continue;
          const s = (seen[k] ??= { numeric: 0, other: 0 });
          if (inferType(v) === 'numeric' || (typeof v === 'string' && toNumber(v) !== null)) s.numeric++;
          else s.other++;
        }
      }
    }
  }
  if (rows.length === 0) throw new ValidationError('the sample holds no records', { code: 'SAMPLE_EMPTY' });
  const types: Record<string, FeatureType> = declared
    ? { ...model.features }
    : Object.fromEntries(Object.entries(seen).map(([k, s]) => [k, s.other === 0 ? 'numeric' : 'categorical'] as const));
  if (!declared) {
    for (const [k, t] of Object.entries(meta.columnTypes ?? {})) {
      if (k !== SCORE_COLUMN && k !== PREDICTION_COLUMN && k !== LABEL_COLUMN) types[k] = t;
    }
  }
  if (Object.keys(types).length === 0) throw new ValidationError('the sample has no feature columns', { code: 'SAMPLE_EMPTY' });
  if (declared) {
    const first = rows[0].features;
    const missing = Object.keys(types).filter((f) => rows.every((r) => r.features[f] === undefined));
    if (missing.length === Object.keys(types).length) {
      throw new ValidationError(`the sample has none of the model's features (${Object.keys(types).join(', ')}); its columns are ${Object.keys(first).join(', ')}`, { code: 'SAMPLE_MISMATCH' });
    }
  }
  // CSV cells arrive as strings: numeric columns take their numeric reading.
  const numeric = Object.keys(types).filter((k) => types[k] === 'numeric');
  const normalized = rows.map((r) => {
    let f: Record<string, unknown> | undefined;
    for (const k of numeric) {
      const v = r.features[k];
      if (typeof v === 'string') {
        f ??= { ...r.features };
        f[k] = toNumber(v);
      }
    }
    const prediction = predictionType === 'numeric' ? toNumber(r.prediction) : r.prediction;
    return f || prediction !== r.prediction ? { ...r, features: f ?? r.features, prediction } : r;
  });
  const built = buildReference(model, types, normalized, { hasScore, predictionType }, { createdAt: meta.createdAt, id: meta.id ?? randomUUID(), version: meta.version });
  const measured = performance.build();
  return { profile: withEstimation(measured ? Object.freeze({ ...built, performance: measured }) : built, estimation), types };
}
