import type { FastifyInstance } from 'fastify';
import type { Evaluation } from '../../core/drift/types.js';
import { parseDuration } from '../../core/duration.js';
import { parseProfile } from '../../core/profile/reference-profile.js';
import type { ModelConfigJson, StoredReference } from '../../ports/model-repository.js';
import { REPORT_TREND_WINDOWS, renderEvaluationReport, type EvaluationReportContext } from '../../report/evaluation-report.js';
import type { HttpDeps } from '../deps.js';
import { httpError } from '../errors.js';
import { importanceOf, requireModel, resolveWindow, type WindowSpec } from '../model-view.js';
import { parseTime, type RouteContext } from '../route-context.js';
import { errorResponses, modelIdParams, timeParam } from '../schemas.js';

const reportSchema = {
  tags: ['drift'],
  summary: 'A self-contained HTML drift report of a window: the evaluation in force at `at` (default now), from history',
  params: modelIdParams,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      window: { type: 'string', maxLength: 64, description: "Window name; the model's first window when omitted" },
      at: { ...timeParam, description: 'Report the latest evaluation of a window that had ended by this instant (epoch ms or ISO-8601)' },
    },
  },
  produces: ['text/html'],
  response: { 200: { type: 'string', description: 'An HTML document with inline style and SVG; it fetches nothing' }, ...errorResponses },
} as const;

type ReportRequest = { Params: { modelId: string }; Querystring: { window?: string; at?: string } };

/** `GET /api/v1/models/{id}/report`: the drift report of a window, as a page or an attachment. */
export async function reportRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { deps, guard } = ctx;
  app.get<ReportRequest>('/api/v1/models/:modelId/report', { preHandler: guard.read, schema: reportSchema }, async (request, reply) => {
    const html = await modelReport(deps, request.params.modelId, request.query, ctx.now());
    return reply.type('text/html; charset=utf-8').header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:").send(html);
  });
}

/** Evaluations a window's report reads: those ending by `at`, enough for its trend (a sliding window overlaps size/slide earlier ones). */
function historyLimit(window: WindowSpec): number {
  const size = parseDuration(window.size) ?? 0;
  const slide = window.slide ? (parseDuration(window.slide) ?? size) : size;
  const overlap = slide > 0 ? Math.ceil(size / slide) : 1;
  return Math.min(1000, overlap + REPORT_TREND_WINDOWS);
}

async function modelReport(deps: HttpDeps, modelId: string, q: { window?: string; at?: string }, now: number): Promise<string> {
  const config = await requireModel(deps.models, modelId);
  const window = resolveWindow(config, q.window);
  const at = parseTime(q.at, 'at');
  const listed = await deps.results.listEvaluations({ modelId: config.modelId, windowName: window.name, ...(at !== undefined ? { to: at } : {}), limit: historyLimit(window) });
  const history = at === undefined ? listed : listed.filter((e) => e.windowEnd <= at);
  const evaluation = history[0];
  if (!evaluation) {
    throw httpError('NO_EVALUATION', `window ${window.name} of model ${config.modelId} has no evaluation${at !== undefined ? ` that ended by ${new Date(at).toISOString()}` : ' yet'}`);
  }
  const reference = await deps.models.getReference(evaluation.referenceId);
  return renderEvaluationReport(evaluation, reportContext(config, history, reference, now));
}

export function reportContext(config: ModelConfigJson, history: readonly Evaluation[], reference: StoredReference | undefined, now: number): EvaluationReportContext {
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
  const importance = importanceOf(config);
  return {
    history,
    ...(importance ? { importance } : {}),
    rule: {
      ...(num(config.falseAlarmBudget) !== undefined ? { falseAlarmBudget: num(config.falseAlarmBudget) } : {}),
      ...(num(config.datasetDriftShare) !== undefined ? { datasetDriftShare: num(config.datasetDriftShare) } : {}),
      ...(num(config.datasetDriftWeightedShare) !== undefined ? { datasetDriftWeightedShare: num(config.datasetDriftWeightedShare) } : {}),
    },
    reference: referenceFacts(reference),
    generatedAt: now,
  };
}

/** Rows and labelled performance of the reference the evaluation was judged against; nothing when it cannot be read. */
export function referenceFacts(ref: StoredReference | undefined): EvaluationReportContext['reference'] {
  if (!ref) return {};
  try {
    const p = parseProfile(ref.profile);
    return { rows: p.rows, ...(p.performance ? { performance: { labelled: p.performance.labelled, metrics: p.performance.metrics } } : {}) };
  } catch {
    return {};
  }
}
