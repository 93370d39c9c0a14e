import type { FastifyInstance } from 'fastify';
import type { Evaluation, FeatureResult } from '../../core/drift/types.js';
import type { StoredReference } from '../../ports/model-repository.js';
import { httpError } from '../errors.js';
import { featuresOf, latestEvaluation, requireModel, resolveWindow } from '../model-view.js';
import { parseTime, type RouteContext } from '../route-context.js';
import { errorResponses, modelIdParams, timeParam } from '../schemas.js';

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

interface Histogram {
  edges?: number[];
  categories?: string[];
  range?: [number, number];
  proportions: number[];
}

function proportions(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
}

/** The reference side of a feature's histogram from the stored profile (src/core/profile layout). */
function referenceHistogram(ref: StoredReference | undefined, feature: string): Histogram | null {
  const profile = ref?.profile as { features?: Record<string, unknown> } | undefined;
  const f = profile?.features?.[feature] as
    | { type: 'numeric'; edges: number[]; counts: number[]; min: number; max: number }
    | { type: 'categorical'; categories: Record<string, number> }
    | undefined;
  if (!f || typeof f !== 'object') return null;
  if (f.type === 'numeric' && Array.isArray(f.edges) && Array.isArray(f.counts)) {
    return { edges: f.edges, range: [f.min, f.max], proportions: proportions(f.counts) };
  }
  if (f.type === 'categorical' && f.categories && typeof f.categories === 'object') {
    const entries = Object.entries(f.categories).sort((a, b) => b[1] - a[1]);
    return { categories: entries.map(([c]) => c), proportions: proportions(entries.map(([, n]) => n)) };
  }
  return null;
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

export async function resultRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { deps, guard } = ctx;

  app.get<{ Params: { modelId: string }; Querystring: { window?: string } }>('/api/v1/models/:modelId/drift', {
    preHandler: guard.read,
    schema: {
      tags: ['drift'],
      summary: 'Latest evaluation of a window: dataset drift and per-feature statistics',
      params: modelIdParams,
      querystring: { type: 'object', additionalProperties: false, properties: { window: { type: 'string', maxLength: 64 } } },
      response: { 200: { $ref: 'Evaluation#' }, ...errorResponses },
    },
  }, async (request) => {
    const config = await requireModel(deps.models, request.params.modelId);
    const window = resolveWindow(config, request.query.window);
    const e = await latestEvaluation(deps, config.modelId, window.name);
    if (!e) throw httpError('NO_EVALUATION', `window ${window.name} of model ${config.modelId} has not been evaluated yet`);
    return lean(e);
  });

  app.get<{ Params: { modelId: string }; Querystring: HistoryQuery }>('/api/v1/models/:modelId/windows', {
    preHandler: guard.read,
    schema: {
      tags: ['drift'],
      summary: 'Evaluation history, newest first (all windows unless one is named)',
      params: modelIdParams,
      querystring: historyQuery,
      response: {
        200: {
          type: 'object',
          properties: {
            modelId: { type: 'string' },
            window: { type: ['string', 'null'] },
            evaluations: { type: 'array', items: { $ref: 'Evaluation#' } },
          },
        },
        ...errorResponses,
      },
    },
  }, async (request) => {
    const config = await requireModel(deps.models, request.params.modelId);
    const q = request.query;
    const windowName = q.window ? resolveWindow(config, q.window).name : undefined;
    const from = parseTime(q.from, 'from');
    const to = parseTime(q.to, 'to');
    if (from !== undefined && to !== undefined && from > to) throw httpError('VALIDATION_FAILED', 'from must not be after to');
    const evaluations = await deps.results.listEvaluations({ modelId: config.modelId, windowName, from, to, limit: q.limit });
    return { modelId: config.modelId, window: windowName ?? null, evaluations: evaluations.map(lean) };
  });

  app.get<{ Params: { modelId: string }; Querystring: HistoryQuery }>('/api/v1/models/:modelId/performance', {
    preHandler: guard.read,
    schema: {
      tags: ['performance'],
      summary: 'Performance once labels join (accuracy, AUC, ...), proxy metrics, and their history',
      params: modelIdParams,
      querystring: historyQuery,
      response: {
        200: {
          type: 'object',
          properties: {
            modelId: { type: 'string' },
            window: { type: 'string' },
            latest: {
              type: ['object', 'null'],
              properties: {
                windowStart: { type: 'integer' },
                windowEnd: { type: 'integer' },
                performance: { anyOf: [{ $ref: 'Performance#' }, { type: 'null' }] },
                proxy: { type: ['object', 'null'], additionalProperties: { type: ['number', 'null'] } },
              },
            },
            history: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  windowStart: { type: 'integer' },
                  windowEnd: { type: 'integer' },
                  sampleSize: { type: 'integer' },
                  performance: { anyOf: [{ $ref: 'Performance#' }, { type: 'null' }] },
                  proxy: { type: ['object', 'null'], additionalProperties: { type: ['number', 'null'] } },
                },
              },
            },
          },
        },
        ...errorResponses,
      },
    },
  }, async (request) => {
    const config = await requireModel(deps.models, request.params.modelId);
    const q = request.query;
    const window = resolveWindow(config, q.window);
    const [joined, evaluations] = await Promise.all([
      deps.performance?.latestPerformance(config.modelId, window.name),
      deps.results.listEvaluations({ modelId: config.modelId, windowName: window.name, from: parseTime(q.from, 'from'), to: parseTime(q.to, 'to'), limit: q.limit }),
    ]);
    const newest = evaluations[0];
    if (!newest && !joined) throw httpError('NO_EVALUATION', `window ${window.name} of model ${config.modelId} has not been evaluated yet`);
    const latest = joined
      ? {
          windowStart: joined.windowStart,
          windowEnd: joined.windowEnd,
          performance: joined.performance,
          proxy: joined.proxy ?? (newest?.windowEnd === joined.windowEnd ? (newest.proxy ?? null) : null),
        }
      : { windowStart: newest.windowStart, windowEnd: newest.windowEnd, performance: newest.performance ?? null, proxy: newest.proxy ?? null };
    return {
      modelId: config.modelId,
      window: window.name,
      latest,
      history: evaluations
        .map((e) => ({ windowStart: e.windowStart, windowEnd: e.windowEnd, sampleSize: e.sampleSize, performance: e.performance ?? null, proxy: e.proxy ?? null }))
        .reverse(),
    };
  });

  const histogramSchema = {
    type: ['object', 'null'],
    properties: {
      edges: { type: 'array', items: { type: 'number' }, description: 'Interior bin edges; the outer bins are open' },
      categories: { type: 'array', items: { type: 'string' } },
      range: { type: 'array', items: { type: 'number' }, description: 'Reference min and max, to draw the open outer bins' },
      proportions: { type: 'array', items: { type: 'number' } },
    },
  } as const;

  app.get<{ Params: { modelId: string; feature: string }; Querystring: HistoryQuery }>('/api/v1/models/:modelId/features/:feature', {
    preHandler: guard.read,
    schema: {
      tags: ['drift'],
      summary: "One feature: reference and current histograms and the statistics over time, for plots",
      params: {
        type: 'object',
        required: ['modelId', 'feature'],
        properties: { modelId: modelIdParams.properties.modelId, feature: { type: 'string', minLength: 1, maxLength: 256 } },
      },
      querystring: historyQuery,
      response: {
        200: {
          type: 'object',
          properties: {
            modelId: { type: 'string' },
            window: { type: 'string' },
            feature: { type: 'string' },
            type: { type: 'string' },
            referenceId: { type: ['string', 'null'] },
            reference: histogramSchema,
            current: {
              type: ['object', 'null'],
              properties: {
                windowStart: { type: 'integer' },
                windowEnd: { type: 'integer' },
                sampleSize: { type: 'integer' },
                proportions: { type: ['array', 'null'], items: { type: 'number' } },
              },
            },
            latest: { anyOf: [{ $ref: 'FeatureResult#' }, { type: 'null' }] },
            history: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  windowStart: { type: 'integer' },
                  windowEnd: { type: 'integer' },
                  sampleSize: { type: 'integer' },
                  severity: { type: 'string' },
                  drift: { type: 'boolean' },
                  psi: { type: ['number', 'null'] },
                  ks: { type: ['number', 'null'] },
                  ksPValue: { type: ['number', 'null'] },
                  wassersteinNormed: { type: ['number', 'null'] },
                  jensenShannon: { type: ['number', 'null'] },
                  hellinger: { type: ['number', 'null'] },
                  chiSquarePValue: { type: ['number', 'null'] },
                  missingRate: { type: ['number', 'null'] },
                },
              },
            },
          },
        },
        ...errorResponses,
      },
    },
  }, async (request) => {
    const { feature } = request.params;
    const config = await requireModel(deps.models, request.params.modelId);
    const q = request.query;
    const window = resolveWindow(config, q.window);
    const [evaluations, latestRef] = await Promise.all([
      deps.results.listEvaluations({ modelId: config.modelId, windowName: window.name, from: parseTime(q.from, 'from'), to: parseTime(q.to, 'to'), limit: q.limit }),
      deps.models.latestReference(config.modelId),
    ]);
    const newest = evaluations.find((e) => e.features[feature] !== undefined);
    const declared = featuresOf(config)[feature];
    if (!declared && !newest) throw httpError('FEATURE_NOT_FOUND', `model ${config.modelId} has no feature ${feature}`);
    const result = newest?.features[feature];
    // The profile the newest evaluation was judged against, so both sides share bins.
    const ref = newest && newest.referenceId !== latestRef?.referenceId ? ((await deps.models.getReference(newest.referenceId)) ?? latestRef) : latestRef;
    let reference = referenceHistogram(ref, feature);
    const h = result?.histogram;
    if (h) {
      reference = {
        ...(h.edges ? { edges: h.edges } : {}),
        ...(h.categories ? { categories: h.categories } : {}),
        ...(reference?.range ? { range: reference.range } : {}),
        proportions: h.reference,
      };
    }
    return {
      modelId: config.modelId,
      window: window.name,
      feature,
      type: result?.type ?? declared,
      referenceId: ref?.referenceId ?? null,
      reference,
      current: newest
        ? { windowStart: newest.windowStart, windowEnd: newest.windowEnd, sampleSize: newest.sampleSize, proportions: h?.current ?? null }
        : null,
      latest: result ? { ...result, histogram: undefined } : null,
      history: evaluations
        .filter((e) => e.features[feature] !== undefined)
        .map((e) => {
          const f = e.features[feature];
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
        })
        .reverse(),
    };
  });
}
