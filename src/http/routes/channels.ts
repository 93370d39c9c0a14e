import type { FastifyInstance } from 'fastify';
import { CHANNEL_ID_PATTERN, channelConfigToJson, parseChannelConfig } from '../../core/notify/channel-config.js';
import type { ChannelRepository, StoredChannel } from '../../ports/notification-log.js';
import { httpError } from '../errors.js';
import type { RouteContext } from '../route-context.js';
import { errorResponses, writeSecurity } from '../schemas.js';

const params = { type: 'object', required: ['channelId'], properties: { channelId: { type: 'string', pattern: CHANNEL_ID_PATTERN } } } as const;

const ChannelSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    source: { type: 'string', enum: ['file', 'api'], description: 'Declared in the models file, or through this API' },
    version: { type: 'integer' },
    updatedAt: { type: 'integer' },
    config: { type: 'object', additionalProperties: true, description: 'As given: secrets appear as references ({env} or {file}), never as values' },
  },
} as const;

const channelBody = {
  type: 'object',
  additionalProperties: true,
  description: 'A channel (docs/notifications.md): id, type (webhook, slack, email, alertmanager), url or urlFrom, secretFrom, smtp, match rules, groupWait, retry, timeout, rateLimit, breaker, quietHours',
  properties: { id: { type: 'string' }, type: { type: 'string', enum: ['webhook', 'slack', 'email', 'alertmanager'] } },
} as const;

const view = (c: StoredChannel) => ({ id: c.id, source: c.source, version: c.version, updatedAt: c.updatedAt, config: c.config });

type Params = { Params: { channelId: string } };

/** Notification channels: list, read, create or replace (editor), delete (editor). */
export async function channelRoutes(app: FastifyInstance, ctx: RouteContext, channels: ChannelRepository): Promise<void> {
  const { guard } = ctx;
  app.get('/api/v1/channels', { preHandler: guard.read, schema: { tags: ['notifications'], summary: 'Notification channels', response: { 200: { type: 'object', properties: { channels: { type: 'array', items: ChannelSchema } } }, ...errorResponses } } }, async () => ({
    channels: (await channels.list()).map(view),
  }));

  app.get<Params>('/api/v1/channels/:channelId', { preHandler: guard.read, schema: { tags: ['notifications'], summary: 'One notification channel', params, response: { 200: ChannelSchema, ...errorResponses } } }, async (request) => {
    const c = await channels.get(request.params.channelId);
    if (!c) throw httpError('CHANNEL_NOT_FOUND', `channel ${request.params.channelId} does not exist`);
    return view(c);
  });

  app.put<Params & { Body: Record<string, unknown> }>(
    '/api/v1/channels/:channelId',
    { preValidation: [guard.edit, ctx.writeLimit], schema: { tags: ['notifications'], summary: 'Create or replace a notification channel (editor)', security: writeSecurity, params, body: channelBody, response: { 200: ChannelSchema, 201: ChannelSchema, ...errorResponses } } },
    async (request, reply) => {
      const { channelId } = request.params;
      const body = request.body;
      if (body.id !== undefined && body.id !== channelId) throw httpError('CHANNEL_ID_MISMATCH', `the body names channel ${JSON.stringify(body.id)}, the path ${channelId}`);
      const config = channelConfigToJson(parseChannelConfig({ ...body, id: channelId }, 'channel'));
      const { created } = await channels.put(channelId, config, 'api', ctx.now());
      request.log.info({ channelId, created, principal: request.principal?.subject }, 'channel stored');
      return reply.status(created ? 201 : 200).send(view((await channels.get(channelId))!));
    },
  );

  app.delete<Params>('/api/v1/channels/:channelId', { preValidation: [guard.edit, ctx.writeLimit], schema: { tags: ['notifications'], summary: 'Delete a notification channel (editor); its delivery log stays', security: writeSecurity, params, response: { 204: { type: 'null', description: 'Deleted' }, ...errorResponses } } }, async (request, reply) => {
    if (!(await channels.delete(request.params.channelId))) throw httpError('CHANNEL_NOT_FOUND', `channel ${request.params.channelId} does not exist`);
    request.log.info({ channelId: request.params.channelId, principal: request.principal?.subject }, 'channel deleted');
    return reply.status(204).send();
  });
}
