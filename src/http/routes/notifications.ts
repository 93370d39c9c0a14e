import type { FastifyInstance } from 'fastify';
import type { NotificationLog } from '../../ports/notification-log.js';
import type { RouteContext } from '../route-context.js';
import { CHANNEL_ID_PATTERN } from '../../core/notify/channel-config.js';
import { MODEL_ID_PATTERN, errorResponses, writeSecurity } from '../schemas.js';

type ListQuery = { channelId?: string; state?: 'pending' | 'delivered' | 'dead'; alertId?: string; modelId?: string; limit: number; cursor?: string };

const ms = { type: 'integer', description: 'Epoch milliseconds' } as const;

const NotificationSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    channelId: { type: 'string' },
    alertId: { type: 'string' },
    status: { type: 'string' },
    severity: { type: 'string' },
    modelId: { type: 'string' },
    kind: { type: 'string' },
    groupKey: { type: 'string', description: 'The burst it travels with: model, window and status' },
    state: { type: 'string', enum: ['pending', 'delivered', 'dead'] },
    attempts: { type: 'integer' },
    lastError: { type: ['string', 'null'] },
    messageId: { type: ['string', 'null'], description: 'Id of the message that carries it (the CloudEvents id, the x-driftstream-delivery header)' },
    createdAt: ms,
    nextAttemptAt: ms,
    deliveredAt: { type: ['integer', 'null'] },
  },
} as const;

const listSchema = {
  tags: ['notifications'],
  summary: 'The delivery log: one entry per channel and (alertId, status, severity), newest first',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      channelId: { type: 'string', pattern: CHANNEL_ID_PATTERN },
      state: { type: 'string', enum: ['pending', 'delivered', 'dead'] },
      alertId: { type: 'string', maxLength: 512 },
      modelId: { type: 'string', pattern: MODEL_ID_PATTERN },
      limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
      cursor: { type: 'string', maxLength: 32, description: 'nextCursor of the previous page' },
    },
  },
  response: {
    200: { type: 'object', properties: { notifications: { type: 'array', items: NotificationSchema }, nextCursor: { type: ['string', 'null'] } } },
    ...errorResponses,
  },
} as const;

const retrySchema = {
  tags: ['notifications'],
  summary: 'Sends dead-lettered notifications again (editor): all, one channel\'s, or the ones named',
  security: writeSecurity,
  body: {
    type: 'object',
    additionalProperties: false,
    properties: {
      channelId: { type: 'string', pattern: CHANNEL_ID_PATTERN },
      ids: { type: 'array', maxItems: 1000, items: { type: 'string', pattern: '^\\d{1,19}$' } },
    },
  },
  response: { 200: { type: 'object', properties: { requeued: { type: 'integer' } } }, ...errorResponses },
} as const;

/** The delivery log of the notifications, and the dead letters sent again (credentials checked before the body). */
export async function notificationRoutes(app: FastifyInstance, ctx: RouteContext, log: NotificationLog): Promise<void> {
  const { guard } = ctx;
  app.get<{ Querystring: ListQuery }>('/api/v1/notifications', { preHandler: guard.read, schema: listSchema }, async (request) => {
    const page = await log.list(request.query);
    return { notifications: page.notifications, nextCursor: page.nextCursor ?? null };
  });
  app.post<{ Body: { channelId?: string; ids?: string[] } }>('/api/v1/notifications/retry', { preValidation: [guard.edit, ctx.writeLimit], schema: retrySchema }, async (request) => {
    const requeued = await log.retryDead(ctx.now(), request.body?.channelId, request.body?.ids);
    request.log.info({ requeued, channelId: request.body?.channelId, principal: request.principal?.subject }, 'dead notifications requeued');
    return { requeued };
  });
}
