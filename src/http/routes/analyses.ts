import type { FastifyInstance } from 'fastify';
import type { Analysis, AnalysisState } from '../../core/analysis/analysis.js';
import type { AnalysisRepository } from '../../ports/analysis-repository.js';
import { parseUploadEvents } from '../../core/analysis/upload-events.js';
import { renderAnalysisReport, reportedWindow } from '../../report/report-context.js';
import type { HttpDeps } from '../deps.js';
import { httpError } from '../errors.js';
import { requireModel } from '../model-view.js';
import type { RouteContext } from '../route-context.js';
import { errorResponses, modelIdParams, timeParam, writeSecurity } from '../schemas.js';
import { analysisRequestOf, parseTags, type AnalysisParams } from './analysis-request.js';

const NDJSON = 'application/x-ndjson';
const STATES = ['queued', 'running', 'completed', 'failed', 'cancelled'];
const idParams = {
  type: 'object',
  required: ['modelId', 'analysisId'],
  properties: { modelId: modelIdParams.properties.modelId, analysisId: { type: 'string', pattern: '^an-[0-9a-f-]{36}$' } },
} as const;
const AnalysisSchema = { type: 'object', additionalProperties: true, properties: { analysisId: { type: 'string' }, state: { type: 'string', enum: STATES } } } as const;

const createSchema = {
  tags: ['analyses'],
  summary: 'Queue a backfill analysis: a time range of the inference topic (JSON body), or an uploaded NDJSON file of events (query names the window)',
  params: modelIdParams,
  security: writeSecurity,
  querystring: { type: 'object', additionalProperties: false, properties: { window: { type: 'string', maxLength: 16 }, referenceId: { type: 'string', maxLength: 256 }, tags: { type: 'string', maxLength: 1100 } } },
  response: { 202: AnalysisSchema, ...errorResponses },
} as const;

const listSchema = {
  tags: ['analyses'],
  summary: "A model's analyses, newest first, filtered by tags (all must match) and state, in pages",
  params: modelIdParams,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { tags: { type: 'string', maxLength: 1100 }, state: { type: 'string', enum: STATES }, limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 }, cursor: { type: 'string', maxLength: 512 } },
  },
  response: { 200: { type: 'object', properties: { analyses: { type: 'array', items: AnalysisSchema }, nextCursor: { type: 'string' } } }, ...errorResponses },
} as const;

type ModelRoute = { Params: { modelId: string } };
type AnalysisRoute = { Params: { modelId: string; analysisId: string } };

/** What an answer shows of an analysis (its upload stays in the store). */
function view(a: Analysis) {
  return { ...a, links: { windows: `/api/v1/models/${a.modelId}/analyses/${a.analysisId}/windows`, report: `/api/v1/models/${a.modelId}/analyses/${a.analysisId}/report` } };
}

async function requireAnalysis(analyses: AnalysisRepository, modelId: string, analysisId: string): Promise<Analysis> {
  const a = await analyses.get(analysisId);
  if (!a || a.modelId !== modelId) throw httpError('ANALYSIS_NOT_FOUND', `model ${modelId} has no analysis ${analysisId}`);
  return a;
}

/** Backfill analyses: queue, follow, list by tag, cancel, read windows and reports. */
export async function analysisRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { deps, guard } = ctx;
  const analyses = deps.analyses;
  if (!analyses) return;
  await app.register(async (scope) => {
    // An uploaded file arrives whole (bounded by the reference upload limit) and is stored with the analysis.
    scope.addContentTypeParser(NDJSON, { parseAs: 'buffer', bodyLimit: deps.config.referenceUploadLimitBytes }, (_req, body, done) => done(null, body));
    scope.post<ModelRoute & { Body: AnalysisParams | Buffer; Querystring: { window?: string; referenceId?: string; tags?: string } }>(
      '/api/v1/models/:modelId/analyses',
      { preHandler: [guard.edit, ctx.writeLimit], bodyLimit: deps.config.referenceUploadLimitBytes, schema: createSchema },
      async (request, reply) => {
        const a = await createAnalysis(deps, analyses, request.params.modelId, request.body, request.query, ctx.now());
        return reply.code(202).header('location', view(a).links.report.replace(/\/report$/, '')).send(view(a));
      },
    );
  });
  app.get<ModelRoute & { Querystring: { tags?: string; state?: AnalysisState; limit: number; cursor?: string } }>('/api/v1/models/:modelId/analyses', { preHandler: guard.read, schema: listSchema }, async (request) => {
    const config = await requireModel(deps.models, request.params.modelId);
    const q = request.query;
    const page = await analyses.list({ modelId: config.modelId, tags: parseTags(q.tags), ...(q.state ? { state: q.state } : {}), limit: q.limit, ...(q.cursor ? { cursor: q.cursor } : {}) });
    return { analyses: page.analyses.map(view), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  });
  app.get<AnalysisRoute>('/api/v1/models/:modelId/analyses/:analysisId', { preHandler: guard.read, schema: { tags: ['analyses'], summary: 'One analysis: state, progress and summary', params: idParams, response: { 200: AnalysisSchema, ...errorResponses } } }, async (request) =>
    view(await requireAnalysis(analyses, request.params.modelId, request.params.analysisId)),
  );
  app.post<AnalysisRoute>('/api/v1/models/:modelId/analyses/:analysisId/cancel', { preHandler: [guard.edit, ctx.writeLimit], schema: { tags: ['analyses'], summary: 'Cancel a queued or running analysis (a running one stops after its current step)', params: idParams, security: writeSecurity, response: { 200: AnalysisSchema, ...errorResponses } } }, async (request) => {
    await requireAnalysis(analyses, request.params.modelId, request.params.analysisId);
    return view((await analyses.cancel(request.params.analysisId, ctx.now()))!);
  });
  registerResultRoutes(app, ctx, analyses);
}

function registerResultRoutes(app: FastifyInstance, ctx: RouteContext, analyses: AnalysisRepository): void {
  const { deps, guard } = ctx;
  const windowsQuery = { type: 'object', additionalProperties: false, properties: { from: timeParam, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 200 } } } as const;
  app.get<AnalysisRoute & { Querystring: { from?: string; limit: number } }>('/api/v1/models/:modelId/analyses/:analysisId/windows', { preHandler: guard.read, schema: { tags: ['analyses'], summary: "An analysis's windows in time order, each with its evaluation", params: idParams, querystring: windowsQuery } }, async (request) => {
    const a = await requireAnalysis(analyses, request.params.modelId, request.params.analysisId);
    const from = request.query.from === undefined ? undefined : Number.isNaN(Number(request.query.from)) ? Date.parse(request.query.from) : Number(request.query.from);
    return { analysisId: a.analysisId, windows: await analyses.windows(a.analysisId, { ...(from !== undefined ? { from } : {}), limit: request.query.limit }) };
  });
  const reportQuery = { type: 'object', additionalProperties: false, properties: { window: timeParam } } as const;
  app.get<AnalysisRoute & { Querystring: { window?: string } }>('/api/v1/models/:modelId/analyses/:analysisId/report', { preHandler: guard.read, schema: { tags: ['analyses'], summary: 'The HTML report of an analysis: the window named by its start (default: the last drifting window, else the last), with every window as its trend', params: idParams, querystring: reportQuery, produces: ['text/html'] } }, async (request, reply) => {
    const a = await requireAnalysis(analyses, request.params.modelId, request.params.analysisId);
    const windows = await analyses.windows(a.analysisId, { limit: 100_000 });
    const at = request.query.window === undefined ? undefined : Number.isNaN(Number(request.query.window)) ? Date.parse(request.query.window) : Number(request.query.window);
    const chosen = reportedWindow(windows, at);
    if (!chosen) throw httpError('NO_EVALUATION', at !== undefined ? `analysis ${a.analysisId} has no window starting at ${request.query.window}` : `analysis ${a.analysisId} has no window yet (state ${a.state})`);
    const config = await requireModel(deps.models, a.modelId);
    const reference = await deps.models.getReference(chosen.evaluation.referenceId);
    const html = renderAnalysisReport(a, windows, chosen, config, reference?.profile, ctx.now());
    return reply.type('text/html; charset=utf-8').header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:").send(html);
  });
}

const BODY_KEYS = new Set(['from', 'to', 'window', 'topic', 'referenceId', 'tags']);

/** The JSON body's fields, each of the type it must have (the route takes uploads too, so its schema cannot check the body). */
function checkedBody(body: unknown): Partial<AnalysisParams> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw httpError('VALIDATION_FAILED', 'expected a JSON object {from, to, window, topic?, referenceId?, tags?}');
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!BODY_KEYS.has(k)) throw httpError('VALIDATION_FAILED', `${k}: unknown field (expected one of ${[...BODY_KEYS].join(', ')})`);
  const str = (k: string) => (o[k] === undefined || typeof o[k] === 'string' ? (o[k] as string | undefined) : String(o[k]));
  if (o.topic !== undefined && (typeof o.topic !== 'string' || !/^[A-Za-z0-9._-]{1,249}$/.test(o.topic))) throw httpError('VALIDATION_FAILED', 'topic: expected a Kafka topic name');
  if (o.tags !== undefined && typeof o.tags !== 'string' && !(Array.isArray(o.tags) && o.tags.every((t) => typeof t === 'string'))) throw httpError('VALIDATION_FAILED', 'tags: expected a list of strings');
  return { window: str('window'), from: str('from'), to: str('to'), topic: str('topic'), referenceId: str('referenceId'), tags: o.tags as string[] | string | undefined } as Partial<AnalysisParams>;
}

async function createAnalysis(deps: HttpDeps, analyses: AnalysisRepository, modelId: string, body: AnalysisParams | Buffer | undefined, query: { window?: string; referenceId?: string; tags?: string }, now: number): Promise<Analysis> {
  const config = await requireModel(deps.models, modelId);
  const upload = Buffer.isBuffer(body) ? body : undefined;
  // An upload is read now, so a bad file is refused with its first bad line rather than failing later.
  if (upload && parseUploadEvents(upload, config.modelId).events.length === 0) throw httpError('VALIDATION_FAILED', `the uploaded file holds no events of model ${config.modelId}`);
  const params = upload ? { window: query.window, referenceId: query.referenceId, tags: query.tags } : checkedBody(body);
  if (typeof params.window !== 'string') throw httpError('VALIDATION_FAILED', 'window: required (in the JSON body, or in the query with an upload)');
  const { analysisId, request } = await analysisRequestOf(deps.models, config.modelId, params as AnalysisParams, upload ? { upload: upload.length } : { defaultTopic: deps.analysisTopic ?? 'inference-events' });
  const a = await analyses.create(analysisId, request, now, upload);
  deps.analysisQueue?.wake();
  return a;
}
