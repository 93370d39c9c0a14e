/**
 * JSON schemas of the API: Fastify validates requests and serializes answers
 * with them, and @fastify/swagger turns them into /openapi.json. Shared
 * shapes are registered once with an $id and referenced as `Name#`.
 */

import { MAX_FEATURES_PER_MODEL } from '../core/model/index.js';

const num = { type: 'number' } as const;
const nullableNum = { type: ['number', 'null'] } as const;
const epochMs = { type: 'integer', description: 'Epoch milliseconds' } as const;

export const ErrorSchema = {
  $id: 'Error',
  type: 'object',
  description: 'The one error model (docs/errors.md lists every code).',
  required: ['statusCode', 'code', 'error', 'message', 'requestId'],
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string', description: 'Stable machine-readable code' },
    error: { type: 'string', description: 'HTTP reason phrase' },
    message: { type: 'string' },
    requestId: { type: 'string' },
    details: {},
  },
} as const;

export const FeatureResultSchema = {
  $id: 'FeatureResult',
  type: 'object',
  additionalProperties: true,
  required: ['type', 'drift', 'severity'],
  properties: {
    type: { type: 'string', enum: ['numeric', 'categorical'] },
    nReference: num,
    nCurrent: num,
    missing: num,
    missingRate: num,
    psi: num,
    ks: {
      type: 'object',
      properties: { statistic: num, pValue: num, errorBound: num },
    },
    wassersteinNormed: num,
    jensenShannon: num,
    hellinger: num,
    chiSquare: { type: 'object', properties: { statistic: num, pValue: num, dof: num } },
    newCategories: { type: 'array', items: { type: 'string' } },
    drift: { type: 'boolean' },
    severity: { type: 'string', enum: ['NONE', 'WARNING', 'CRITICAL'] },
    importance: { type: 'number', description: "The feature's declared importance (when the model declares any)" },
    verdict: {
      type: 'object',
      description: 'The verdict and its evidence (docs/detector.md); numbers that are not finite are null',
      additionalProperties: true,
      properties: {
        verdict: { type: 'string', enum: ['ok', 'drift', 'insufficient'] },
        test: { type: ['string', 'null'] },
        pValue: { type: ['number', 'null'] },
        level: { type: ['number', 'null'] },
        metric: { type: 'string', enum: ['wasserstein', 'totalVariation'] },
        effect: { type: ['number', 'null'] },
        floor: { type: 'object', properties: { warning: num, critical: num } },
        n: num,
        mde: { type: ['number', 'null'] },
        nNeeded: { type: ['number', 'null'] },
        tests: { type: 'object', additionalProperties: { type: ['number', 'null'] } },
      },
    },
  },
} as const;

export const EvaluationSchema = {
  $id: 'Evaluation',
  type: 'object',
  additionalProperties: true,
  required: ['modelId', 'windowName', 'windowStart', 'windowEnd', 'sampleSize', 'datasetDrift', 'features'],
  properties: {
    evaluationId: { type: 'string' },
    modelId: { type: 'string' },
    modelVersion: { type: ['string', 'null'] },
    windowName: { type: 'string' },
    windowStart: epochMs,
    windowEnd: epochMs,
    sampleSize: { type: 'integer' },
    referenceId: { type: 'string' },
    evaluatedAt: epochMs,
    alertable: { type: 'boolean', description: 'False when the window had fewer than minSamples events' },
    datasetDrift: {
      type: 'object',
      required: ['share', 'drift'],
      properties: {
        share: num,
        weightedShare: { type: 'number', description: 'Importance-weighted share of drifting features' },
        drift: { type: 'boolean' },
      },
    },
    features: { type: 'object', additionalProperties: { $ref: 'FeatureResult#' } },
    prediction: { type: 'object', additionalProperties: { $ref: 'FeatureResult#' } },
    dataQuality: { type: 'object', additionalProperties: true },
    proxy: { type: 'object', additionalProperties: nullableNum },
    performance: { $ref: 'Performance#' },
    estimatedPerformance: { $ref: 'EstimatedPerformance#' },
    multivariate: {
      type: 'object',
      additionalProperties: true,
      description: 'Multivariate drift: the reconstruction error of the standardized numeric features against the reference (docs/detector.md)',
      properties: { verdict: { type: 'string', enum: ['ok', 'drift', 'insufficient'] }, severity: { type: 'string' }, effect: nullableNum, pValue: nullableNum, meanError: nullableNum, n: num },
    },
  },
} as const;

export const EstimatedPerformanceSchema = {
  $id: 'EstimatedPerformance',
  type: 'object',
  additionalProperties: true,
  description: 'Performance estimated without labels from the calibrated scores (docs/detector.md); status unavailable says why not',
  properties: {
    status: { type: 'string', enum: ['estimated', 'unavailable'] },
    reason: { type: 'string' },
    n: num,
    metrics: { type: 'object', additionalProperties: nullableNum },
    standardError: { type: 'object', additionalProperties: nullableNum },
    interval: { type: 'object', additionalProperties: { anyOf: [{ type: 'array', items: num }, { type: 'null' }] } },
    confusion: { type: 'object', additionalProperties: num },
    perClass: { type: 'object', additionalProperties: { type: 'object', additionalProperties: nullableNum }, description: 'Multi-class: events predicted per class with the estimated precision' },
    calibration: { type: 'object', additionalProperties: num },
    verdicts: { type: 'object', additionalProperties: { type: 'object', additionalProperties: true } },
  },
} as const;

export const PerformanceSchema = {
  $id: 'Performance',
  type: 'object',
  additionalProperties: true,
  properties: {
    labelled: num,
    predictions: num,
    coverage: num,
    metrics: { type: 'object', additionalProperties: nullableNum },
    unavailable: { type: 'object', additionalProperties: { type: 'string' }, description: 'Why a metric is null for this model whatever the labels, by metric name' },
    labelDelayP50Ms: nullableNum,
    labelDelayP95Ms: nullableNum,
  },
} as const;

export const AlertSchema = {
  $id: 'Alert',
  type: 'object',
  additionalProperties: true,
  properties: {
    alertId: { type: 'string' },
    modelId: { type: 'string' },
    modelVersion: { type: ['string', 'null'] },
    kind: { type: 'string', enum: ['FEATURE_DRIFT', 'PREDICTION_DRIFT', 'DATASET_DRIFT', 'PERFORMANCE', 'DATA_QUALITY', 'RETRAIN_RECOMMENDED', 'MULTIVARIATE_DRIFT', 'ESTIMATED_PERFORMANCE'] },
    feature: { type: ['string', 'null'] },
    statistic: { type: 'string' },
    value: num,
    threshold: num,
    severity: { type: 'string', enum: ['WARNING', 'CRITICAL'] },
    status: { type: 'string', enum: ['FIRING', 'RESOLVED'] },
    windowName: { type: 'string' },
    windowStart: epochMs,
    windowEnd: epochMs,
    sampleSize: { type: 'integer' },
    referenceId: { type: 'string' },
    detectedAt: epochMs,
    details: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

const windowSpec = {
  type: 'object',
  required: ['name', 'size'],
  additionalProperties: true,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' },
    size: { type: 'string', pattern: '^\\d+(ms|s|m|h|d)$' },
    slide: { type: 'string', pattern: '^\\d+(ms|s|m|h|d)$' },
  },
} as const;

const thresholdSet = {
  type: 'object',
  description: 'Per statistic: {"psi": {"warning": 0.1, "critical": 0.25}, ...}',
  additionalProperties: true,
} as const;

export const MODEL_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$';

/** A model configuration as PUT accepts it (DESIGN.md section 3); src/core/model's parser checks every field. */
export const ModelConfigSchema = {
  $id: 'ModelConfig',
  type: 'object',
  additionalProperties: true,
  properties: {
    modelId: { type: 'string', pattern: MODEL_ID_PATTERN },
    features: {
      type: 'object',
      additionalProperties: { type: 'string', enum: ['numeric', 'categorical'] },
      description: `At most ${MAX_FEATURES_PER_MODEL} features (more answer 400 TOO_MANY_FEATURES)`,
    },
    prediction: { type: 'string', enum: ['score', 'class', 'regression'] },
    positiveClass: { type: ['string', 'number', 'boolean'] },
    scoreOf: { type: 'string', enum: ['positiveClass', 'predictedClass'], description: 'What the score is the probability of; predictedClass (multi-class class models) estimates accuracy and per-class precision' },
    windows: { type: 'array', items: windowSpec, minItems: 1, maxItems: 16 },
    allowedLateness: { type: 'string', pattern: '^\\d+(ms|s|m|h|d)$' },
    minSamples: { type: 'integer', minimum: 1 },
    thresholds: thresholdSet,
    featureThresholds: { type: 'object', additionalProperties: thresholdSet },
    reference: { type: 'object', additionalProperties: true },
    importance: { type: 'object', additionalProperties: { type: 'number', minimum: 0 }, description: 'How much the model relies on each feature; weighs the dataset drift share' },
    datasetDriftWeightedShare: { type: 'number', minimum: 0.01, maximum: 1, description: 'Importance-weighted share of drifting features at which the dataset drifts' },
  },
} as const;

export const WindowViewSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    size: { type: 'string' },
    slide: { type: 'string' },
    latest: {
      type: ['object', 'null'],
      properties: {
        windowStart: epochMs,
        windowEnd: epochMs,
        sampleSize: { type: 'integer' },
        evaluatedAt: epochMs,
        datasetDrift: { type: 'object', properties: { share: num, drift: { type: 'boolean' } } },
        alertable: { type: 'boolean' },
        driftingFeatures: { type: 'array', items: { type: 'string' } },
      },
    },
  },
} as const;

export const ModelViewSchema = {
  $id: 'Model',
  type: 'object',
  required: ['modelId', 'status', 'features', 'reference', 'windows'],
  properties: {
    modelId: { type: 'string' },
    status: { type: 'string', enum: ['warming_up', 'ok', 'drifting'] },
    statusReason: { type: 'string' },
    detector: { type: 'object', additionalProperties: true, description: 'Live facts from the running detector' },
    features: { type: 'object', additionalProperties: { type: 'string' } },
    prediction: { type: ['string', 'null'] },
    reference: {
      type: ['object', 'null'],
      properties: {
        referenceId: { type: 'string' },
        version: { type: 'integer' },
        createdAt: epochMs,
        rows: { type: ['integer', 'null'] },
      },
    },
    windows: { type: 'array', items: WindowViewSchema },
    config: { type: 'object', additionalProperties: true },
  },
} as const;

export const SHARED_SCHEMAS = [ErrorSchema, FeatureResultSchema, PerformanceSchema, EstimatedPerformanceSchema, EvaluationSchema, AlertSchema, ModelConfigSchema, ModelViewSchema];

/** The answer about one model and one of its windows: `modelId`, `window`, then the route's own properties. */
export function modelWindowAnswer<P extends Record<string, unknown>>(properties: P, window: { type: string | readonly string[] } = { type: 'string' }) {
  return { type: 'object', properties: { modelId: { type: 'string' }, window, ...properties } } as const;
}

export const errorResponses = {
  '4xx': { $ref: 'Error#' },
  '5xx': { $ref: 'Error#' },
} as const;

/** Routes that change state take an API key or a bearer token (the guards say which role). */
export const writeSecurity = [{ apiKey: [] }, { bearer: [] }] as const;

export const modelIdParams = {
  type: 'object',
  required: ['modelId'],
  properties: { modelId: { type: 'string', pattern: MODEL_ID_PATTERN } },
} as const;

export const windowQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { window: { type: 'string', maxLength: 64, description: "Window name; the model's first window when omitted" } },
} as const;

/** Epoch milliseconds or an ISO-8601 timestamp. */
export const timeParam = {
  type: 'string',
  maxLength: 40,
  pattern: '^(\\d{1,16}|\\d{4}-\\d{2}-\\d{2}(T[0-9:.]+(Z|[+-]\\d{2}:?\\d{2})?)?)$',
  description: 'Epoch milliseconds or an ISO-8601 timestamp',
} as const;
