import type { FastifyInstance } from 'fastify';
import type { Evaluation, FeatureResult } from '../../core/drift/types.js';
import { parseProfile, type FeatureProfile } from '../../core/profile/reference-profile.js';
import { proportions } from '../../core/stats/proportions.js';
import type { StoredReference } from '../../ports/model-repository.js';
import type { HttpDeps } from '../deps.js';
import { httpError } from '../errors.js';
import { featuresOf, latestEvaluation, requireModel, resolveWindow } from '../model-view.js';
import { importanceOfJson } from '../../report/report-context.js';
import { byImportance } from '../../core/model/feature-importance.js';
import type { ModelConfigJson } from '../../ports/model-repository.js';
import { parseTime, type RouteContext } from '../route-context.js';
import { errorResponses, modelIdParams, modelWindowAnswer, timeParam } from '../schemas.js';
import { historyRoutes } from './history.js';

/** Evaluations without their plot histograms: the drift and windows answers stay small. */
function lean(e: Evaluation): Evaluation {
  const strip = (r: Record<string, FeatureResult> | undefined) => {
    if (!r) return r;
    const out: Record<string, FeatureResult> = {};
    for (const [k, f] of Object.entries(r)) {
      if (f.histogram === undefined) out[k] = f;
      else {
        const { histogram: _h, ...rest } = f;
        out[k] = rest;
      }
    }
    return out;
  };
  return { ...e, features: strip(e.features)!, ...(e.prediction ? { prediction: strip(e.prediction) } : {}) };
}

/** The features of an evaluation keyed most important first (as the model declares importance); JSON keeps that order. */
function byImportanceOf(config: ModelConfigJson, e: Evaluation): Evaluation {
  const importance = importanceOfJson(config);
  if (!importance) return e;
  const features: Record<string, FeatureResult> = {};
  for (const name of byImportance(Object.keys(e.features), importance)) features[name] = e.features[name];
  return { ...e, features };
}

interface Histogram {
  edges?: readonly number[];
  categories?: string[];
  range?: [number, number];
  proportions: number[];
}

/** The reference side of a feature's histogram from the stored profile; null when it has none or cannot be read. */
function referenceHistogram(ref: StoredReference | undefined, feature: string): Histogram | null {
  if (!ref) return null;
  let f: FeatureProfile | undefined;
  try {
    f = parseProfile(ref.profile).features[feature];
  } catch {
    // A profile that no longer parses still lets the rest of the feature's answer through.
    return null;
  }
  if (!f) return null;
  if (f.type === 'numeric') return { edges: f.edges, range: [f.min, f.max], proportions: Array.from(proportions(f.counts)) };
  const entries = Object.entries(f.categories).sort((a, b) => b[1] - a[1]);
  return { categories: entries.map(([c]) => c), proportions: Array.from(proportions(entries.map(([, n]) => n))) };
}

const historyQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    window: { type: 'string', maxLength: 64 },
    from: timeParam,
    to: timeParam,
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
  },
} as const;

type HistoryQuery = { window?: string; from?: string; to?: string; limit: number };
type ModelParams = { Params: { modelId: string } };
type FeatureParams = { Params: { modelId: string; feature: string } };

const integer = { type: 'integer' } as const;
const nullableNumber = { type: ['number', 'null'] } as const;
// The window an answer is about, as every history item and latest value gives it.
const windowBounds = { windowStart: integer, windowEnd: integer } as const;
const performanceAndProxy = {
  performance: { anyOf: [{ $ref: 'Performance#' }, { type: 'null' }] },
  realized: { anyOf: [{ $ref: 'Performance#' }, { type: 'null' }], description: 'Performance measured from the labels joined so far (the same as performance)' },
  estimated: { anyOf: [{ $ref: 'EstimatedPerformance#' }, { type: 'null' }], description: 'Performance estimated from calibrated scores, before any label' },
  proxy: { type: ['object', 'null'], additionalProperties: nullableNumber },
} as const;

const driftSchema = {
  tags: ['drift'],
  summary: 'Latest evaluation of a window: dataset drift and per-feature statistics',
  params: modelIdParams,
  querystring: { type: 'object', additionalProperties: false, properties: { window: { type: 'string', maxLength: 64 } } },
  response: { 200: { $ref: 'Evaluation#' }, ...errorResponses },
} as const;

const windowsSchema = {
  tags: ['drift'],
  summary: 'Evaluation history, newest first (all windows unless one is named)',
  params: modelIdParams,
  querystring: historyQuery,
  response: {
    200: modelWindowAnswer({ evaluations: { type: 'array', items: { $ref: 'Evaluation#' } } }, { type: ['string', 'null'] }),
    ...errorResponses,
  },
} as const;

const performanceSchema = {
  tags: ['performance'],
  summary: 'Performance once labels join (accuracy, AUC, ...), proxy metrics, and their history',
  params: modelIdParams,
  querystring: historyQuery,
  response: {
    200: modelWindowAnswer({
      latest: { type: ['object', 'null'], properties: { ...windowBounds, ...performanceAndProxy } },
      history: { type: 'array', items: { type: 'object', properties: { ...windowBounds, sampleSize: integer, ...performanceAndProxy } } },
    }),
    ...errorResponses,
  },
} as const;

const histogramSchema = {
  type: ['object', 'null'],
  properties: {
    edges: { type: 'array', items: { type: 'number' }, description: 'Interior bin edges; the outer bins are open' },
    categories: { type: 'array', items: { type: 'string' } },
    range: { type: 'array', items: { type: 'number' }, description: 'Reference min and max, to draw the open outer bins' },
    proportions: { type: 'array', items: { type: 'number' } },
  },
} as const;

const featureHistoryItemSchema = {
  type: 'object',
  properties: {
    ...windowBounds,
    sampleSize: integer,
    severity: { type: 'string' },
    drift: { type: 'boolean' },
    psi: nullableNumber,
    ks: nullableNumber,
    ksPValue: nullableNumber,
    wassersteinNormed: nullableNumber,
    jensenShannon: nullableNumber,
    hellinger: nullableNumber,
    chiSquarePValue: nullableNumber,
    missingRate: nullableNumber,
  },
} as const;

const featureSchema = {
  tags: ['drift'],
  summary: "One feature: reference and current histograms and the statistics over time, for plots",
  params: {
    type: 'object',
    required: ['modelId', 'feature'],
    properties: { modelId: modelIdParams.properties.modelId, feature: { type: 'string', minLength: 1, maxLength: 256 } },
  },
  querystring: historyQuery,
  response: {
    200: modelWindowAnswer({
      feature: { type: 'string' },
      type: { type: 'string' },
      referenceId: { type: ['string', 'null'] },
      reference: histogramSchema,
      current: {
        type: ['object', 'null'],
        properties: { ...windowBounds, sampleSize: integer, proportions: { type: ['array', 'null'], items: { type: 'number' } } },
      },
      latest: { anyOf: [{ $ref: 'FeatureResult#' }, { type: 'null' }] },
      history: { type: 'array', items: featureHistoryItemSchema },
    }),
    ...errorResponses,
  },
} as const;

/** Drift state, evaluation history, performance and per-feature plots of a model. */
export async function resultRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { deps, guard } = ctx;
  // Drift answers serialized (and UTF-8 encoded) once per evaluation and model configuration, by the detector's version of it.
  const driftBodies = new WeakMap<object, { config: ModelConfigJson; body: Buffer }>();
  app.get<ModelParams & { Querystring: { window?: string } }>('/api/v1/models/:modelId/drift', { preHandler: guard.read, schema: driftSchema }, async (request, reply) => {
    const config = await requireModel(deps.models, request.params.modelId);
    const window = resolveWindow(config, request.query.window);
    const version = deps.state?.latestEvaluationVersion?.(config.modelId, window.name);
    if (version === undefined) return latestDrift(deps, config, window.name);
    const hit = driftBodies.get(version);
    if (hit?.config === config) return reply.type('application/json; charset=utf-8').send(hit.body);
    const body = Buffer.from(reply.serialize(await latestDrift(deps, config, window.name)) as string);
    // Kept only while this evaluation is the latest one read with this configuration.
    if (deps.state?.latestEvaluationVersion?.(config.modelId, window.name) === version) driftBodies.set(version, { config, body });
    return reply.type('application/json; charset=utf-8').send(body);
  });
  app.get<ModelParams & { Querystring: HistoryQuery }>('/api/v1/models/:modelId/windows', { preHandler: guard.read, schema: windowsSchema }, (request) =>
    evaluationHistory(deps, request.params.modelId, request.query),
  );
  app.get<ModelParams & { Querystring: HistoryQuery }>('/api/v1/models/:modelId/performance', { preHandler: guard.read, schema: performanceSchema }, (request) =>
    performanceView(deps, request.params.modelId, request.query),
  );
  app.get<FeatureParams & { Querystring: HistoryQuery }>('/api/v1/models/:modelId/features/:feature', { preHandler: guard.read, schema: featureSchema }, (request) =>
    featureView(deps, request.params.modelId, request.params.feature, request.query),
  );
  await historyRoutes(app, ctx);
}

function notEvaluated(modelId: string, windowName: string): never {
  throw httpError('NO_EVALUATION', `window ${windowName} of model ${modelId} has not been evaluated yet`);
}

async function latestDrift(deps: HttpDeps, config: ModelConfigJson, windowName: string): Promise<Evaluation> {
  const e = await latestEvaluation(deps, config.modelId, windowName);
  if (!e) notEvaluated(config.modelId, windowName);
  return lean(byImportanceOf(config, e));
}

async function evaluationHistory(deps: HttpDeps, modelId: string, q: HistoryQuery) {
  const config = await requireModel(deps.models, modelId);
  const windowName = q.window ? resolveWindow(config, q.window).name : undefined;
  const from = parseTime(q.from, 'from');
  const to = parseTime(q.to, 'to');
  if (from !== undefined && to !== undefined && from > to) throw httpError('VALIDATION_FAILED', 'from must not be after to');
  const evaluations = await deps.results.listEvaluations({ modelId: config.modelId, windowName, from, to, limit: q.limit });
  return { modelId: config.modelId, window: windowName ?? null, evaluations: evaluations.map((e) => lean(byImportanceOf(config, e))) };
}

function windowEvaluations(deps: HttpDeps, modelId: string, windowName: string, q: HistoryQuery): Promise<Evaluation[]> {
  return deps.results.listEvaluations({ modelId, windowName, from: parseTime(q.from, 'from'), to: parseTime(q.to, 'to'), limit: q.limit });
}

async function performanceView(deps: HttpDeps, modelId: string, q: HistoryQuery) {
  const config = await requireModel(deps.models, modelId);
  const window = resolveWindow(config, q.window);
  const [joined, evaluations] = await Promise.all([
    deps.performance?.latestPerformance(config.modelId, window.name),
    windowEvaluations(deps, config.modelId, window.name, q),
  ]);
  const newest = evaluations[0];
  if (!newest && !joined) notEvaluated(config.modelId, window.name);
  const same = joined ? evaluations.find((e) => e.windowEnd === joined.windowEnd) : newest;
  const latest = joined
    ? {
        windowStart: joined.windowStart,
        windowEnd: joined.windowEnd,
        performance: joined.performance,
        realized: joined.performance,
        estimated: same?.estimatedPerformance ?? null,
        proxy: joined.proxy ?? same?.proxy ?? null,
      }
    : { windowStart: newest.windowStart, windowEnd: newest.windowEnd, performance: newest.performance ?? null, realized: newest.performance ?? null, estimated: newest.estimatedPerformance ?? null, proxy: newest.proxy ?? null };
  return {
    modelId: config.modelId,
    window: window.name,
    latest,
    history: evaluations
      .map((e) => ({
        windowStart: e.windowStart,
        windowEnd: e.windowEnd,
        sampleSize: e.sampleSize,
        performance: e.performance ?? null,
        realized: e.performance ?? null,
        estimated: e.estimatedPerformance ?? null,
        proxy: e.proxy ?? null,
      }))
      .reverse(),
  };
}

async function featureView(deps: HttpDeps, modelId: string, feature: string, q: HistoryQuery) {
  const config = await requireModel(deps.models, modelId);
  const window = resolveWindow(config, q.window);
  const [evaluations, latestRef] = await Promise.all([windowEvaluations(deps, config.modelId, window.name, q), deps.models.latestReference(config.modelId)]);
  const newest = evaluations.find((e) => e.features[feature] !== undefined);
  const declared = featuresOf(config)[feature];
  if (!declared && !newest) throw httpError('FEATURE_NOT_FOUND', `model ${config.modelId} has no feature ${feature}`);
  const result = newest?.features[feature];
  // The profile the newest evaluation was judged against, so both sides share bins.
  const ref = newest && newest.referenceId !== latestRef?.referenceId ? ((await deps.models.getReference(newest.referenceId)) ?? latestRef) : latestRef;
  const h = result?.histogram;
  return {
    modelId: config.modelId,
    window: window.name,
    feature,
    type: result?.type ?? declared,
    referenceId: ref?.referenceId ?? null,
    reference: featureReference(referenceHistogram(ref, feature), h),
    current: newest ? { windowStart: newest.windowStart, windowEnd: newest.windowEnd, sampleSize: newest.sampleSize, proportions: h?.current ?? null } : null,
    latest: result ? { ...result, histogram: undefined } : null,
    history: evaluations
      .filter((e) => e.features[feature] !== undefined)
      .map((e) => featureHistoryItem(e, e.features[feature]))
      .reverse(),
  };
}

/** The evaluation's own reference side when it kept one (same bins as the current side), else the profile's. */
function featureReference(fromProfile: Histogram | null, h: FeatureResult['histogram']): Histogram | null {
  if (!h) return fromProfile;
  return {
    ...(h.edges ? { edges: h.edges } : {}),
    ...(h.categories ? { categories: h.categories } : {}),
    ...(fromProfile?.range ? { range: fromProfile.range } : {}),
    proportions: h.reference,
  };
}

function featureHistoryItem(e: Evaluation, f: FeatureResult) {
  return {
    windowStart: e.windowStart,
    windowEnd: e.windowEnd,
    sampleSize: e.sampleSize,
    severity: f.severity,
    drift: f.drift,
    psi: f.psi ?? null,
    ks: f.ks?.statistic ?? null,
    ksPValue: f.ks?.pValue ?? null,
    wassersteinNormed: f.wassersteinNormed ?? null,
    jensenShannon: f.jensenShannon ?? null,
    hellinger: f.hellinger ?? null,
    chiSquarePValue: f.chiSquare?.pValue ?? null,
    missingRate: f.missingRate ?? null,
  };
}
