import type { FastifyInstance } from 'fastify';
import { DriftstreamError } from '../../errors.js';
import { hasControlCharacter } from '../../core/has-control-character.js';
import { modelConfigToJson, parseModelConfig } from '../../core/model/index.js';
import type { ModelConfigJson } from '../../ports/model-repository.js';
import { HttpError, httpError } from '../errors.js';
import { modelView, requireModel } from '../model-view.js';
import type { HttpDeps } from '../deps.js';
import type { RouteContext } from '../route-context.js';
import { errorResponses, modelIdParams, writeSecurity } from '../schemas.js';

const MAX_DEPTH = 32;

/**
 * Why a JSON body cannot be stored as given, or undefined: a control
 * character in a key or a string (PostgreSQL refuses NUL in JSON and text,
 * and no name of this API holds one), or nesting deeper than any
 * configuration needs.
 */
export function unsafeJson(value: unknown, path = '', depth = 0): string | undefined {
  if (depth > MAX_DEPTH) return `${path || 'body'}: nested deeper than ${MAX_DEPTH} levels`;
  if (typeof value === 'string') // Free text may keep its tabs and line breaks; names may not.
    return hasControlCharacter(value, true) ? `${path || 'body'}: holds a control character` : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const why = unsafeJson(value[i], `${path}[${i}]`, depth + 1);
      if (why) return why;
    }
    return undefined;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (hasControlCharacter(k)) return `${path ? `${path}.` : ''}${JSON.stringify(k)}: a name holds a control character`;
      const why = unsafeJson(v, path ? `${path}.${k}` : k, depth + 1);
      if (why) return why;
    }
  }
  return undefined;
}

const listSchema = {
  tags: ['models'],
  summary: 'All registered models with their status',
  response: {
    200: { type: 'object', properties: { models: { type: 'array', items: { $ref: 'Model#' } } } },
    ...errorResponses,
  },
} as const;

const getSchema = {
  tags: ['models'],
  summary: 'One model: configuration, reference, windows and status',
  params: modelIdParams,
  response: { 200: { $ref: 'Model#' }, ...errorResponses },
} as const;

const putSchema = {
  tags: ['models'],
  summary: 'Create or replace a model configuration (editor)',
  security: writeSecurity,
  params: modelIdParams,
  body: { $ref: 'ModelConfig#' },
  response: { 200: { $ref: 'Model#' }, 201: { $ref: 'Model#' }, ...errorResponses },
} as const;

const deleteSchema = {
  tags: ['models'],
  summary: 'Delete a model configuration (admin); its history stays',
  security: writeSecurity,
  params: modelIdParams,
  response: { 204: { type: 'null', description: 'Deleted' }, ...errorResponses },
} as const;

type ModelParams = { Params: { modelId: string } };

/** Model configurations: list, read, create or replace, delete. */
export async function modelRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { deps, guard } = ctx;
  const view = (config: ModelConfigJson) => modelView(config, deps);

  app.get('/api/v1/models', { preHandler: guard.read, schema: listSchema }, async () => {
    const models = await deps.models.listModels();
    return { models: await Promise.all(models.map(view)) };
  });

  app.get<ModelParams>('/api/v1/models/:modelId', { preHandler: guard.read, schema: getSchema }, async (request) =>
    view(await requireModel(deps.models, request.params.modelId)),
  );

  app.put<ModelParams & { Body: Record<string, unknown> }>('/api/v1/models/:modelId', { preHandler: [guard.edit, ctx.writeLimit], schema: putSchema }, async (request, reply) => {
    const { modelId } = request.params;
    const config = checkedConfig(deps, modelId, request.body);
    const existed = (await deps.models.getModel(modelId)) !== undefined;
    await deps.models.putModel(config);
    request.log.info({ modelId, created: !existed, principal: request.principal?.subject }, 'model configuration stored');
    return reply.status(existed ? 200 : 201).send(await view(config));
  });

  app.delete<ModelParams>('/api/v1/models/:modelId', { preHandler: [guard.admin, ctx.writeLimit], schema: deleteSchema }, async (request, reply) => {
    const { modelId } = request.params;
    const deleted = await deps.models.deleteModel(modelId);
    if (!deleted) throw httpError('MODEL_NOT_FOUND', `model ${modelId} is not registered`);
    request.log.info({ modelId, principal: request.principal?.subject }, 'model deleted');
    return reply.status(204).send();
  });
}

/** The configuration a PUT body stands for, parsed and checked against the service's limits, or the 4xx that says why not. */
function checkedConfig(deps: HttpDeps, modelId: string, body: Record<string, unknown>): ModelConfigJson {
  if (body.modelId !== undefined && body.modelId !== modelId) {
    throw httpError('MODEL_ID_MISMATCH', `body modelId ${JSON.stringify(body.modelId)} differs from the path's ${modelId}`);
  }
  const unsafe = unsafeJson(body);
  if (unsafe) throw httpError('MODEL_INVALID', unsafe);
  const parse = deps.parseModelConfig ?? ((value: unknown) => modelConfigToJson(parseModelConfig(value)));
  let config: ModelConfigJson = { ...body, modelId };
  try {
    config = parse(config);
  } catch (err) {
    if (err instanceof HttpError) throw err;
    const message = err instanceof DriftstreamError || err instanceof Error ? err.message : String(err);
    throw new HttpError(err instanceof DriftstreamError && err.code === 'TOO_MANY_FEATURES' ? 'TOO_MANY_FEATURES' : 'MODEL_INVALID', message, { cause: err });
  }
  const topK = (config as { topK?: unknown }).topK;
  if (typeof topK === 'number' && topK > deps.config.maxCategories) {
    throw httpError('TOO_MANY_CATEGORIES', `topK: at most ${deps.config.maxCategories} categories per feature may be kept (DRIFTSTREAM_MAX_CATEGORIES), got ${topK}`);
  }
  return config;
}
