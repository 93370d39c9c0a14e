import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { VERSION } from '../version.js';
import { Authenticator, requireRole } from './auth.js';
import { CachedModelRepository, CachedResultRepository } from './read-cache.js';
import type { HttpDeps } from './deps.js';
import { HttpError } from './errors.js';
import { errorBody, handleError } from './error-handler.js';
import type { RouteContext } from './route-context.js';
import { SHARED_SCHEMAS } from './schemas.js';
import { alertRoutes } from './routes/alerts.js';
import { healthRoutes } from './routes/health.js';
import { modelRoutes } from './routes/models.js';
import { referenceRoutes } from './routes/reference.js';
import { resultRoutes } from './routes/results.js';

/** Where the dashboard's static files are: beside this module, or in src/ when running the compiled dist/. */
export function dashboardRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'dashboard'), join(here, '..', '..', 'src', 'http', 'dashboard')];
  return candidates.find((c) => existsSync(join(c, 'index.html'))) ?? candidates[0];
}

// The wordmark shown in the API explorer's top bar (white on its dark bar).
const DOCS_LOGO = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="190" height="32" viewBox="0 0 190 32">' +
    '<path d="M3 21 C8 21 9 9 14 9 S20 25 27 14" fill="none" stroke="#60a5fa" stroke-width="3" stroke-linecap="round"/>' +
    '<text x="36" y="22" font-family="system-ui, sans-serif" font-size="19" font-weight="650" fill="#ffffff">driftstream</text></svg>',
);

// Probes and scrapes are logged at debug: at info they would drown the access log.
const QUIET_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);
const SECRET_PARAM = /token|key|secret|pass|auth|signature|credential/i;

/** The URL with the values of query parameters that look like credentials replaced. */
export function redactQuery(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  let changed = false;
  for (const name of [...params.keys()]) {
    if (SECRET_PARAM.test(name)) {
      params.set(name, '***');
      changed = true;
    }
  }
  return changed ? `${url.slice(0, q)}?${params.toString()}` : url;
}

const DASHBOARD_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * Builds the HTTP service over the given ports: the JSON API, /metrics,
 * health checks, OpenAPI with its UI and the dashboard. It never listens:
 * callers `listen()` (the commands) or `inject()` (tests).
 */
export async function buildApp(options: HttpDeps): Promise<FastifyInstance> {
  const cacheMs = options.readCacheMs ?? 1000;
  const deps: HttpDeps =
    cacheMs > 0
      ? { ...options, models: new CachedModelRepository(options.models, cacheMs), results: new CachedResultRepository(options.results, cacheMs) }
      : options;
  const { config, metrics } = deps;
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimitBytes,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // One access-log line per request, written by the onResponse hook below with secrets redacted.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: false,
    ajv: { customOptions: { allowUnionTypes: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  });

  const auth = new Authenticator(config);
  const ctx: RouteContext = {
    deps,
    auth,
    guard: { read: requireRole(auth, config, 'reader'), edit: requireRole(auth, config, 'editor'), admin: requireRole(auth, config, 'admin') },
    now: deps.now ?? Date.now,
  };

  app.decorateRequest('principal', undefined);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send(errorBody(request, { statusCode: 404, code: 'ROUTE_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` }));
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw URL: label values stay bounded.
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    metrics.httpDuration.observe({ method: request.method, route, status: String(status) }, reply.elapsedTime / 1000);
    const level = status >= 500 ? 'error' : QUIET_ROUTES.has(route) ? 'debug' : 'info';
    request.log[level](
      {
        // Not `req`/`res`: those keys go through Fastify's serializers, which would log the raw URL.
        http: { method: request.method, url: redactQuery(request.url), route, statusCode: status, remoteAddress: request.ip },
        responseTime: Math.round(reply.elapsedTime * 100) / 100,
        ...(request.principal ? { principal: request.principal.subject } : {}),
      },
      'request completed',
    );
  });

  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);

  if (config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: config.corsOrigins.includes('*') ? true : [...config.corsOrigins],
      methods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'],
      allowedHeaders: ['content-type', 'authorization', 'x-api-key', 'x-request-id'],
      exposedHeaders: ['x-request-id', 'retry-after'],
      maxAge: 600,
    });
  }

  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      new HttpError('RATE_LIMITED', `rate limit of ${context.max} write requests per minute exceeded; retry in ${Math.ceil(context.ttl / 1000)} s`),
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'driftstream API',
        version: VERSION,
        description: 'Drift state, history, alerts and model configuration of driftstream. Errors follow one model (see docs/errors.md).',
        license: { name: 'Apache-2.0' },
      },
      tags: [
        { name: 'models', description: 'Model configurations and reference profiles' },
        { name: 'drift', description: 'Evaluations and per-feature statistics' },
        { name: 'performance', description: 'Performance once labels join' },
        { name: 'alerts', description: 'Alert history' },
        { name: 'operations', description: 'Health, readiness and metrics' },
      ],
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
          bearer: { type: 'http', scheme: 'bearer', description: 'An API key or a JWT (HS256 or RS256) with a role claim' },
        },
      },
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { deepLinking: true, docExpansion: 'list' },
    validatorUrl: false,
    logo: { type: 'image/svg+xml', content: DOCS_LOGO, href: '/', target: '_self' },
    theme: { title: 'driftstream API' },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(async (scope) => healthRoutes(scope, ctx));
  await app.register(async (scope) => modelRoutes(scope, ctx));
  await app.register(async (scope) => resultRoutes(scope, ctx));
  await app.register(async (scope) => alertRoutes(scope, ctx));
  await app.register(async (scope) => referenceRoutes(scope, ctx));

  await app.register(fastifyStatic, {
    root: dashboardRoot(),
    prefix: '/',
    wildcard: false,
    index: ['index.html'],
    decorateReply: false,
    cacheControl: true,
    maxAge: 60_000,
    setHeaders: (res) => {
      res.header('content-security-policy', DASHBOARD_CSP);
      res.header('x-content-type-options', 'nosniff');
    },
  });

  return app;
}
