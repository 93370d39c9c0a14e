import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { hasControlCharacter } from '../core/has-control-character.js';
import { VERSION } from '../version.js';
import { Authenticator, requireRole } from './auth.js';
import { CachedModelRepository, CachedResultRepository } from './read-cache.js';
import type { HttpDeps } from './deps.js';
import { HttpError, httpError } from './errors.js';
import { HTTP_LIMITS, countLimit, errorBody, handleError, mapError, type LimitCounter } from './error-handler.js';
import type { RouteContext } from './route-context.js';
import { SHARED_SCHEMAS } from './schemas.js';
import { alertRoutes } from './routes/alerts.js';
import { healthRoutes } from './routes/health.js';
import { modelRoutes } from './routes/models.js';
import { referenceRoutes } from './routes/reference.js';
import { resultRoutes } from './routes/results.js';
import { reportRoutes } from './routes/report.js';
import { analysisRoutes } from './routes/analyses.js';
import { notificationRoutes } from './routes/notifications.js';
import { channelRoutes } from './routes/channels.js';

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

/** Longest path segment the router matches; ids and feature names are far shorter (their schemas say). */
export const MAX_PARAM_LENGTH = 1024;
// A percent-encoded control character anywhere in the path or query (raw ones never pass the HTTP parser).
const ENCODED_CONTROL = /%(?:[01][0-9a-f]|7f)/i;
const REQUEST_ID = /^[A-Za-z0-9._:/+=-]{1,128}$/;
const DECIMAL = /^[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * A check of a route's numeric query parameters before validation: Ajv's
 * coercion turns "Infinity" into a number that passes `maximum`, and "0x10"
 * into 16. Only plain decimals reach the schema.
 */
function finiteQueryCheck(schema: unknown): ((request: FastifyRequest) => Promise<void>) | undefined {
  const props = (schema as { properties?: Record<string, { type?: unknown }> } | undefined)?.properties;
  if (!props) return undefined;
  const numeric = Object.entries(props)
    .filter(([, p]) => p.type === 'integer' || p.type === 'number')
    .map(([name]) => name);
  if (numeric.length === 0) return undefined;
  return async (request) => {
    const query = request.query as Record<string, unknown>;
    for (const name of numeric) {
      const values = ([] as unknown[]).concat(query[name] ?? []);
      for (const v of values) {
        if (typeof v === 'string' && !DECIMAL.test(v)) {
          throw httpError('VALIDATION_FAILED', `querystring/${name} must be a decimal number`, [{ path: `/${name}`, context: 'querystring', message: 'must be a decimal number' }]);
        }
      }
    }
  };
}

/**
 * Builds the HTTP service over the given ports: the JSON API, /metrics,
 * health checks, OpenAPI with its UI and the dashboard. It never listens:
 * callers `listen()` (the commands) or `inject()` (tests).
 */
export async function buildApp(options: HttpDeps): Promise<FastifyInstance> {
  const deps = withReadCache(options);
  const limits = deps.metrics.httpLimitRejections;
  for (const limit of HTTP_LIMITS) limits.inc({ limit }, 0);
  const onLimit: LimitCounter = (limit) => limits.inc({ limit });
  const app = createServer(deps, onLimit);
  registerErrorHandlers(app, onLimit);
  registerRequestHooks(app, deps.metrics);
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  await registerCors(app, deps.config);
  const writeLimit = await registerWriteLimit(app, deps);
  await registerApiDocs(app);
  await registerRoutes(app, routeContext(deps, writeLimit));
  await registerDashboard(app);
  return app;
}

/** The repositories behind a short read cache, unless it is turned off (readCacheMs 0). */
function withReadCache(options: HttpDeps): HttpDeps {
  const cacheMs = options.readCacheMs ?? 1000;
  return cacheMs > 0
    ? { ...options, models: new CachedModelRepository(options.models, cacheMs), results: new CachedResultRepository(options.results, cacheMs) }
    : options;
}

function createServer(deps: HttpDeps, onLimit: LimitCounter): FastifyInstance {
  return Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.config.bodyLimitBytes,
    // A caller's x-request-id is kept when it looks like an id; anything else (kilobytes, odd bytes) gets a fresh one.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // One access-log line per request, written by the onResponse hook with secrets redacted.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: false,
    ajv: { customOptions: { allowUnionTypes: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    // Long enough for every id the schemas accept, so a too-long one fails their pattern in the error format.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // URLs the router itself rejects answer in the one error format too.
    frameworkErrors: (err, request, reply) => {
      const m =
        err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? { statusCode: 414, code: 'URI_TOO_LONG', message: `a path segment is longer than ${MAX_PARAM_LENGTH} characters` }
          : err.code === 'FST_ERR_BAD_URL'
            ? { statusCode: 400, code: 'MALFORMED_URL', message: 'the URL is not valid percent-encoded UTF-8' }
            : mapError(err);
      request.log.info({ code: m.code, statusCode: m.statusCode }, m.message);
      countLimit(onLimit, request as unknown as FastifyRequest, m.code);
      const r = reply as unknown as FastifyReply;
      void r.status(m.statusCode).header('x-request-id', request.id).type('application/json; charset=utf-8').send(errorBody(request as unknown as FastifyRequest, m));
    },
  });
}

function routeContext(deps: HttpDeps, writeLimit: RouteContext['writeLimit']): RouteContext {
  const { config } = deps;
  const auth = new Authenticator(config);
  return {
    deps,
    auth,
    guard: { read: requireRole(auth, config, 'reader'), edit: requireRole(auth, config, 'editor'), admin: requireRole(auth, config, 'admin') },
    writeLimit,
    now: deps.now ?? Date.now,
  };
}

function registerErrorHandlers(app: FastifyInstance, onLimit: LimitCounter): void {
  app.decorateRequest('principal', undefined);
  app.setErrorHandler((err, request, reply) => handleError(err, request, reply, onLimit));
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send(errorBody(request, { statusCode: 404, code: 'ROUTE_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` }));
  });
}

/** What every request goes through: URL checks, the numeric query check, cache headers, metrics and the access log. */
function registerRequestHooks(app: FastifyInstance, metrics: HttpDeps['metrics']): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    // No id, name, time or value of this API holds a control character: refuse them before any handler sees one.
    if (ENCODED_CONTROL.test(request.url) || hasControlCharacter(request.url)) throw httpError('MALFORMED_URL', 'the URL holds a control character');
  });
  // JSON is the only body of the JSON routes: a text/plain body is an unsupported media type, not a string to validate.
  app.removeContentTypeParser('text/plain');
  app.addHook('onRoute', (route) => {
    const check = finiteQueryCheck(route.schema?.querystring);
    if (check) route.preValidation = [check, ...(Array.isArray(route.preValidation) ? route.preValidation : route.preValidation ? [route.preValidation] : [])];
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
}

async function registerCors(app: FastifyInstance, config: HttpDeps['config']): Promise<void> {
  if (config.corsOrigins.length === 0) return;
  await app.register(cors, {
    origin: config.corsOrigins.includes('*') ? true : [...config.corsOrigins],
    methods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'],
    allowedHeaders: ['content-type', 'authorization', 'x-api-key', 'x-request-id'],
    exposedHeaders: ['x-request-id', 'retry-after'],
    maxAge: 600,
  });
}

/**
 * The write limiter every write route runs: one counter per client across them all. The route guards
 * run first, so the client is the authenticated principal (API key or JWT subject), else the address.
 * With a {@link HttpDeps.rateLimitStore} the counters live in Redis and every replica shares them;
 * while that Redis does not answer, writes are let through rather than refused (the connection logs the outage).
 */
async function registerWriteLimit(app: FastifyInstance, deps: HttpDeps): Promise<RouteContext['writeLimit']> {
  const { config, rateLimitStore: store } = deps;
  await app.register(rateLimit, {
    global: false,
    ...(store ? { redis: store.redis, nameSpace: `${store.keyPrefix}ratelimit:`, skipOnError: true } : {}),
    errorResponseBuilder: (_request, context) =>
      new HttpError('RATE_LIMITED', `rate limit of ${context.max} write requests per minute exceeded; retry in ${Math.ceil(context.ttl / 1000)} s`),
  });
  return app.rateLimit({
    max: config.rateLimitWrites,
    timeWindow: 60_000,
    keyGenerator: (request) => (request.principal ? `${request.principal.method}:${request.principal.subject}` : `ip:${request.ip}`),
  });
}

// A fresh object per app, so nothing one app's swagger plugin does to it reaches another.
function openapiDocument(): FastifyDynamicSwaggerOptions['openapi'] {
  return {
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
      { name: 'notifications', description: 'Notification channels and the delivery log' },
      { name: 'operations', description: 'Health, readiness and metrics' },
    ],
    components: {
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key or a JWT (HS256 or RS256) with a role claim' },
      },
    },
  };
}

/** OpenAPI built from the route schemas, served at /openapi.json, and its explorer at /docs. */
async function registerApiDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: openapiDocument(),
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
    // A streamed upload has no body schema for Fastify to validate; OpenAPI still lists its media types.
    transform: ({ schema, url, route }) => {
      const types = route.config?.uploadMediaTypes;
      if (!types || !schema) return { schema, url };
      return { schema: { ...schema, consumes: [...types], body: { type: 'string', format: 'binary' } } as typeof schema, url };
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
}

async function registerRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  await app.register(async (scope) => healthRoutes(scope, ctx));
  await app.register(async (scope) => modelRoutes(scope, ctx));
  await app.register(async (scope) => resultRoutes(scope, ctx));
  await app.register(async (scope) => reportRoutes(scope, ctx));
  await app.register(async (scope) => analysisRoutes(scope, ctx));
  await app.register(async (scope) => alertRoutes(scope, ctx));
  await app.register(async (scope) => referenceRoutes(scope, ctx));
  const { notifications, channels } = ctx.deps;
  if (notifications) await app.register(async (scope) => notificationRoutes(scope, ctx, notifications));
  if (channels) await app.register(async (scope) => channelRoutes(scope, ctx, channels));
}

const DASHBOARD_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

async function registerDashboard(app: FastifyInstance): Promise<void> {
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
}
