import type { FastifyInstance } from 'fastify';
import type { HealthCheck } from '../../ports/health-check.js';
import type { HttpDeps } from '../deps.js';
import type { RouteContext } from '../route-context.js';

async function probe(check: HealthCheck, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([check.check().catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const checksSchema = { type: 'object', additionalProperties: { type: 'string', enum: ['up', 'down'] } } as const;

const livenessSchema = {
  tags: ['operations'],
  summary: 'Liveness: the process answers',
  response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
} as const;

const readinessSchema = {
  tags: ['operations'],
  summary: 'Readiness: every dependency (Kafka, Redis, PostgreSQL) is reachable',
  response: {
    200: { type: 'object', properties: { status: { type: 'string' }, checks: checksSchema } },
    503: {
      type: 'object',
      properties: {
        statusCode: { type: 'integer' },
        code: { type: 'string' },
        error: { type: 'string' },
        message: { type: 'string' },
        requestId: { type: 'string' },
        down: { type: 'array', items: { type: 'string' } },
        checks: checksSchema,
        stalled: {
          type: 'array',
          items: {
            type: 'object',
            properties: { topic: { type: 'string' }, partition: { type: 'integer' }, lag: { type: 'integer' }, stalledForMs: { type: 'integer' } },
          },
        },
        refusals: {
          type: 'array',
          description: 'Dependencies that answer but refuse what the detector needs until reconfigured (e.g. SCHEMA_INCOMPATIBLE); retried meanwhile',
          items: { type: 'object', properties: { dependency: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } } },
        },
      },
    },
  },
} as const;

const metricsSchema = { tags: ['operations'], summary: 'Prometheus metrics (text exposition format)', produces: ['text/plain'] } as const;

/** Liveness, readiness and the Prometheus scrape: open to all, as probes and scrapers carry no credentials. */
export async function healthRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { deps } = ctx;
  const timeoutMs = deps.healthTimeoutMs ?? 2000;

  app.get('/healthz', { schema: livenessSchema }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: readinessSchema }, async (request, reply) => {
    const { checks, down, stalled, refusals } = await readiness(deps, timeoutMs);
    if (down.length === 0 && stalled.length === 0) return { status: 'ready', checks };
    const reasons: string[] = [];
    const refusing = new Set(refusals.map((r) => r.dependency));
    const unreachable = down.filter((name) => !refusing.has(name));
    if (unreachable.length > 0) reasons.push(`${unreachable.join(', ')} ${unreachable.length === 1 ? 'is' : 'are'} down`);
    for (const r of refusals) reasons.push(`${r.dependency} refuses: ${r.code}: ${r.message}`);
    for (const p of stalled) {
      reasons.push(`partition ${p.topic}/${p.partition} has made no progress for ${Math.round(p.stalledForMs / 1000)} s with ${p.lag} records waiting`);
    }
    return reply.status(503).send({
      statusCode: 503,
      code: 'NOT_READY',
      error: 'Service Unavailable',
      message: `not ready: ${reasons.join('; ')}`,
      requestId: String(request.id),
      down,
      checks,
      stalled,
      ...(refusals.length > 0 ? { refusals } : {}),
    });
  });

  app.get('/metrics', { schema: metricsSchema }, async (_request, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });
}

/** Every dependency probed (and its gauge set), the ones the detector waits out, and the partitions that stalled. */
async function readiness(deps: HttpDeps, timeoutMs: number) {
  const results = await Promise.all(deps.healthChecks.map(async (c) => [c.name, await probe(c, timeoutMs)] as const));
  const checks: Record<string, 'up' | 'down'> = {};
  for (const [name, up] of results) {
    checks[name] = up ? 'up' : 'down';
    deps.metrics.dependencyUp.set({ dependency: name }, up ? 1 : 0);
  }
  const down = results.filter(([, up]) => !up).map(([name]) => name);
  // The detector may be waiting out a dependency its own probe above still reaches (a broker that
  // accepts connections but not writes): that is down too.
  const progress = deps.streamProgress;
  for (const name of progress?.waitingFor() ?? []) {
    if (checks[name] !== 'down') {
      checks[name] = 'down';
      down.push(name);
    }
  }
  const refusals = progress?.refusals?.() ?? [];
  for (const { dependency } of refusals) {
    if (checks[dependency] !== 'down') {
      checks[dependency] = 'down';
      down.push(dependency);
    }
  }
  return { checks, down, stalled: progress?.stalledPartitions() ?? [], refusals };
}
