import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { createAdapters } from '../app/create-adapters.js';
import { loadConfig, redactUrl, type Config } from '../config/config.js';
import { modelConfigToJson, parseModelConfig } from '../core/model/index.js';
import { ConfigError } from '../errors.js';
import { buildApp } from '../http/app.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import type { DetectorStateReader } from '../ports/detector-state-reader.js';
import type { PerformanceReader } from '../ports/performance-reader.js';
import { modelDefaultsOf } from '../app/detector.js';
import { LabelJoinPerformanceReader } from '../stream/performance-reader.js';
import type { HealthCheck } from '../ports/health-check.js';
import type { ModelRepository } from '../ports/model-repository.js';
import type { ResultRepository } from '../ports/result-repository.js';
import type { AnalysisRepository } from '../ports/analysis-repository.js';
import { startAnalysisRunner } from '../app/analysis-runner.js';
import type { ChannelRepository, NotificationLog } from '../ports/notification-log.js';
import type { RateLimitStore } from '../http/deps.js';

/** The state `serve` reads: the shared Redis and PostgreSQL state in production. */
export interface ServeState {
  models: ModelRepository;
  results: ResultRepository;
  notifications?: NotificationLog;
  channels?: ChannelRepository;
  healthChecks: readonly HealthCheck[];
  performance?: PerformanceReader;
  /** Backfill analyses, run by this process too. */
  analyses?: AnalysisRepository;
  rateLimitStore?: RateLimitStore;
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
    notifications: adapters.notifications,
    channels: adapters.channels,
    healthChecks: adapters.healthChecks,
    // Performance as fresh as the last joined label, read from the shared label-join state.
    performance: new LabelJoinPerformanceReader(adapters.labelJoin, adapters.models),
    analyses: adapters.analyses,
    rateLimitStore: adapters.rateLimitStore,
    close: () => adapters.close(),
  };
}

export interface HttpHandle {
  app: FastifyInstance;
  /** The address it listens on, e.g. http://127.0.0.1:8080. */
  url: string;
  close(): Promise<void>;
}

export interface HttpServerDeps {
  logger: Logger;
  metrics: Metrics;
  models: ModelRepository;
  results: ResultRepository;
  healthChecks: readonly HealthCheck[];
  /** The running detector's read model (`driftstream run`); absent under `serve`. */
  state?: DetectorStateReader;
  performance?: PerformanceReader;
  analyses?: AnalysisRepository;
  analysisQueue?: { wake(): void };
  /** The delivery log and channels of the notifications. */
  notifications?: NotificationLog;
  channels?: ChannelRepository;
  rateLimitStore?: RateLimitStore;
}

/**
 * The HTTP app exactly as `serve` and `run` compose it (model defaults from
 * the environment), without listening: tests drive it with inject().
 */
export async function buildHttpApp(config: Config, deps: HttpServerDeps): Promise<FastifyInstance> {
  const defaults = modelDefaultsOf(config);
  return buildApp({
    config: config.http,
    models: deps.models,
    results: deps.results,
    state: deps.state,
    healthChecks: deps.healthChecks,
    performance: deps.performance,
    notifications: deps.notifications,
    channels: deps.channels,
    metrics: deps.metrics,
    logger: deps.logger,
    parseModelConfig: (value) => modelConfigToJson(parseModelConfig(value, defaults)),
    analyses: deps.analyses,
    analysisQueue: deps.analysisQueue,
    analysisTopic: config.topics.inference,
    rateLimitStore: deps.rateLimitStore,
  });
}

/**
 * Builds the HTTP service over the given ports and listens on
 * DRIFTSTREAM_HTTP_HOST:PORT. `serve` calls it over the shared state, `run`
 * beside the detector (passing the detector's state, models, results and
 * metrics). close() stops the server only.
 */
export async function startHttp(config: Config, deps: HttpServerDeps): Promise<HttpHandle> {
  const app = await buildHttpApp(config, deps);
  let url: string;
  try {
    url = await app.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    await app.close().catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`cannot listen on ${config.http.host}:${config.http.port} (${code ?? (err as Error).message})`, { cause: err });
  }
  deps.logger.info(
    { url, database: redactUrl(config.databaseUrl), redis: redactUrl(config.redisUrl), authReads: config.http.authReads, apiKeys: config.http.apiKeys.length },
    'HTTP service listening',
  );
  let closing: Promise<void> | undefined;
  return { app, url, close: () => (closing ??= app.close()) };
}

export type ServeHandle = HttpHandle;

/**
 * Starts the HTTP service alone over the shared state: what `driftstream
 * serve` runs. Returns once it listens; close() also closes the state's connections.
 */
export async function startServe(config: Config, deps: { logger?: Logger; metrics?: Metrics; state?: ServeState } = {}): Promise<ServeHandle> {
  const logger = deps.logger ?? createLogger(config.logLevel);
  const metrics = deps.metrics ?? createMetrics();
  const state = deps.state ?? (await openState(config, logger, metrics));
  let http: HttpHandle;
  const analyses = state.analyses;
  const runner = analyses ? await startAnalysisRunner(config, { analyses, models: state.models }, logger) : undefined;
  try {
    http = await startHttp(config, {
      logger,
      metrics,
      models: state.models,
      results: state.results,
      healthChecks: state.healthChecks,
      performance: state.performance,
      analyses,
      analysisQueue: runner,
      notifications: state.notifications,
      channels: state.channels,
      rateLimitStore: state.rateLimitStore,
    });
  } catch (err) {
    await runner?.stop().catch(() => undefined);
    await state.close().catch(() => undefined);
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    app: http.app,
    url: http.url,
    close: () =>
      (closing ??= (async () => {
        await http.close();
        await runner?.stop();
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
