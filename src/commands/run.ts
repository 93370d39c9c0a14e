import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { createAdapters, type Adapters } from '../app/create-adapters.js';
import { loadConfig, type Config } from '../config/config.js';
import { modelConfigToJson, parseModelConfig, type ModelConfig } from '../core/model/model-config.js';
import { ConfigError } from '../errors.js';
import { buildApp } from '../http/app.js';
import { startAnalysisRunner } from '../app/analysis-runner.js';
import { createKafka } from '../adapters/kafka/kafka-client.js';
import { kafkaHealthCheck } from '../adapters/kafka/kafka-health-check.js';
import { createReferenceBuilder } from '../http/reference-builder.js';
import { loadModelsFile, modelDefaultsOf, startDetector, type DetectorDeps, type DetectorHandle } from '../app/detector.js';
import { detectorDepsFrom } from '../app/detector-deps.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import type { ProcessingErrorPolicy } from '../stream/processing-error-policy.js';
import type { NotifierService } from '../app/notifier.js';
import { stopOnSignals } from './stop-on-signals.js';
import type { ChannelConfig } from '../core/notify/channel-config.js';

export interface RunOptions {
  /** Models file (YAML or JSON); default DRIFTSTREAM_MODELS_FILE. */
  models?: string;
  /** Declared models given directly (the demo). */
  modelConfigs?: readonly ModelConfig[];
  /** Notification channels given directly (the demo), besides the models file's; used when DRIFTSTREAM_NOTIFY is on. */
  channels?: readonly ChannelConfig[];
  onError?: ProcessingErrorPolicy;
  startFrom?: 'earliest' | 'latest';
  /** Serve the HTTP API next to the detector. Default true. */
  http?: boolean;
  logger?: Logger;
  metrics?: Metrics;
  /** Extra detector dependencies (tests). */
  deps?: DetectorDeps;
}

export interface RunHandle {
  detector: DetectorHandle;
  adapters: Adapters;
  /** The notifier, when DRIFTSTREAM_NOTIFY is on. */
  notifier?: NotifierService;
  app?: FastifyInstance;
  url?: string;
  close(): Promise<void>;
}

/**
 * What `driftstream run` starts: the storage adapters chosen by the
 * configuration (Redis and PostgreSQL when their URLs are set), the streaming
 * detector, and the HTTP service reading the detector's live state.
 */
export async function startRun(config: Config, options: RunOptions = {}): Promise<RunHandle> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = options.metrics ?? createMetrics({ maxModelSeries: config.detector.metricsMaxModels });
  const defaults = modelDefaultsOf(config);
  const file = options.models ?? config.detector.modelsFile;
  const declared = [...(options.modelConfigs ?? []), ...(file ? await loadModelsFile(file, defaults) : [])];
  const adapters = await createAdapters(config, logger, metrics);
  let detector: DetectorHandle;
  try {
    detector = await startDetector(
      config,
      { ...detectorDepsFrom(adapters, { logger, metrics }), ...options.deps },
      { models: declared, policy: options.onError, startFrom: options.startFrom },
    );
  } catch (err) {
    await adapters.close().catch(() => undefined);
    throw err;
  }

  let notifier: NotifierService | undefined;
  if (config.notify.enabled) {
    try {
      // The notifier (and its SMTP and webhook clients) is loaded only when notifications are on.
      const [{ startNotifierService }, { loadChannelsFile }] = await Promise.all([import('../app/notifier.js'), import('./notify.js')]);
      const declaredChannels = [...(options.channels ?? []), ...(file ? await loadChannelsFile(file) : [])];
      notifier = await startNotifierService(config, { notifications: adapters.notifications, channels: adapters.channels, logger, registry: metrics.registry, declared: declaredChannels, startFrom: 'latest' });
    } catch (err) {
      await detector.stop().catch(() => undefined);
      await adapters.close().catch(() => undefined);
      throw err;
    }
  }

  const analysisRunner = await startAnalysisRunner(config, adapters, logger);

  let app: FastifyInstance | undefined;
  let url: string | undefined;
  // /readyz names Kafka too; the probe uses its own admin client so it never waits behind the consumer.
  const kafkaCheck = kafkaHealthCheck(createKafka(config.kafka, logger));
  if (options.http ?? true) {
    app = await buildApp({
      config: config.http,
      models: adapters.models,
      results: adapters.results,
      state: detector.state,
      performance: detector.performance,
      notifications: adapters.notifications,
      channels: adapters.channels,
      healthChecks: [kafkaCheck, ...adapters.healthChecks],
      streamProgress: detector.progress,
      metrics,
      logger,
      referenceBuilder: createReferenceBuilder(),
      parseModelConfig: (value) => modelConfigToJson(parseModelConfig(value, defaults)),
      analyses: adapters.analyses,
      analysisQueue: analysisRunner,
      analysisTopic: config.topics.inference,
      rateLimitStore: adapters.rateLimitStore,
    });
    try {
      url = await app.listen({ host: config.http.host, port: config.http.port });
    } catch (err) {
      await app.close().catch(() => undefined);
      await kafkaCheck.close();
      await analysisRunner.stop().catch(() => undefined);
      await notifier?.close().catch(() => undefined);
      await detector.stop().catch(() => undefined);
      await adapters.close().catch(() => undefined);
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfigError(`cannot listen on ${config.http.host}:${config.http.port} (${code ?? (err as Error).message})`, { cause: err });
    }
    logger.info({ url }, 'HTTP service listening');
  }
  let closing: Promise<void> | undefined;
  return {
    detector,
    adapters,
    notifier,
    app,
    url,
    close: () =>
      (closing ??= (async () => {
        if (app) await app.close().catch(() => undefined);
        await kafkaCheck.close();
        await analysisRunner.stop();
        await notifier?.close();
        await detector.stop();
        await adapters.close();
      })()),
  };
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run the streaming detector (Kafka in, drift alerts out) and the HTTP service')
    .option('--models <file>', 'YAML or JSON file of model configurations (default DRIFTSTREAM_MODELS_FILE)')
    .option('--on-error <policy>', 'records that cannot be processed: dlq (write to the dead-letter topic and go on) or fail (stop)', 'dlq')
    .option('--start-from <position>', 'where partitions without a committed offset start: earliest or latest', 'earliest')
    .option('--no-http', 'run the detector without the HTTP service')
    .action(async (opts: { models?: string; onError: string; startFrom: string; http: boolean }) => {
      if (opts.onError !== 'dlq' && opts.onError !== 'fail') throw new ConfigError(`--on-error: expected dlq or fail, got ${JSON.stringify(opts.onError)}`);
      if (opts.startFrom !== 'earliest' && opts.startFrom !== 'latest') throw new ConfigError(`--start-from: expected earliest or latest, got ${JSON.stringify(opts.startFrom)}`);
      const config = loadConfig(process.env);
      const logger = createLogger(config.logLevel);
      const handle = await startRun(config, { models: opts.models, onError: opts.onError, startFrom: opts.startFrom, http: opts.http, logger });
      // Checkpoints written before a shutdown that outlasts its grace are where the next start replays from.
      stopOnSignals(handle, logger, config.detector.shutdownGraceMs, [
        { what: 'detector', done: handle.detector.done },
        { what: 'notifier consumer', done: handle.notifier?.done },
      ]);
    });
}
