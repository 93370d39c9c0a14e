import type { FastifyInstance } from 'fastify';
import { parseDuration } from '../../core/duration.js';
import { REPORT_TREND_WINDOWS, renderEvaluationReport } from '../../report/evaluation-report.js';
import { reportContext } from '../../report/report-context.js';
import type { HttpDeps } from '../deps.js';
import { httpError } from '../errors.js';
import { requireModel, resolveWindow, type WindowSpec } from '../model-view.js';
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
  return renderEvaluationReport(evaluation, reportContext(config, history, reference?.profile, now));
}
