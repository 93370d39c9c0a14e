import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { Config } from '../config/config.js';
import { redactUrl } from '../config/config.js';
import { isRetriable } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { HistoryBackpressure } from '../ports/history-backpressure.js';
import { createPgPool, pgHealthCheck } from '../adapters/postgres/pg-pool.js';
import { migrationStatus, runMigrations } from '../adapters/postgres/migrate.js';
import { PostgresModelRepository } from '../adapters/postgres/postgres-model-repository.js';
import { PostgresResultRepository } from '../adapters/postgres/postgres-result-repository.js';
import { PostgresAnalysisRepository } from '../adapters/postgres/postgres-analysis-repository.js';
import { HistoryMaintenance } from '../adapters/postgres/history-maintenance.js';
import { BufferedResultWriter } from '../adapters/postgres/buffered-result-writer.js';
import { PostgresChannelRepository } from '../adapters/postgres/postgres-channel-repository.js';
import { PostgresNotificationLog } from '../adapters/postgres/postgres-notification-log.js';
import type { Adapters, CreateAdaptersOptions, DatabaseMigrations, Opened } from './adapters.js';

// A module of its own, imported only when DRIFTSTREAM_DATABASE_URL is set (or by `migrate`),
// so a detector with models and history in memory does not load the PostgreSQL client.

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
 * Models and history in PostgreSQL (migrated first, history written through
 * a bounded buffer). On a failed migration the connections opened so far are
 * closed before the error is thrown.
 */
export async function createPostgresHistoryAdapters(
  config: Config & { databaseUrl: string },
  logger: Logger,
  metrics: Metrics,
  options: CreateAdaptersOptions,
  opened: Opened,
): Promise<Pick<Adapters, 'models' | 'results' | 'history' | 'analyses' | 'notifications' | 'channels'> & { writer: BufferedResultWriter }> {
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

/** Opens a connection pool to the database at `url` for its migrations. */
export function openPostgresMigrations(url: string, schema: string | undefined, logger: Logger): DatabaseMigrations {
  const pool = createPgPool(url, { schema, logger });
  return {
    status: () => migrationStatus(pool, { schema }),
    apply: () => runMigrations(pool, { schema, logger }),
    close: () => pool.end(),
  };
}
