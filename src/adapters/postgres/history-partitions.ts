import type pg from 'pg';
import { pgCall } from './pg-pool.js';

/** How long one partition of a history table spans (UTC). */
export type PartitionPeriod = 'day' | 'month' | 'year';

/** The partitioned history tables (evaluations, their roll-ups, alert records) and their partition periods. */
export const PARTITIONED_TABLES = {
  evaluation_rows: 'day',
  evaluation_rollups_hourly: 'month',
  evaluation_rollups_daily: 'year',
  alerts: 'month',
} as const satisfies Record<string, PartitionPeriod>;

export type PartitionedTable = keyof typeof PARTITIONED_TABLES;

/** Start of the UTC period holding `t`. */
export function periodStart(t: number, period: PartitionPeriod): number {
  const d = new Date(t);
  if (period === 'day') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (period === 'month') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  return Date.UTC(d.getUTCFullYear(), 0, 1);
}

/** Start of the period after the one holding `t`. */
export function nextPeriod(t: number, period: PartitionPeriod): number {
  const d = new Date(periodStart(t, period));
  if (period === 'day') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
  if (period === 'month') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return Date.UTC(d.getUTCFullYear() + 1, 0, 1);
}

/**
 * Creates the partitions of history tables before rows need them, and
 * remembers which exist so a write checks at most once per period. Creation
 * runs in its own statement (`driftstream_partition`, from the migrations),
 * never inside a write's transaction, so its lock on the parent is brief.
 */
export class PartitionKeeper {
  private readonly known = new Set<string>();

  constructor(private readonly pool: pg.Pool) {}

  /** Makes sure partitions of `table` exist for each of `times`. */
  async ensure(table: PartitionedTable, times: Iterable<number>): Promise<void> {
    const period = PARTITIONED_TABLES[table];
    const starts = new Set<number>();
    for (const t of times) {
      const s = periodStart(t, period);
      if (!this.known.has(`${table}:${s}`)) starts.add(s);
    }
    if (starts.size === 0) return;
    const at = [...starts].sort((a, b) => a - b).map((s) => new Date(s).toISOString());
    await pgCall('create history partitions', () =>
      this.pool.query('SELECT driftstream_partition($1, $2, t) FROM unnest($3::timestamptz[]) AS t', [table, period, at]),
    );
    for (const s of starts) this.known.add(`${table}:${s}`);
  }

  /** Creates the partitions of every history table from `now` to `ahead` periods past it. */
  async createAhead(now: number, ahead: number): Promise<void> {
    for (const table of Object.keys(PARTITIONED_TABLES) as PartitionedTable[]) {
      const times = [now];
      for (let i = 0; i < ahead; i++) times.push(nextPeriod(times[times.length - 1], PARTITIONED_TABLES[table]));
      await this.ensure(table, times);
    }
  }

  /** Forgets which partitions exist (another process may have dropped some). */
  forget(): void {
    this.known.clear();
  }

  /** Drops the partitions of `table` whose whole span ended at or before `before`; returns their names. */
  async dropBefore(table: PartitionedTable, before: number): Promise<string[]> {
    const { rows } = await pgCall('drop history partitions', () =>
      this.pool.query<{ name: string }>('SELECT driftstream_drop_partitions($1, $2) AS name', [table, new Date(before).toISOString()]),
    );
    if (rows.length > 0) this.forget();
    return rows.map((r) => r.name);
  }
}
