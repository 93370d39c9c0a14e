import type { FastifyInstance } from 'fastify';
import { DriftstreamError } from '../../errors.js';
import { modelConfigToJson, parseModelConfig } from '../../core/model/index.js';
import type { ModelConfigJson } from '../../stream/ports.js';
import { HttpError, httpError } from '../errors.js';
import { modelView, requireModel } from '../model-view.js';
import type { RouteContext } from '../route-context.js';
import { errorResponses, modelIdParams } from '../schemas.js';

export async function modelRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { deps, guard } = ctx;
  const view = (config: ModelConfigJson) => modelView(config, deps);
  const parse = deps.parseModelConfig ?? ((value: unknown) => modelConfigToJson(parseModelConfig(value)));

  app.get('/api/v1/models', {
    preHandler: guard.read,
    schema: {
      tags: ['models'],
      summary: 'All registered models with their status',
      response: {
        200: { type: 'object', properties: { models: { type: 'array', items: { $ref: 'Model#' } } } },
        ...errorResponses,
      },
    },
  }, async () => {
    const models = await deps.models.listModels();
    return { models: await Promise.all(models.map(view)) };
  });

  app.get<{ Params: { modelId: string } }>('/api/v1/models/:modelId', {
    preHandler: guard.read,
    schema: {
      tags: ['models'],
      summary: 'One model: configuration, reference, windows and status',
      params: modelIdParams,
      response: { 200: { $ref: 'Model#' }, ...errorResponses },
    },
  }, async (request) => view(await requireModel(deps.models, request.params.modelId)));

  app.put<{ Params: { modelId: string }; Body: Record<string, unknown> }>('/api/v1/models/:modelId', {
    preHandler: guard.edit,
    config: { rateLimit: { max: deps.config.rateLimitWrites, timeWindow: 60_000 } },
    schema: {
      tags: ['models'],
      summary: 'Create or replace a model configuration (editor)',
      security: [{ apiKey: [] }, { bearer: [] }],
      params: modelIdParams,
      body: { $ref: 'ModelConfig#' },
      response: { 200: { $ref: 'Model#' }, 201: { $ref: 'Model#' }, ...errorResponses },
    },
  }, async (request, reply) => {
    const { modelId } = request.params;
    const body = request.body;
    if (body.modelId !== undefined && body.modelId !== modelId) {
      throw httpError('MODEL_ID_MISMATCH', `body modelId ${JSON.stringify(body.modelId)} differs from the path's ${modelId}`);
    }
    let config: ModelConfigJson = { ...body, modelId };
    try {
      config = parse(config);
    } catch (err) {
      if (err instanceof HttpError) throw err;
      const message = err instanceof DriftstreamError || err instanceof Error ? err.message : String(err);
      throw new HttpError('MODEL_INVALID', message, { cause: err });
    }
    const existed = (await deps.models.getModel(modelId)) !== undefined;
    await deps.models.putModel(config);
    request.log.info({ modelId, created: !existed, principal: request.principal?.subject }, 'model configuration stored');
    return reply.status(existed ? 200 : 201).send(await view(config));
  });

  app.delete<{ Params: { modelId: string } }>('/api/v1/models/:modelId', {
    preHandler: guard.admin,
    config: { rateLimit: { max: deps.config.rateLimitWrites, timeWindow: 60_000 } },
    schema: {
      tags: ['models'],
      summary: 'Delete a model configuration (admin); its history stays',
      security: [{ apiKey: [] }, { bearer: [] }],
      params: modelIdParams,
      response: { 204: { type: 'null', description: 'Deleted' }, ...errorResponses },
    },
  }, async (request, reply) => {
    const { modelId } = request.params;
    const deleted = await deps.models.deleteModel(modelId);
    if (!deleted) throw httpError('MODEL_NOT_FOUND', `model ${modelId} is not registered`);
    request.log.info({ modelId, principal: request.principal?.subject }, 'model deleted');
    return reply.status(204).send();
  });
}
