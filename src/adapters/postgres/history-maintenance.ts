import type pg from 'pg';
import type { Logger } from '../../observability/logger.js';
import { HistoryDictionary } from './history-dictionary.js';
import { PartitionKeeper, type PartitionedTable } from './history-partitions.js';
import { refreshRollups } from './history-rollups.js';
import { pgCall } from './pg-pool.js';

/** How long each history table keeps its rows, ms; 0 (or no entry) keeps them forever. */
export type HistoryRetention = Readonly<Partial<Record<PartitionedTable, number>>>;

export interface HistoryMaintenanceOptions {
  retention: HistoryRetention;
  /** Partitions created ahead of the current one, per table. */
  partitionsAhead: number;
  intervalMs: number;
  logger?: Logger;
  now?: () => number;
  /** Pending hours rolled up per transaction. */
  batch?: number;
}

/** What one maintenance run did. */
export interface MaintenanceReport {
  /** Hours whose roll-ups were recomputed. */
  rolledUp: number;
  /** Partitions dropped by retention. */
  dropped: string[];
}

/**
 * Keeps the history tables in shape: creates partitions ahead, rolls up the
 * hours written since the last run, then drops partitions past their
 * table's retention (a day of evaluations, a month of hourly roll-ups or of
 * alert records, a year of daily roll-ups at a time: whole partitions, no
 * row-by-row delete). Every
 * detector runs it; an advisory lock lets one at a time do the work.
 */
export class HistoryMaintenance {
  private readonly partitions: PartitionKeeper;
  private readonly dict: HistoryDictionary;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: HistoryMaintenanceOptions,
  ) {
    this.partitions = new PartitionKeeper(pool);
    this.dict = new HistoryDictionary(pool);
  }

  /** One run (skipped, with nothing done, while another process holds the lock). */
  async runOnce(): Promise<MaintenanceReport | undefined> {
    const now = (this.options.now ?? Date.now)();
    return this.locked(async () => {
      await this.partitions.createAhead(now, this.options.partitionsAhead);
      let rolledUp = 0;
      const batch = this.options.batch ?? 500;
      // Roll-ups first: an hour must be rolled up before its windows' partition is dropped.
      for (let n = batch; n === batch; rolledUp += n) n = await refreshRollups(this.pool, this.dict, { limit: batch, skipLocked: true });
      const dropped: string[] = [];
      for (const [table, keepMs] of Object.entries(this.options.retention) as [PartitionedTable, number][]) {
        if (keepMs !== undefined && keepMs > 0) dropped.push(...(await this.partitions.dropBefore(table, now - keepMs)));
      }
      if (dropped.length > 0) this.options.logger?.info({ dropped }, 'history partitions past retention dropped');
      return { rolledUp, dropped };
    });
  }

  /** Runs now and then every interval until {@link close}; a failed run is logged and the next one tries again. */
  start(): void {
    const tick = () => {
      this.running = this.runOnce()
        .catch((err: Error) => this.options.logger?.warn({ err: err.message }, 'history maintenance failed'))
        .finally(() => {
          if (!this.closed) this.timer = setTimeout(tick, this.options.intervalMs).unref();
        });
    };
    tick();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private async locked<T>(fn: () => Promise<T>): Promise<T | undefined> {
    const client = await pgCall('history maintenance lock', () => this.pool.connect());
    try {
      const key = 'driftstream-history-maintenance';
      const { rows } = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock(hashtext($1 || current_schema())) AS ok", [key]);
      if (!rows[0].ok) return undefined;
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1 || current_schema()))', [key]).catch(() => undefined);
      }
    } finally {
      client.release();
    }
  }
}
