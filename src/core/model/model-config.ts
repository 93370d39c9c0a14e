import { ValidationError } from '../../errors.js';
import { parseDuration, formatDuration } from '../duration.js';
import { hasControlCharacter } from '../has-control-character.js';
import type { FeatureType } from '../drift/types.js';
import type { ThresholdOverrides } from '../drift/thresholds.js';
import { parsePerformanceConfig, performanceConfigToJson, type PerformanceConfig } from './performance-config.js';
import { parseRetrainConfig, retrainConfigToJson, type RetrainConfig } from './retrain-config.js';
import { multivariateConfigToJson, parseMultivariateConfig, type MultivariateConfig } from './multivariate-config.js';
import { parseSegmentsConfig, segmentsConfigToJson, type SegmentsConfig } from './segments-config.js';

/** How a model's output is summarized for prediction drift. */
export type PredictionKind = 'score' | 'class' | 'regression';

/** What a classifier's `score` is the probability of: the positive class, or (multi-class) the predicted class. */
export type ScoreOf = 'positiveClass' | 'predictedClass';

/** One event-time window of a model: tumbling when `slideMs === sizeMs`. */
export interface WindowConfig {
  readonly name: string;
  readonly sizeMs: number;
  readonly slideMs: number;
}

/** WARNING / CRITICAL levels of a data-quality check (alerts when the value is at least the level). */
export interface QualityLevels {
  readonly warning: number;
  readonly critical: number;
}

/** Data-quality checks of a model; each value is a share between 0 and 1. */
export interface DataQualityConfig {
  readonly enabled: boolean;
  /** Missing rate above the reference's missing rate. */
  readonly missingRate: QualityLevels;
  /** Share of a numeric feature's values outside the reference's [min, max]. */
  readonly outOfRange: QualityLevels;
  /** Share of a categorical feature's values in categories the reference never saw. */
  readonly newCategories: QualityLevels;
  /** Share of events with a feature whose type contradicts the model. */
  readonly typeErrors: QualityLevels;
}

/** How a reference is obtained when the model has none stored. */
export interface ReferenceSourceConfig {
  /** Events that make a bootstrap reference. */
  readonly bootstrapEvents: number;
  /** Longest event-time span a bootstrap collects before building anyway (with at least minSamples events). */
  readonly bootstrapDurationMs: number;
  /** A serialized reference profile file to load at start, instead of bootstrapping. */
  readonly profileFile?: string;
}

/**
 * A validated, normalized model configuration (DESIGN.md section 3): every
 * field has its default filled in, durations are milliseconds.
 */
export interface ModelConfig {
  readonly modelId: string;
  /** Declared features; empty means inferred from the first events. */
  readonly features: Readonly<Record<string, FeatureType>>;
  readonly prediction: PredictionKind;
  readonly positiveClass: string;
  /** Set when the score is the predicted class's probability (a multi-class `class` model); otherwise it is the positive class's. */
  readonly scoreOf?: 'predictedClass';
  readonly windows: readonly WindowConfig[];
  readonly allowedLatenessMs: number;
  readonly minSamples: number;
  readonly thresholds: ThresholdOverrides;
  readonly featureThresholds: Readonly<Record<string, ThresholdOverrides>>;
  /** Share of drifting features at which the dataset drifts. */
  readonly datasetDriftShare: number;
  /** Benjamini-Hochberg control of the test p-values across the model's features (legacy rule only; the verdict uses the budget). */
  readonly benjaminiHochberg: boolean;
  /**
   * Largest probability that one evaluation of the model holds any false drift
   * verdict (FEATURE_DRIFT, PREDICTION_DRIFT, DATASET_DRIFT); the tests' levels
   * derive from it (docs/detector.md). Default 0.001.
   */
  readonly falseAlarmBudget: number;
  readonly dataQuality: DataQualityConfig;
  /** Clean evaluations before a firing alert resolves. */
  readonly resolveAfter: number;
  /** Numeric bins of a reference built for this model. */
  readonly bins: number;
  /** Categories kept by name per categorical feature. */
  readonly topK: number;
  readonly reference: ReferenceSourceConfig;
  /** Registered from its first events rather than declared. */
  readonly autoRegistered: boolean;
  /** Performance alert levels once labels join (src/core/drift/performance-alerts.ts). */
  readonly performance: PerformanceConfig;
  /** How much the model relies on each feature (any non-negative scale); weighs the dataset drift share. */
  readonly importance?: Readonly<Record<string, number>>;
  /** Importance-weighted share of drifting features at which the dataset drifts too (unset: only the plain share decides). */
  readonly datasetDriftWeightedShare?: number;
  /** When the model signals RETRAIN_RECOMMENDED (src/core/drift/retrain-gate.ts); absent: never. */
  readonly retrain?: RetrainConfig;
  /** Multivariate drift on the numeric features' reconstruction error (src/core/model/multivariate-config.ts). */
  readonly multivariate: MultivariateConfig;
  /** Segments judged apart, with attribution of global drift (src/core/model/segments-config.ts). */
  readonly segments: SegmentsConfig;
}

/** Defaults that come from the environment (src/config) rather than from the model. */
export interface ModelDefaults {
  allowedLatenessMs: number;
  bootstrapEvents: number;
  bootstrapDurationMs: number;
  resolveAfter: number;
}

export const DEFAULT_MODEL_DEFAULTS: Readonly<ModelDefaults> = Object.freeze({
  allowedLatenessMs: 30_000,
  bootstrapEvents: 5000,
  bootstrapDurationMs: 600_000,
  resolveAfter: 3,
});

/** A tumbling 1-minute window and a sliding 1-hour window with a 5-minute slide. */
export const DEFAULT_WINDOWS: readonly WindowConfig[] = Object.freeze([
  Object.freeze({ name: '1m', sizeMs: 60_000, slideMs: 60_000 }),
  Object.freeze({ name: '1h', sizeMs: 3_600_000, slideMs: 300_000 }),
]);

export const DEFAULT_DATA_QUALITY: DataQualityConfig = Object.freeze({
  enabled: true,
  missingRate: Object.freeze({ warning: 0.1, critical: 0.25 }),
  outOfRange: Object.freeze({ warning: 0.05, critical: 0.2 }),
  newCategories: Object.freeze({ warning: 0.05, critical: 0.2 }),
  typeErrors: Object.freeze({ warning: 0.01, critical: 0.05 }),
});

/**
 * Most features one model may have, however it got them: declared (PUT, a
 * models file), inferred from an uploaded reference sample, or
 * auto-registered from events. Beyond it a model is refused with
 * `TOO_MANY_FEATURES`.
 */
export const MAX_FEATURES_PER_MODEL = 1000;

/** Names a feature may not take: they hold the model's outputs in a reference profile. */
export const RESERVED_COLUMNS: ReadonlySet<string> = new Set(['score', 'prediction']);

const MODEL_KEYS = new Set([
  'modelId',
  'features',
  'prediction',
  'positiveClass',
  'scoreOf',
  'windows',
  'allowedLateness',
  'minSamples',
  'thresholds',
  'featureThresholds',
  'datasetDriftShare',
  'benjaminiHochberg',
  'falseAlarmBudget',
  'dataQuality',
  'resolveAfter',
  'bins',
  'topK',
  'reference',
  'autoRegistered',
  'performance',
  'importance',
  'datasetDriftWeightedShare',
  'retrain',
  'multivariate',
  'segments',
  'description',
  'owner',
  'tags',
]);

const LEVEL_STATS = new Set(['psi', 'wasserstein', 'jensenShannon', 'hellinger', 'floor']);
const TEST_STATS = new Set(['ks', 'chiSquare']);
const MAX_WINDOW_MS = 7 * 86_400_000;

function fail(field: string, message: string): never {
  throw new ValidationError(`${field}: ${message}`, { code: 'MODEL_INVALID' });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function duration(field: string, v: unknown): number {
  if (typeof v !== 'string' && typeof v !== 'number') fail(field, `expected a duration like 30s, 5m or 1h, got ${JSON.stringify(v)}`);
  const ms = parseDuration(v);
  if (ms === undefined) fail(field, `expected a duration like 30s, 5m or 1h, got ${JSON.stringify(v)}`);
  return ms;
}

function int(field: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(field, `expected an integer between ${min} and ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function num(field: string, v: unknown, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    const range = Number.isFinite(min) && Number.isFinite(max) ? ` between ${min} and ${max}` : Number.isFinite(min) ? ` >= ${min}` : '';
    fail(field, `expected a number${range}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function bool(field: string, v: unknown): boolean {
  if (typeof v !== 'boolean') fail(field, `expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

function onlyKeys(field: string, o: Record<string, unknown>, allowed: ReadonlySet<string>): void {
  for (const k of Object.keys(o)) {
    if (!allowed.has(k)) fail(field ? `${field}.${k}` : k, `unknown field (expected one of ${[...allowed].join(', ')})`);
  }
}

function parseFeatures(v: unknown): Record<string, FeatureType> {
  if (v === undefined) return {};
  if (!isObject(v)) fail('features', 'expected an object mapping feature names to "numeric" or "categorical"');
  const out: Record<string, FeatureType> = {};
  const count = Object.keys(v).length;
  if (count > MAX_FEATURES_PER_MODEL) {
    throw new ValidationError(`features: a model may have at most ${MAX_FEATURES_PER_MODEL} features, got ${count}`, { code: 'TOO_MANY_FEATURES' });
  }
  for (const [name, type] of Object.entries(v)) {
    if (name.length === 0 || name.length > 256) fail('features', 'feature names must have 1 to 256 characters');
    if (hasControlCharacter(name)) fail(`features.${JSON.stringify(name)}`, 'a feature name may not hold a control character');
    if (RESERVED_COLUMNS.has(name)) fail(`features.${name}`, 'the names score and prediction are reserved for the model outputs');
    if (type !== 'numeric' && type !== 'categorical') fail(`features.${name}`, `expected "numeric" or "categorical", got ${JSON.stringify(type)}`);
    out[name] = type;
  }
  return out;
}

function parseImportance(v: unknown, features: Readonly<Record<string, FeatureType>>): Record<string, number> | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) fail('importance', 'expected an object mapping feature names to non-negative numbers');
  const declared = Object.keys(features).length > 0;
  const out: Record<string, number> = {};
  for (const [name, w] of Object.entries(v)) {
    if (declared && !(name in features)) fail(`importance.${name}`, 'is not a declared feature');
    out[name] = num(`importance.${name}`, w, 0);
  }
  return out;
}

function parseWindows(v: unknown): WindowConfig[] {
  if (v === undefined) return [...DEFAULT_WINDOWS];
  if (!Array.isArray(v) || v.length === 0) fail('windows', 'expected a non-empty list of {name, size, slide?}');
  const names = new Set<string>();
  return v.map((w, i) => {
    const f = `windows[${i}]`;
    if (!isObject(w)) fail(f, 'expected an object {name, size, slide?}');
    onlyKeys(f, w, new Set(['name', 'size', 'slide']));
    const sizeMs = duration(`${f}.size`, w.size);
    const slideMs = w.slide === undefined ? sizeMs : duration(`${f}.slide`, w.slide);
    if (sizeMs < 100) fail(`${f}.size`, 'must be at least 100ms');
    if (sizeMs > MAX_WINDOW_MS) fail(`${f}.size`, 'must be at most 7d');
    if (slideMs < 100) fail(`${f}.slide`, 'must be at least 100ms');
    if (slideMs > sizeMs) fail(`${f}.slide`, 'must not be longer than size');
    if (sizeMs % slideMs !== 0) fail(`${f}.slide`, `size ${formatDuration(sizeMs)} must be a whole multiple of slide ${formatDuration(slideMs)}`);
    if (sizeMs / slideMs > 1000) fail(`${f}.slide`, 'a window may hold at most 1000 slides');
    const name = w.name === undefined ? formatDuration(sizeMs) + (slideMs === sizeMs ? '' : `/${formatDuration(slideMs)}`) : w.name;
    if (typeof name !== 'string' || !/^[A-Za-z0-9_.\-/]{1,64}$/.test(name)) fail(`${f}.name`, 'expected 1-64 characters of letters, digits, _ . - /');
    if (names.has(name)) fail(`${f}.name`, `duplicate window name ${JSON.stringify(name)}`);
    names.add(name);
    return Object.freeze({ name, sizeMs, slideMs });
  });
}

/** Validates threshold overrides (the `thresholds` block or one entry of `featureThresholds`). */
function parseThresholdOverrides(field: string, v: unknown): ThresholdOverrides {
  if (v === undefined) return {};
  if (!isObject(v)) fail(field, 'expected an object of statistics, e.g. {"psi": {"warning": 0.1, "critical": 0.25}}');
  const out: Record<string, unknown> = {};
  for (const [stat, t] of Object.entries(v)) {
    const f = `${field}.${stat}`;
    if (stat === 'minSamples') {
      out.minSamples = int(f, t, 0);
      continue;
    }
    if (!LEVEL_STATS.has(stat) && !TEST_STATS.has(stat)) {
      fail(f, `unknown statistic (expected one of floor, psi, ks, chiSquare, wasserstein, jensenShannon, hellinger, minSamples)`);
    }
    if (!isObject(t)) fail(f, 'expected an object {warning, critical, enabled?}');
    const allowed = TEST_STATS.has(stat) ? new Set(['warning', 'critical', 'enabled', 'effectSize']) : new Set(['warning', 'critical', 'enabled']);
    onlyKeys(f, t, allowed);
    const o: Record<string, unknown> = {};
    const isTest = TEST_STATS.has(stat);
    if (t.warning !== undefined) o.warning = isTest ? num(`${f}.warning`, t.warning, 0, 1) : num(`${f}.warning`, t.warning, 0);
    if (t.critical !== undefined) o.critical = isTest ? num(`${f}.critical`, t.critical, 0, 1) : num(`${f}.critical`, t.critical, 0);
    if (t.enabled !== undefined) o.enabled = bool(`${f}.enabled`, t.enabled);
    if (o.warning !== undefined && o.critical !== undefined) {
      // p-values alert below their level, the other statistics above it.
      if (isTest ? (o.critical as number) > (o.warning as number) : (o.critical as number) < (o.warning as number)) {
        fail(`${f}.critical`, isTest ? 'a p-value level must not be above the warning level' : 'must not be below the warning level');
      }
    }
    if (t.effectSize !== undefined) {
      if (!isObject(t.effectSize)) fail(`${f}.effectSize`, 'expected an object {warning, critical}');
      onlyKeys(`${f}.effectSize`, t.effectSize, new Set(['warning', 'critical']));
      const e: Record<string, number> = {};
      if (t.effectSize.warning !== undefined) e.warning = num(`${f}.effectSize.warning`, t.effectSize.warning, 0);
      if (t.effectSize.critical !== undefined) e.critical = num(`${f}.effectSize.critical`, t.effectSize.critical, 0);
      o.effectSize = e;
    }
    out[stat] = o;
  }
  return out as ThresholdOverrides;
}

function parseLevels(field: string, v: unknown, base: QualityLevels): QualityLevels {
  if (v === undefined) return base;
  if (!isObject(v)) fail(field, 'expected an object {warning, critical}');
  onlyKeys(field, v, new Set(['warning', 'critical']));
  const warning = v.warning === undefined ? base.warning : num(`${field}.warning`, v.warning, 0, 1);
  const critical = v.critical === undefined ? base.critical : num(`${field}.critical`, v.critical, 0, 1);
  if (critical < warning) fail(`${field}.critical`, 'must not be below the warning level');
  return Object.freeze({ warning, critical });
}

function parseDataQuality(v: unknown): DataQualityConfig {
  if (v === undefined) return DEFAULT_DATA_QUALITY;
  if (!isObject(v)) fail('dataQuality', 'expected an object');
  onlyKeys('dataQuality', v, new Set(['enabled', 'missingRate', 'outOfRange', 'newCategories', 'typeErrors']));
  const d = DEFAULT_DATA_QUALITY;
  return Object.freeze({
    enabled: v.enabled === undefined ? true : bool('dataQuality.enabled', v.enabled),
    missingRate: parseLevels('dataQuality.missingRate', v.missingRate, d.missingRate),
    outOfRange: parseLevels('dataQuality.outOfRange', v.outOfRange, d.outOfRange),
    newCategories: parseLevels('dataQuality.newCategories', v.newCategories, d.newCategories),
    typeErrors: parseLevels('dataQuality.typeErrors', v.typeErrors, d.typeErrors),
  });
}

function parseReference(v: unknown, defaults: ModelDefaults): ReferenceSourceConfig {
  if (v === undefined) return Object.freeze({ bootstrapEvents: defaults.bootstrapEvents, bootstrapDurationMs: defaults.bootstrapDurationMs });
  if (!isObject(v)) fail('reference', 'expected an object {bootstrapEvents?, bootstrapDuration?, profileFile?}');
  onlyKeys('reference', v, new Set(['bootstrapEvents', 'bootstrapDuration', 'profileFile']));
  const out: ReferenceSourceConfig = {
    bootstrapEvents: v.bootstrapEvents === undefined ? defaults.bootstrapEvents : int('reference.bootstrapEvents', v.bootstrapEvents, 10, 10_000_000),
    bootstrapDurationMs: v.bootstrapDuration === undefined ? defaults.bootstrapDurationMs : duration('reference.bootstrapDuration', v.bootstrapDuration),
    ...(v.profileFile === undefined ? {} : { profileFile: typeof v.profileFile === 'string' && v.profileFile ? v.profileFile : fail('reference.profileFile', 'expected a file path') }),
  };
  return Object.freeze(out);
}

/**
 * Validates a model configuration (DESIGN.md section 3) and fills in every
 * default. Throws a {@link ValidationError} (code `MODEL_INVALID`) whose
 * message starts with the path of the offending field, e.g.
 * `windows[1].slide: size 1h must be a whole multiple of slide 7m`.
 */
export function parseModelConfig(input: unknown, defaults: ModelDefaults = DEFAULT_MODEL_DEFAULTS): ModelConfig {
  if (!isObject(input)) fail('model', 'expected an object');
  onlyKeys('', input, MODEL_KEYS);
  const modelId = input.modelId;
  if (typeof modelId !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/.test(modelId)) {
    fail('modelId', 'expected 1-128 characters of letters, digits, _ . : - (starting with a letter or digit)');
  }
  const features = parseFeatures(input.features);
  const prediction = input.prediction ?? 'score';
  if (prediction !== 'score' && prediction !== 'class' && prediction !== 'regression') {
    fail('prediction', `expected "score", "class" or "regression", got ${JSON.stringify(prediction)}`);
  }
  const positiveClass = input.positiveClass ?? '1';
  if (typeof positiveClass !== 'string' && typeof positiveClass !== 'number' && typeof positiveClass !== 'boolean') {
    fail('positiveClass', 'expected a string');
  }
  if (typeof positiveClass === 'string' && (positiveClass.length > 256 || hasControlCharacter(positiveClass))) {
    fail('positiveClass', 'expected at most 256 characters and no control character');
  }
  const scoreOf = input.scoreOf ?? 'positiveClass';
  if (scoreOf !== 'positiveClass' && scoreOf !== 'predictedClass') fail('scoreOf', `expected "positiveClass" or "predictedClass", got ${JSON.stringify(scoreOf)}`);
  if (scoreOf === 'predictedClass' && prediction !== 'class') fail('scoreOf', 'predictedClass needs prediction "class"');
  const windows = parseWindows(input.windows);
  const allowedLatenessMs = input.allowedLateness === undefined ? defaults.allowedLatenessMs : duration('allowedLateness', input.allowedLateness);
  if (allowedLatenessMs > 86_400_000) fail('allowedLateness', 'must be at most 1d');
  const minSamples = input.minSamples === undefined ? 100 : int('minSamples', input.minSamples, 1);
  const thresholds = parseThresholdOverrides('thresholds', input.thresholds);
  let featureThresholds: Record<string, ThresholdOverrides> = {};
  if (input.featureThresholds !== undefined) {
    if (!isObject(input.featureThresholds)) fail('featureThresholds', 'expected an object keyed by feature name');
    for (const [name, t] of Object.entries(input.featureThresholds)) {
      if (Object.keys(features).length > 0 && !(name in features) && !RESERVED_COLUMNS.has(name)) {
        fail(`featureThresholds.${name}`, 'is not a declared feature');
      }
      featureThresholds = { ...featureThresholds, [name]: parseThresholdOverrides(`featureThresholds.${name}`, t) };
    }
  }
  const datasetDriftShare = input.datasetDriftShare === undefined ? 0.5 : num('datasetDriftShare', input.datasetDriftShare, 0.01, 1);
  const benjaminiHochberg = input.benjaminiHochberg === undefined ? false : bool('benjaminiHochberg', input.benjaminiHochberg);
  const falseAlarmBudget = input.falseAlarmBudget === undefined ? 0.001 : num('falseAlarmBudget', input.falseAlarmBudget, 1e-9, 0.5);
  const dataQuality = parseDataQuality(input.dataQuality);
  const resolveAfter = input.resolveAfter === undefined ? defaults.resolveAfter : int('resolveAfter', input.resolveAfter, 1, 1000);
  const bins = input.bins === undefined ? 10 : int('bins', input.bins, 2, 100);
  const topK = input.topK === undefined ? 1000 : int('topK', input.topK, 1, 100_000);
  const reference = parseReference(input.reference, defaults);
  const autoRegistered = input.autoRegistered === undefined ? false : bool('autoRegistered', input.autoRegistered);
  const performance = parsePerformanceConfig(input.performance);
  const importance = parseImportance(input.importance, features);
  const retrain = parseRetrainConfig(input.retrain, windows.map((w) => w.name), resolveAfter);
  const weightedShare = input.datasetDriftWeightedShare === undefined ? undefined : num('datasetDriftWeightedShare', input.datasetDriftWeightedShare, 0.01, 1);
  const multivariate = parseMultivariateConfig(input.multivariate);
  const segments = parseSegmentsConfig(input.segments);
  return deepFreeze({
    modelId,
    features,
    prediction,
    positiveClass: String(positiveClass),
    ...(scoreOf === 'predictedClass' ? { scoreOf } : {}),
    windows,
    allowedLatenessMs,
    minSamples,
    thresholds,
    featureThresholds,
    datasetDriftShare,
    benjaminiHochberg,
    falseAlarmBudget,
    dataQuality,
    resolveAfter,
    bins,
    topK,
    reference,
    autoRegistered,
    performance,
    ...(importance ? { importance } : {}),
    ...(weightedShare !== undefined ? { datasetDriftWeightedShare: weightedShare } : {}),
    ...(retrain ? { retrain } : {}),
    multivariate,
    segments,
  });
}

/**
 * The JSON form of a normalized configuration (durations as strings), as
 * stored by a ModelRepository and served by the API. Parsing it again gives
 * the same configuration.
 */
export function modelConfigToJson(config: ModelConfig): Record<string, unknown> & { modelId: string } {
  return {
    modelId: config.modelId,
    features: { ...config.features },
    prediction: config.prediction,
    positiveClass: config.positiveClass,
    ...(config.scoreOf ? { scoreOf: config.scoreOf } : {}),
    windows: config.windows.map((w) =>
      w.slideMs === w.sizeMs ? { name: w.name, size: formatDuration(w.sizeMs) } : { name: w.name, size: formatDuration(w.sizeMs), slide: formatDuration(w.slideMs) },
    ),
    allowedLateness: formatDuration(config.allowedLatenessMs),
    minSamples: config.minSamples,
    thresholds: structuredClone(config.thresholds),
    featureThresholds: structuredClone(config.featureThresholds),
    datasetDriftShare: config.datasetDriftShare,
    benjaminiHochberg: config.benjaminiHochberg,
    falseAlarmBudget: config.falseAlarmBudget,
    dataQuality: structuredClone(config.dataQuality),
    resolveAfter: config.resolveAfter,
    bins: config.bins,
    topK: config.topK,
    reference: {
      bootstrapEvents: config.reference.bootstrapEvents,
      bootstrapDuration: formatDuration(config.reference.bootstrapDurationMs),
      ...(config.reference.profileFile ? { profileFile: config.reference.profileFile } : {}),
    },
    autoRegistered: config.autoRegistered,
    performance: performanceConfigToJson(config.performance),
    ...(config.importance ? { importance: { ...config.importance } } : {}),
    ...(config.datasetDriftWeightedShare !== undefined ? { datasetDriftWeightedShare: config.datasetDriftWeightedShare } : {}),
    ...(config.retrain ? { retrain: retrainConfigToJson(config.retrain) } : {}),
    multivariate: multivariateConfigToJson(config.multivariate),
    segments: segmentsConfigToJson(config.segments),
  };
}

/** A copy of `config` with `features` replaced (used when types are inferred from events). */
export function withFeatures(config: ModelConfig, features: Record<string, FeatureType>): ModelConfig {
  return deepFreeze({ ...config, features: { ...features } });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
