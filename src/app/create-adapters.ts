import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { Config } from '../config/config.js';
import { redactUrl } from '../config/config.js';
import { isRetriable } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { AlertStateStore } from '../ports/alert-state-store.js';
import type { CheckpointStore } from '../ports/checkpoint-store.js';
import type { HealthCheck } from '../ports/health-check.js';
import type { ModelRepository } from '../ports/model-repository.js';
import type { PaneCoordinator } from '../ports/pane-coordinator.js';
import type { ResultRepository } from '../ports/result-repository.js';
import type { LabelJoin } from '../ports/label-join.js';
import {
  MemoryAlertStateStore,
  MemoryCheckpointStore,
  MemoryModelRepository,
  MemoryPaneCoordinator,
  MemoryResultRepository,
} from '../adapters/memory/index.js';
import { MemoryLabelJoin } from '../adapters/memory/memory-label-join.js';
import { createRedisConnection, redisHealthCheck, type RedisClient } from '../adapters/redis/redis-connection.js';
import { ReplicaBarrier } from '../adapters/redis/replica-barrier.js';
import { RedisCheckpointStore } from '../adapters/redis/redis-checkpoint-store.js';
import { RedisPaneCoordinator } from '../adapters/redis/redis-pane-coordinator.js';
import { RedisAlertStateStore } from '../adapters/redis/redis-alert-state-store.js';
import { RedisLabelJoin } from '../adapters/redis/redis-label-join.js';
import { createPgPool, pgHealthCheck } from '../adapters/postgres/pg-pool.js';
import { migrationStatus, runMigrations, type MigrationStatus } from '../adapters/postgres/migrate.js';
import { PostgresModelRepository } from '../adapters/postgres/postgres-model-repository.js';
import { PostgresResultRepository } from '../adapters/postgres/postgres-result-repository.js';
import { PostgresAnalysisRepository } from '../adapters/postgres/postgres-analysis-repository.js';
import { MemoryAnalysisRepository } from '../adapters/memory/memory-analysis-repository.js';
import type { AnalysisRepository } from '../ports/analysis-repository.js';
import { HistoryMaintenance } from '../adapters/postgres/history-maintenance.js';
import { BufferedResultWriter } from '../adapters/postgres/buffered-result-writer.js';
import type { HistoryBackpressure } from '../ports/history-backpressure.js';
import type { ChannelRepository, NotificationLog } from '../ports/notification-log.js';
import { MemoryChannelRepository, MemoryNotificationLog } from '../adapters/memory/memory-notification-log.js';
import { PostgresChannelRepository } from '../adapters/postgres/postgres-channel-repository.js';
import { PostgresNotificationLog } from '../adapters/postgres/postgres-notification-log.js';
import type { RateLimitStore } from '../http/deps.js';


/** Every port implementation the detector and the HTTP service need, chosen by configuration. */
export interface Adapters {
  readonly kind: { readonly state: 'redis' | 'memory'; readonly history: 'postgres' | 'memory' };
  readonly models: ModelRepository;
  /** History; with PostgreSQL, a {@link BufferedResultWriter} in front of it. */
  readonly results: ResultRepository;
  readonly history: HistoryBackpressure;
  readonly checkpoints: CheckpointStore;
  readonly paneCoordinator: PaneCoordinator;
  readonly alertState: AlertStateStore;
  readonly labelJoin: LabelJoin;
  /** Backfill analyses and their windows. */
  readonly analyses: AnalysisRepository;
  /** The notifications' delivery log and channels (PostgreSQL with the history). */
  readonly notifications: NotificationLog;
  readonly channels: ChannelRepository;
  readonly healthChecks: readonly HealthCheck[];
  /** The shared Redis the HTTP write rate limit counts in, when state is in Redis. */
  readonly rateLimitStore?: RateLimitStore;
  /** Writes what is buffered (bounded by `timeoutMs`), then closes the connections. */
  close(timeoutMs?: number): Promise<void>;
}

export interface CreateAdaptersOptions {
  /** Apply pending migrations at start (the detector does; `serve` may too). Default true. */
  migrate?: boolean;
  /** How long to keep retrying an unreachable PostgreSQL at start. Default 60 s. */
  startupTimeoutMs?: number;
}


async function migrateWithRetry(pool: pg.Pool, config: Config, logger: Logger, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await runMigrations(pool, { schema: config.databaseSchema, logger });
      return;
    } catch (err) {
      if (!isRetriable(err) || Date.now() > deadline) throw err;
      logger.warn({ attempt, err: (err as Error).message }, 'postgres not reachable for migrations; retrying');
      await sleep(Math.min(5_000, 200 * 2 ** attempt));
    }
  }
}

type StateAdapters = Pick<Adapters, 'checkpoints' | 'paneCoordinator' | 'alertState' | 'labelJoin'>;
type HistoryAdapters = Pick<Adapters, 'models' | 'results' | 'history' | 'analyses' | 'notifications' | 'channels'>;

/** What each half of the composition adds to the whole: health checks and how to close. */
interface Opened {
  readonly healthChecks: HealthCheck[];
  readonly closers: (() => Promise<unknown>)[];
}

/** Checkpoints, pane coordinator, alert state and label join: in Redis when DRIFTSTREAM_REDIS_URL is set. */
function createStateAdapters(config: Config, logger: Logger, metrics: Metrics, opened: Opened): StateAdapters & { redis?: RedisClient } {
  const prefix = config.redisKeyPrefix;
  if (!config.redisUrl) {
    logger.warn('DRIFTSTREAM_REDIS_URL unset: state in memory, a restart loses open windows and label joins');
    return {
      checkpoints: new MemoryCheckpointStore(),
      paneCoordinator: new MemoryPaneCoordinator(config.detector.paneRetentionMs),
      alertState: new MemoryAlertStateStore(),
      labelJoin: new MemoryLabelJoin({ horizonMs: config.detector.labelHorizonMs }),
    };
  }
  const client = createRedisConnection(config.redisUrl, config.redis, { logger, metrics, name: `driftstream:${config.groupId}` });
  opened.healthChecks.push(redisHealthCheck(client));
  opened.closers.push(() => client.quit().catch(() => client.disconnect()));
  logger.info({ redis: redactUrl(config.redisUrl), mode: config.redis.mode }, 'state in redis');
  // Checkpoints and alert claims wait for a replica where there is one: a failover must not undo them.
  const barrier = new ReplicaBarrier(client, { replicas: config.redis.checkpointReplicas, timeoutMs: config.redis.replicaTimeoutMs });
  return {
    redis: client,
    checkpoints: new RedisCheckpointStore(client, { prefix, barrier }),
    paneCoordinator: new RedisPaneCoordinator(client, {
      prefix,
      groupId: config.groupId,
      leaseMs: config.detector.paneLeaseMs,
      retentionMs: config.detector.paneRetentionMs,
      logger,
    }),
    alertState: new RedisAlertStateStore(client, { prefix, barrier }),
    labelJoin: new RedisLabelJoin(client, { keyPrefix: `${prefix}labels:`, horizonMs: config.detector.labelHorizonMs }),
  };
}

/** The history port over a {@link BufferedResultWriter}: full while its buffer is. */
function writerBackpressure(w: BufferedResultWriter): HistoryBackpressure {
  return {
    isFull: () => w.isFull(),
    whenWritable: () => w.whenWritable(),
    durable: () => w.durable(),
    on(event, listener) {
      w.on(event, listener);
      return () => w.off(event, listener);
    },
  };
}

/** Partitions ahead, roll-ups and retention of the history tables, run every DRIFTSTREAM_HISTORY_MAINTENANCE_INTERVAL. */
function historyMaintenance(pool: pg.Pool, config: Config, logger: Logger): HistoryMaintenance {
  const h = config.history;
  const maintenance = new HistoryMaintenance(pool, {
    retention: { evaluation_rows: h.retentionMs, evaluation_rollups_hourly: h.hourlyRetentionMs, evaluation_rollups_daily: h.dailyRetentionMs, alerts: h.alertRetentionMs },
    partitionsAhead: h.partitionsAhead,
    intervalMs: h.maintenanceIntervalMs,
    logger,
  });
  maintenance.start();
  return maintenance;
}

/**
 * Models and history: in PostgreSQL (migrated first, history written through
 * a bounded buffer) when DRIFTSTREAM_DATABASE_URL is set. On a failed
 * migration the connections opened so far are closed before the error is thrown.
 */
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
  const pool = createPgPool(config.databaseUrl, { schema: config.databaseSchema, logger, metrics });
  try {
    if (options.migrate ?? true) await migrateWithRetry(pool, config, logger, options.startupTimeoutMs ?? 60_000);
  } catch (err) {
    await pool.end().catch(() => undefined);
    for (const close of opened.closers) await close();
    throw err;
  }
  const writer = new BufferedResultWriter(new PostgresResultRepository(pool, { detail: config.history.detail }), { capacity: config.detector.historyBuffer, logger, metrics });
  const maintenance = historyMaintenance(pool, config, logger);
  opened.healthChecks.push(pgHealthCheck(pool, metrics));
  opened.closers.unshift(() => pool.end());
  opened.closers.unshift(() => maintenance.close());
  logger.info({ db: redactUrl(config.databaseUrl), schema: config.databaseSchema }, 'models and history in postgres');
  return {
    models: new PostgresModelRepository(pool),
    analyses: new PostgresAnalysisRepository(pool),
    results: writer,
    history: writerBackpressure(writer),
    notifications: new PostgresNotificationLog(pool),
    channels: new PostgresChannelRepository(pool),
    writer,
  };
}

/**
 * The composition of the storage adapters: DRIFTSTREAM_REDIS_URL selects the
 * Redis checkpoints, pane coordinator, alert state and label join;
 * DRIFTSTREAM_DATABASE_URL selects PostgreSQL models and history (migrated
 * at start, written through a bounded buffer). Unset, both live in memory.
 */
export async function createAdapters(config: Config, logger: Logger, metrics: Metrics, options: CreateAdaptersOptions = {}): Promise<Adapters> {
  const opened: Opened = { healthChecks: [], closers: [] };
  const { redis, ...state } = createStateAdapters(config, logger, metrics, opened);
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

/** The schema migrations of one PostgreSQL database (what `driftstream migrate` lists and applies). */
export interface DatabaseMigrations {
  status(): Promise<MigrationStatus[]>;
  /** Applies the pending migrations; returns the versions applied. */
  apply(): Promise<number[]>;
  close(): Promise<void>;
}

/** Opens a connection pool to the database at `url` for its migrations. */
export function openDatabaseMigrations(url: string, schema: string | undefined, logger: Logger): DatabaseMigrations {
  const pool = createPgPool(url, { schema, logger });
  return {
    status: () => migrationStatus(pool, { schema }),
    apply: () => runMigrations(pool, { schema, logger }),
    close: () => pool.end(),
  };
}
