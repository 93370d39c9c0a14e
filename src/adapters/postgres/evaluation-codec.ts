import { gunzipSync, gzipSync } from 'node:zlib';
import type { Evaluation, FeatureResult, Severity } from '../../core/drift/types.js';
import { evaluationIdOf } from '../../core/drift/ids.js';
import type { HistoryLayout, LayoutEntry } from './history-layout.js';

/**
 * Which windows keep their detail (histograms, verdict evidence, multivariate,
 * estimation and segment results) besides the compact columns: `drift` keeps
 * it for the features that drifted in windows that drifted, `all` for every
 * feature of every window.
 */
export type DetailMode = 'drift' | 'all';

const SEVERITIES: readonly Severity[] = ['NONE', 'WARNING', 'CRITICAL'];
const SMALLEST_NORMAL_REAL = 1.1754943508222875e-38;

/** A double as PostgreSQL `real` text in JSON: NaN and infinities as strings, magnitudes below the smallest normal real as 0. */
export function toReal(x: number | null | undefined): number | string | null {
  if (x === null || x === undefined) return null;
  if (Number.isNaN(x)) return 'NaN';
  const f = Math.fround(x);
  if (!Number.isFinite(f)) return f > 0 ? 'Infinity' : '-Infinity';
  return Math.abs(f) < SMALLEST_NORMAL_REAL ? 0 : f;
}

/** The per-feature statistics kept as real[] columns, and how each is read and restored. */
const REAL_COLUMNS = {
  psi: (f: FeatureResult) => f.psi,
  ks: (f: FeatureResult) => f.ks?.statistic,
  ks_p: (f: FeatureResult) => f.ks?.pValue,
  wasserstein: (f: FeatureResult) => f.wassersteinNormed,
  jensen_shannon: (f: FeatureResult) => f.jensenShannon,
  hellinger: (f: FeatureResult) => f.hellinger,
  chi_square: (f: FeatureResult) => f.chiSquare?.statistic,
  chi_square_p: (f: FeatureResult) => f.chiSquare?.pValue,
} as const;

type RealColumn = keyof typeof REAL_COLUMNS;
export const REAL_COLUMN_NAMES = Object.keys(REAL_COLUMNS) as RealColumn[];

/** An evaluation row as written (JSON for jsonb_to_recordset) and as read. */
export interface EvaluationRow extends Record<RealColumn, (number | string | null)[] | null> {
  series_id: number;
  window_start: string;
  window_end: string;
  evaluated_at: string;
  sample_size: number;
  layout_id: number;
  drift_share: number | string;
  dataset_drift: boolean;
  alertable: boolean;
  max_severity: number;
  flags: number[];
  n_current: number[] | null;
  missing: number[] | null;
  chi_square_dof: (number | null)[] | null;
  out_of_range: (number | string | null)[] | null;
  proxy: (number | string | null)[] | null;
  type_errors: number | null;
  new_categories: Record<string, string[]> | null;
  performance: Evaluation['performance'] | null;
  evaluation_id: string | null;
  /** The whole evaluation, as rows written before detail was compressed kept it; never written now. */
  detail: Evaluation | null;
  /** The detail the columns do not restore, gzipped JSON ({@link EvaluationDetail}); base64 when written, `\\x` hex when read. */
  detail_z: string | null;
}

const iso = (ms: number) => new Date(ms).toISOString();
const severityOf = (f: FeatureResult) => Math.max(0, SEVERITIES.indexOf(f.severity));
const flagsOf = (f: FeatureResult) => severityOf(f) | (f.drift ? 4 : 0) | ((f as { belowMinSamples?: boolean }).belowMinSamples ? 8 : 0);

function resultsOf(e: Evaluation, layout: HistoryLayout): FeatureResult[] {
  return [...layout.features.map(([n]) => e.features[n]), ...layout.outputs.map(([n]) => e.prediction![n])];
}

/** True when the window drifted: dataset drift, multivariate drift, or any feature, score or prediction above NONE. */
export function drifted(e: Evaluation): boolean {
  if (e.datasetDrift.drift || (e.multivariate !== undefined && e.multivariate.severity !== 'NONE')) return true;
  return [...Object.values(e.features), ...Object.values(e.prediction ?? {})].some((f) => f.severity !== 'NONE');
}

function nonEmptyCategories(e: Evaluation): Record<string, string[]> | null {
  const out: Record<string, string[]> = {};
  for (const [name, f] of Object.entries(e.features)) if (f.newCategories && f.newCategories.length > 0) out[name] = f.newCategories;
  return Object.keys(out).length > 0 ? out : null;
}

/** What a result's columns restore; the rest of it is detail. */
const COLUMN_FEATURE_KEYS = new Set(['type', 'nReference', 'nCurrent', 'missing', 'missingRate', 'psi', 'ks', 'wassersteinNormed', 'jensenShannon', 'hellinger', 'chiSquare', 'newCategories', 'drift', 'severity']);
/** What a row's columns and layout restore of an evaluation; the rest of it (multivariate, estimatedPerformance, segments, ...) is detail. */
const COLUMN_TOP_KEYS = new Set(['evaluationId', 'modelId', 'modelVersion', 'windowName', 'windowStart', 'windowEnd', 'sampleSize', 'referenceId', 'evaluatedAt', 'datasetDrift', 'features', 'prediction', 'dataQuality', 'proxy', 'performance', 'alertable']);

/**
 * The part of an evaluation its compact columns do not hold, by feature
 * (`f`) and output (`p`): verdict, histogram, triggered, importance, the KS
 * error bound; and the evaluation's own (`t`): the weighted drift share and
 * any result without a column (multivariate, estimation, segments).
 */
interface EvaluationDetail {
  f?: Record<string, Record<string, unknown>>;
  p?: Record<string, Record<string, unknown>>;
  t?: Record<string, unknown>;
}

function resultDetail(f: FeatureResult): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f)) if (v !== undefined && !COLUMN_FEATURE_KEYS.has(k)) out[k] = v;
  if (f.ks && Number.isFinite(f.ks.errorBound)) out.ksErrorBound = f.ks.errorBound;
  return Object.keys(out).length > 0 ? out : undefined;
}

function resultsDetail(results: Record<string, FeatureResult> | undefined, all: boolean): Record<string, Record<string, unknown>> | undefined {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, f] of Object.entries(results ?? {})) {
    const d = all || f.drift || f.severity !== 'NONE' ? resultDetail(f) : undefined;
    if (d) out[name] = d;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The gzipped detail of a window (base64), or null: with `drift`, only windows that drifted keep any, and only for their drifting features. */
export function encodeDetail(e: Evaluation, mode: DetailMode): string | null {
  if (mode === 'drift' && !drifted(e)) return null;
  const all = mode === 'all';
  const t: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) if (v !== undefined && !COLUMN_TOP_KEYS.has(k)) t[k] = v;
  if (e.datasetDrift.weightedShare !== undefined) t.weightedShare = e.datasetDrift.weightedShare;
  const detail: EvaluationDetail = { f: resultsDetail(e.features, all), p: resultsDetail(e.prediction, all), ...(Object.keys(t).length > 0 ? { t } : {}) };
  if (!detail.f && !detail.p && !detail.t) return null;
  return gzipSync(JSON.stringify(detail), { level: 9 }).toString('base64');
}

function mergeResults(into: Record<string, FeatureResult> | undefined, detail: Record<string, Record<string, unknown>> | undefined): void {
  for (const [name, d] of Object.entries(detail ?? {})) {
    const f = into?.[name];
    if (!f) continue;
    const { ksErrorBound, ...rest } = d;
    Object.assign(f, rest);
    if (f.ks && typeof ksErrorBound === 'number') f.ks.errorBound = ksErrorBound;
  }
}

/** Adds a stored detail (`\\x` hex of the gzipped JSON, as PostgreSQL writes bytea in JSON) to the evaluation of the columns. */
export function withDetail(e: Evaluation, detailZ: string | null): Evaluation {
  if (!detailZ) return e;
  const detail = JSON.parse(gunzipSync(Buffer.from(detailZ.slice(2), 'hex')).toString('utf8')) as EvaluationDetail;
  mergeResults(e.features, detail.f);
  mergeResults(e.prediction, detail.p);
  const { weightedShare, ...rest } = detail.t ?? {};
  Object.assign(e, rest);
  if (typeof weightedShare === 'number') e.datasetDrift.weightedShare = weightedShare;
  return e;
}

/** The compact row of an evaluation on its layout, with its detail (see {@link encodeDetail}). */
export function encodeEvaluation(e: Evaluation, ids: { seriesId: number; layoutId: number }, layout: HistoryLayout, mode: DetailMode): EvaluationRow {
  const results = resultsOf(e, layout);
  const column = (get: (f: FeatureResult) => number | undefined) => {
    const values = results.map((f) => toReal(get(f)));
    return values.every((v) => v === null) ? null : values;
  };
  const reals = Object.fromEntries(REAL_COLUMN_NAMES.map((c) => [c, column(REAL_COLUMNS[c])])) as Record<RealColumn, (number | string | null)[] | null>;
  const dof = results.map((f) => f.chiSquare?.dof ?? null);
  return {
    ...reals,
    series_id: ids.seriesId,
    window_start: iso(e.windowStart),
    window_end: iso(e.windowEnd),
    evaluated_at: iso(e.evaluatedAt),
    sample_size: e.sampleSize,
    layout_id: ids.layoutId,
    drift_share: toReal(e.datasetDrift.share) ?? 0,
    dataset_drift: e.datasetDrift.drift,
    alertable: e.alertable,
    max_severity: results.reduce((m, f) => Math.max(m, severityOf(f)), 0),
    flags: results.map(flagsOf),
    // Values present and missing add up to the window's events for every feature unless a caller says otherwise.
    n_current: results.every((f) => f.nCurrent + (f.missing ?? 0) === e.sampleSize) ? null : results.map((f) => f.nCurrent ?? 0),
    missing: results.some((f) => (f.missing ?? 0) !== 0) ? results.map((f) => f.missing ?? 0) : null,
    chi_square_dof: dof.every((d) => d === null) ? null : dof,
    out_of_range: layout.outOfRange?.map((n) => toReal(e.dataQuality?.outOfRange[n])) ?? null,
    proxy: layout.proxy?.map((k) => toReal(e.proxy?.[k])) ?? null,
    type_errors: e.dataQuality?.typeErrors ?? null,
    new_categories: nonEmptyCategories(e),
    performance: e.performance ?? null,
    evaluation_id: e.evaluationId === evaluationIdOf(e.modelId, e.windowName, e.windowStart) ? null : e.evaluationId,
    detail: null,
    detail_z: encodeDetail(e, mode),
  };
}

/**
 * A row as read, as JSON (`to_json` of the row: PostgreSQL writes the arrays,
 * and V8 parses them far faster than the driver's array parser): times are
 * ISO strings, reals numbers or "NaN" / "Infinity" strings.
 */
export type StoredEvaluationRow = Omit<EvaluationRow, RealColumn | 'drift_share' | 'out_of_range' | 'proxy'> &
  Record<RealColumn | 'out_of_range' | 'proxy', (number | string | null)[] | null> & {
    model_id: string;
    window_name: string;
    drift_share: number | string;
  };

const at = (a: readonly (number | string | null)[] | null, i: number): number | undefined => {
  const v = a?.[i];
  return v === null || v === undefined ? undefined : Number(v);
};
const time = (iso: string) => Date.parse(iso);

function decodeFeature(row: StoredEvaluationRow, i: number, entry: LayoutEntry): FeatureResult {
  const [name, type, nReference] = entry;
  const missing = row.missing?.[i] ?? 0;
  const nCurrent = row.n_current?.[i] ?? Number(row.sample_size) - missing;
  const flags = row.flags[i];
  const f: FeatureResult = {
    type,
    nReference: nReference ?? 0,
    nCurrent,
    missing,
    missingRate: nCurrent + missing === 0 ? 0 : missing / (nCurrent + missing),
    drift: (flags & 4) !== 0,
    severity: SEVERITIES[flags & 3],
  };
  const v = (c: RealColumn) => at(row[c], i);
  if (v('psi') !== undefined) f.psi = v('psi');
  // The error bound of KS (from the digests' ranks) is kept only with the whole evaluation.
  if (v('ks') !== undefined) f.ks = { statistic: v('ks')!, pValue: v('ks_p') ?? NaN, errorBound: NaN };
  if (v('wasserstein') !== undefined) f.wassersteinNormed = v('wasserstein');
  if (v('jensen_shannon') !== undefined) f.jensenShannon = v('jensen_shannon');
  if (v('hellinger') !== undefined) f.hellinger = v('hellinger');
  if (v('chi_square_p') !== undefined) f.chiSquare = { statistic: v('chi_square') ?? NaN, pValue: v('chi_square_p')!, dof: at(row.chi_square_dof, i) ?? 0 };
  if (type === 'categorical') f.newCategories = row.new_categories?.[name] ?? [];
  return f;
}

function dataQualityOf(row: StoredEvaluationRow, layout: HistoryLayout, features: Record<string, FeatureResult>): Evaluation['dataQuality'] {
  const missingRate: Record<string, number> = {};
  for (const [name] of layout.features) missingRate[name] = features[name].missingRate;
  const outOfRange: Record<string, number> = {};
  (layout.outOfRange ?? []).forEach((n, i) => (outOfRange[n] = at(row.out_of_range, i) ?? 0));
  return { missingRate, outOfRange, newCategories: row.new_categories ?? {}, typeErrors: row.type_errors ?? 0 };
}

/** The evaluation of a compact row (its statistics at real precision, without histograms and verdict evidence). */
export function decodeEvaluation(row: StoredEvaluationRow, layout: HistoryLayout): Evaluation {
  const features: Record<string, FeatureResult> = {};
  layout.features.forEach((entry, i) => (features[entry[0]] = decodeFeature(row, i, entry)));
  const prediction: Record<string, FeatureResult> = {};
  layout.outputs.forEach((entry, i) => (prediction[entry[0]] = decodeFeature(row, layout.features.length + i, entry)));
  const windowStart = time(row.window_start);
  const proxy: Record<string, number | null> = {};
  (layout.proxy ?? []).forEach((k, i) => (proxy[k] = at(row.proxy, i) ?? null));
  return {
    evaluationId: row.evaluation_id ?? evaluationIdOf(row.model_id, row.window_name, windowStart),
    modelId: row.model_id,
    modelVersion: layout.modelVersion ?? null,
    windowName: row.window_name,
    windowStart,
    windowEnd: time(row.window_end),
    sampleSize: Number(row.sample_size),
    referenceId: layout.referenceId ?? '',
    evaluatedAt: time(row.evaluated_at),
    datasetDrift: { share: Number(row.drift_share), drift: row.dataset_drift },
    features,
    ...(layout.outputs.length > 0 ? { prediction } : {}),
    ...(layout.dataQuality ? { dataQuality: dataQualityOf(row, layout, features) } : {}),
    ...(layout.proxy ? { proxy } : {}),
    ...(row.performance ? { performance: row.performance } : {}),
    alertable: row.alertable,
  };
}
