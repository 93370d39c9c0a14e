import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { createAdapters, type Adapters } from '../app/create-adapters.js';
import { startNotifierService, type NotifierService } from '../app/notifier.js';
import { loadConfig, type Config } from '../config/config.js';
import { parseNotificationChannels } from '../config/notifications-file.js';
import type { ChannelConfig } from '../core/notify/channel-config.js';
import { ConfigError } from '../errors.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { startHttp, type HttpHandle } from './serve.js';
import { stopOnSignals } from './stop-on-signals.js';

/** The channels a models file declares (its `channels` list). */
export async function loadChannelsFile(path: string): Promise<ChannelConfig[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`models file ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  return parseNotificationChannels(text, path);
}

export interface NotifyOptions {
  /** Models file whose `channels` are declared; default DRIFTSTREAM_MODELS_FILE. */
  models?: string;
  startFrom?: 'earliest' | 'latest';
  /** Serve the HTTP API (delivery log, channels, /metrics) beside the notifier. Default true. */
  http?: boolean;
  logger?: Logger;
  metrics?: Metrics;
}

export interface NotifyHandle {
  service: NotifierService;
  adapters: Adapters;
  http?: HttpHandle;
  close(): Promise<void>;
}

/** What `driftstream notify` starts: the notifier over the shared delivery log, and the HTTP service unless told not to. */
export async function startNotify(config: Config, options: NotifyOptions = {}): Promise<NotifyHandle> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = options.metrics ?? createMetrics({ maxModelSeries: config.detector.metricsMaxModels });
  const file = options.models ?? config.detector.modelsFile;
  const declared = file ? await loadChannelsFile(file) : [];
  if (!config.databaseUrl) logger.warn('DRIFTSTREAM_DATABASE_URL unset: the delivery log is in memory; a restart forgets what was sent, and replicas do not share it');
  const adapters = await createAdapters(config, logger, metrics);
  let service: NotifierService;
  try {
    service = await startNotifierService(config, { notifications: adapters.notifications, channels: adapters.channels, logger, registry: metrics.registry, declared, startFrom: options.startFrom });
  } catch (err) {
    await adapters.close().catch(() => undefined);
    throw err;
  }
  let http: HttpHandle | undefined;
  if (options.http ?? true) {
    try {
      http = await startHttp(config, { logger, metrics, models: adapters.models, results: adapters.results, healthChecks: adapters.healthChecks, notifications: adapters.notifications, channels: adapters.channels });
    } catch (err) {
      await service.close().catch(() => undefined);
      await adapters.close().catch(() => undefined);
      throw err;
    }
  }
  let closing: Promise<void> | undefined;
  return {
    service,
    adapters,
    http,
    close: () =>
      (closing ??= (async () => {
        if (http) await http.close();
        await service.close();
        await adapters.close();
      })()),
  };
}

export function registerNotifyCommand(program: Command): void {
  program
    .command('notify')
    .description('route alerts to channels (webhook, Slack, email, Alertmanager) with retries, de-duplication and a delivery log')
    .option('--models <file>', 'YAML or JSON file whose `channels` are declared (default DRIFTSTREAM_MODELS_FILE)')
    .option('--start-from <position>', 'where the alerts topic is read from when the group has no committed offset: earliest or latest', 'latest')
    .option('--no-http', 'run without the HTTP service')
    .action(async (opts: { models?: string; startFrom: string; http: boolean }) => {
      if (opts.startFrom !== 'earliest' && opts.startFrom !== 'latest') throw new ConfigError(`--start-from: expected earliest or latest, got ${JSON.stringify(opts.startFrom)}`);
      const config = loadConfig(process.env);
      const logger = createLogger(config.logLevel);
      const handle = await startNotify(config, { models: opts.models, startFrom: opts.startFrom, http: opts.http, logger });
      stopOnSignals(handle, logger, config.detector.shutdownGraceMs, [{ what: 'notifier consumer', done: handle.service.done }]);
    });
}
