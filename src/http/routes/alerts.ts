import type { FastifyInstance } from 'fastify';
import { parseTime, type RouteContext } from '../route-context.js';
import { MODEL_ID_PATTERN, errorResponses, timeParam } from '../schemas.js';

type AlertsQuery = { status?: 'FIRING' | 'RESOLVED'; modelId?: string; since?: string; firedFrom?: string; firedTo?: string; limit: number; cursor?: string };

const alertsSchema = {
  tags: ['alerts'],
  summary: 'Alert history, newest first, paginated with an opaque cursor',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      status: { type: 'string', enum: ['FIRING', 'RESOLVED'] },
      modelId: { type: 'string', pattern: MODEL_ID_PATTERN },
      since: timeParam,
      firedFrom: { ...timeParam, description: 'Only incidents that first fired in a window starting at or after this time (reads only their partitions)' },
      firedTo: { ...timeParam, description: 'Only incidents that first fired in a window starting before this time' },
      limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
      cursor: { type: 'string', maxLength: 512, description: 'nextCursor of the previous page' },
    },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        alerts: { type: 'array', items: { $ref: 'Alert#' } },
        nextCursor: { type: ['string', 'null'], description: 'Absent or null on the last page' },
      },
    },
    ...errorResponses,
  },
} as const;

/** Alert history across models. */
export async function alertRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { deps, guard } = ctx;
  app.get<{ Querystring: AlertsQuery }>('/api/v1/alerts', { preHandler: guard.read, schema: alertsSchema }, async (request) => {
    const q = request.query;
    const page = await deps.results.listAlerts({ status: q.status, modelId: q.modelId, since: parseTime(q.since, 'since'),
      firedFrom: parseTime(q.firedFrom, 'firedFrom'),
      firedTo: parseTime(q.firedTo, 'firedTo'),
      limit: q.limit, cursor: q.cursor });
    return { alerts: page.alerts, nextCursor: page.nextCursor ?? null };
  });
}
