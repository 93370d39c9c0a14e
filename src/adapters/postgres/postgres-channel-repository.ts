import type pg from 'pg';
import type { ChannelRepository, StoredChannel } from '../../ports/notification-log.js';
import { pgCall } from './pg-pool.js';

interface Row {
  channel_id: string;
  config: Record<string, unknown>;
  source: 'file' | 'api';
  version: string;
  updated_at: Date;
}

const stored = (r: Row): StoredChannel => ({ id: r.channel_id, config: r.config, source: r.source, version: Number(r.version), updatedAt: r.updated_at.getTime() });

/** Notification channels in PostgreSQL (migration 004), shared by every notifier and the HTTP service. */
export class PostgresChannelRepository implements ChannelRepository {
  constructor(private readonly pool: pg.Pool) {}

  list(): Promise<StoredChannel[]> {
    return pgCall('list channels', async () => (await this.pool.query<Row>('SELECT * FROM notification_channels ORDER BY channel_id')).rows.map(stored));
  }

  get(id: string): Promise<StoredChannel | undefined> {
    return pgCall('get channel', async () => {
      const { rows } = await this.pool.query<Row>('SELECT * FROM notification_channels WHERE channel_id = $1', [id]);
      return rows[0] ? stored(rows[0]) : undefined;
    });
  }

  put(id: string, config: Record<string, unknown>, source: 'file' | 'api', now: number): Promise<{ created: boolean; version: number }> {
    return pgCall('put channel', async () => {
      const { rows } = await this.pool.query<{ version: string; created: boolean }>(
        `INSERT INTO notification_channels (channel_id, config, source, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (channel_id) DO UPDATE SET config = EXCLUDED.config, source = EXCLUDED.source, updated_at = EXCLUDED.updated_at,
           version = notification_channels.version + 1
         RETURNING version, (xmax = 0) AS created`,
        [id, JSON.stringify(config), source, new Date(now)],
      );
      return { created: rows[0].created, version: Number(rows[0].version) };
    });
  }

  delete(id: string): Promise<boolean> {
    return pgCall('delete channel', async () => ((await this.pool.query('DELETE FROM notification_channels WHERE channel_id = $1', [id])).rowCount ?? 0) > 0);
  }
}
