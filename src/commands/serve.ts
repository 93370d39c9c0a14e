import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { createAdapters } from '../adapters/create-adapters.js';
import { loadConfig, redactUrl, type Config } from '../config/config.js';
import { modelConfigToJson, parseModelConfig } from '../core/model/index.js';
import { ConfigError } from '../errors.js';
import { buildApp } from '../http/app.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import type { PerformanceReader } from '../http/deps.js';
import { LabelJoinPerformanceReader } from '../stream/performance-reader.js';
import type { HealthCheck, ModelRepository, ResultRepository } from '../stream/ports.js';

/** The state `serve` reads: the shared Redis and PostgreSQL state in production. */
export interface ServeState {
  models: ModelRepository;
  results: ResultRepository;
  healthChecks: readonly HealthCheck[];
  performance?: PerformanceReader;
  close(): Promise<void>;
}

async function openState(config: Config, logger: Logger, metrics: Metrics): Promise<ServeState> {
  if (!config.databaseUrl) {
    logger.warn('DRIFTSTREAM_DATABASE_URL is not set: serve has no shared history to read (models and results live in this process only)');
  }
  const adapters = await createAdapters(config, logger, metrics);
  return {
    models: adapters.models,
    results: adapters.results,
    healthChecks: adapters.healthChecks,
    // Performance as fresh as the last joined label, read from the shared label-join state.
    performance: new LabelJoinPerformanceReader(adapters.labelJoin, adapters.models),
    close: () => adapters.close(),
  };
}

export interface ServeHandle {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/**
 * Starts the HTTP service alone over the shared state: what `driftstream
 * serve` runs. Returns once it listens.
 */
export async function startServe(config: Config, deps: { logger?: Logger; metrics?: Metrics; state?: ServeState } = {}): Promise<ServeHandle> {
  const logger = deps.logger ?? createLogger(config.logLevel);
  const metrics = deps.metrics ?? createMetrics();
  const state = deps.state ?? (await openState(config, logger, metrics));
  const defaults = {
    allowedLatenessMs: config.detector.allowedLatenessMs,
    bootstrapEvents: config.detector.bootstrapEvents,
    bootstrapDurationMs: config.detector.bootstrapDurationMs,
    resolveAfter: config.detector.resolveAfter,
  };
  const app = await buildApp({
    config: config.http,
    models: state.models,
    results: state.results,
    healthChecks: state.healthChecks,
    performance: state.performance,
    metrics,
    logger,
    parseModelConfig: (value) => modelConfigToJson(parseModelConfig(value, defaults)),
  });
  let url: string;
  try {
    url = await app.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    await app.close().catch(() => undefined);
    await state.close().catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`cannot listen on ${config.http.host}:${config.http.port} (${code ?? (err as Error).message})`, { cause: err });
  }
  logger.info({ url, database: redactUrl(config.databaseUrl), redis: redactUrl(config.redisUrl), authReads: config.http.authReads, apiKeys: config.http.apiKeys.length }, 'HTTP service listening');
  let closing: Promise<void> | undefined;
  return {
    app,
    url,
    close: () =>
      (closing ??= (async () => {
        await app.close();
        await state.close();
      })()),
  };
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the HTTP API, metrics and dashboard alone, over the shared Redis and PostgreSQL state')
    .option('--host <host>', 'address to bind (default DRIFTSTREAM_HTTP_HOST)')
    .option('--port <port>', 'port to bind (default DRIFTSTREAM_HTTP_PORT)')
    .action(async (opts: { host?: string; port?: string }) => {
      const env = { ...process.env };
      if (opts.host) env.DRIFTSTREAM_HTTP_HOST = opts.host;
      if (opts.port) env.DRIFTSTREAM_HTTP_PORT = opts.port;
      const config = loadConfig(env);
      const handle = await startServe(config);
      const stop = (signal: string) => {
        handle.app.log.info({ signal }, 'shutting down');
        handle.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
}
