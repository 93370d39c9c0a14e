import type { Config } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import {
  MemoryAlertStateStore,
  MemoryCheckpointStore,
  MemoryModelRepository,
  MemoryPaneCoordinator,
  MemoryResultRepository,
} from '../adapters/memory/index.js';
import { MemoryLabelJoin } from '../adapters/memory/memory-label-join.js';
import { MemoryAnalysisRepository } from '../adapters/memory/memory-analysis-repository.js';
import type { BufferedResultWriter } from '../adapters/postgres/buffered-result-writer.js';
import type { RedisClient } from '../adapters/redis/redis-connection.js';
import { MemoryChannelRepository, MemoryNotificationLog } from '../adapters/memory/memory-notification-log.js';
import type { Adapters, CreateAdaptersOptions, DatabaseMigrations, Opened } from './adapters.js';

export type { Adapters, CreateAdaptersOptions, DatabaseMigrations, Opened } from './adapters.js';

// The Redis and PostgreSQL adapters (and their clients) are imported only when configured:
// a detector with its state in memory does not load them.

type StateAdapters = Pick<Adapters, 'checkpoints' | 'paneCoordinator' | 'alertState' | 'labelJoin'>;
type HistoryAdapters = Pick<Adapters, 'models' | 'results' | 'history' | 'analyses' | 'notifications' | 'channels'>;

/** Checkpoints, pane coordinator, alert state and label join: in Redis when DRIFTSTREAM_REDIS_URL is set. */
async function createStateAdapters(config: Config, logger: Logger, metrics: Metrics, opened: Opened): Promise<StateAdapters & { redis?: RedisClient }> {
  if (!config.redisUrl) {
    logger.warn('DRIFTSTREAM_REDIS_URL unset: state in memory, a restart loses open windows and label joins');
    return {
      checkpoints: new MemoryCheckpointStore(),
      paneCoordinator: new MemoryPaneCoordinator(config.detector.paneRetentionMs),
      alertState: new MemoryAlertStateStore(),
      labelJoin: new MemoryLabelJoin({ horizonMs: config.detector.labelHorizonMs }),
    };
  }
  const { createRedisStateAdapters } = await import('./redis-state-adapters.js');
  return createRedisStateAdapters({ ...config, redisUrl: config.redisUrl }, logger, metrics, opened);
}

/** Models and history: in PostgreSQL when DRIFTSTREAM_DATABASE_URL is set (see postgres-history-adapters.ts). */
async function createHistoryAdapters(
  config: Config,
  logger: Logger,
  metrics: Metrics,
  options: CreateAdaptersOptions,
  opened: Opened,
): Promise<HistoryAdapters & { writer?: BufferedResultWriter }> {
  if (!config.databaseUrl) {
    logger.warn('DRIFTSTREAM_DATABASE_URL unset: models, references and history in memory');
    return {
      models: new MemoryModelRepository(),
      results: new MemoryResultRepository(),
      analyses: new MemoryAnalysisRepository(),
      history: { isFull: () => false, whenWritable: async () => undefined, durable: async () => undefined, on: () => () => undefined },
      notifications: new MemoryNotificationLog(),
      channels: new MemoryChannelRepository(),
    };
  }
  const { createPostgresHistoryAdapters } = await import('./postgres-history-adapters.js');
  return createPostgresHistoryAdapters({ ...config, databaseUrl: config.databaseUrl }, logger, metrics, options, opened);
}

/**
 * The composition of the storage adapters: DRIFTSTREAM_REDIS_URL selects the
 * Redis checkpoints, pane coordinator, alert state and label join;
 * DRIFTSTREAM_DATABASE_URL selects PostgreSQL models and history (migrated
 * at start, written through a bounded buffer). Unset, both live in memory.
 */
export async function createAdapters(config: Config, logger: Logger, metrics: Metrics, options: CreateAdaptersOptions = {}): Promise<Adapters> {
  const opened: Opened = { healthChecks: [], closers: [] };
  const { redis, ...state } = await createStateAdapters(config, logger, metrics, opened);
  const { writer, ...history } = await createHistoryAdapters(config, logger, metrics, options, opened);
  let closed: Promise<void> | undefined;
  return {
    kind: { state: redis ? 'redis' : 'memory', history: writer ? 'postgres' : 'memory' },
    ...history,
    ...state,
    healthChecks: opened.healthChecks,
    ...(redis ? { rateLimitStore: { redis, keyPrefix: config.redisKeyPrefix } } : {}),
    close(timeoutMs = 10_000) {
      closed ??= (async () => {
        // History first: its rows must reach PostgreSQL before the pool closes.
        if (writer) await writer.close(timeoutMs);
        for (const close of opened.closers) await close().catch((err) => logger.warn({ err: (err as Error).message }, 'closing a connection failed'));
      })();
      return closed;
    },
  };
}

/** Opens a connection pool to the database at `url` for its migrations. */
export async function openDatabaseMigrations(url: string, schema: string | undefined, logger: Logger): Promise<DatabaseMigrations> {
  const { openPostgresMigrations } = await import('./postgres-history-adapters.js');
  return openPostgresMigrations(url, schema, logger);
}
