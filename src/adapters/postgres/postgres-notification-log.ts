import type pg from 'pg';
import type { AlertRecord } from '../../core/notify/alert-record.js';
import { ValidationError } from '../../errors.js';
import type {
  ClaimedNotification,
  DeliveryState,
  NewNotification,
  NotificationEntry,
  NotificationLog,
  NotificationPage,
  NotificationQuery,
} from '../../ports/notification-log.js';
import { pgCall } from './pg-pool.js';

interface Row {
  id: string;
  channel_id: string;
  alert_id: string;
  status: string;
  severity: string;
  model_id: string;
  kind: string;
  group_key: string;
  state: DeliveryState;
  attempts: number;
  last_error: string | null;
  message_id: string | null;
  created_at: Date;
  next_attempt_at: Date;
  delivered_at: Date | null;
  record?: AlertRecord;
}

const COLUMNS = 'id, channel_id, alert_id, status, severity, model_id, kind, group_key, state, attempts, last_error, message_id, created_at, next_attempt_at, delivered_at';

function entryOf(r: Row): NotificationEntry {
  return {
    id: String(r.id),
    channelId: r.channel_id,
    alertId: r.alert_id,
    status: r.status,
    severity: r.severity,
    modelId: r.model_id,
    kind: r.kind,
    groupKey: r.group_key,
    state: r.state,
    attempts: r.attempts,
    lastError: r.last_error,
    messageId: r.message_id,
    createdAt: r.created_at.getTime(),
    nextAttemptAt: r.next_attempt_at.getTime(),
    deliveredAt: r.delivered_at ? r.delivered_at.getTime() : null,
  };
}

const ts = (ms: number) => new Date(ms);

/** A RESOLVED notification waits while its incident's FIRING one is still pending on the same channel. */
const FIRING_PENDING = (row: string) =>
  `(${row}.status = 'RESOLVED' AND EXISTS (SELECT 1 FROM notification_deliveries f WHERE f.channel_id = ${row}.channel_id AND f.alert_id = ${row}.alert_id AND f.status = 'FIRING' AND f.state = 'pending'))`;
const MAX_ERROR = 1000;

/** The delivery log in PostgreSQL (migration 004): the unique key is (channel, alert, status, severity); leases by row locks. */
export class PostgresNotificationLog implements NotificationLog {
  constructor(private readonly pool: pg.Pool) {}

  async enqueue(items: readonly NewNotification[]): Promise<string[]> {
    if (items.length === 0) return [];
    const cols = ['channel_id', 'alert_id', 'status', 'severity', 'model_id', 'kind', 'group_key', 'record', 'next_attempt_at'];
    const values: unknown[] = [];
    const tuples = items.map((n, i) => {
      values.push(n.channelId, n.record.alertId, n.record.status, n.record.severity, n.record.modelId, n.record.kind, n.groupKey, JSON.stringify(n.record), ts(n.dueAt));
      return `(${cols.map((_, j) => `$${i * cols.length + j + 1}`).join(', ')})`;
    });
    return pgCall('enqueue notifications', async () => {
      const r = await this.pool.query<{ channel_id: string }>(
        `INSERT INTO notification_deliveries (${cols.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (channel_id, alert_id, status, severity) DO NOTHING RETURNING channel_id`,
        values,
      );
      return r.rows.map((row) => row.channel_id);
    });
  }

  async claimDue(channelIds: readonly string[], owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedNotification[]> {
    if (channelIds.length === 0) return [];
    return pgCall('claim notifications', async () => {
      const { rows } = await this.pool.query<Row>(
        `WITH groups AS (
           SELECT DISTINCT channel_id, group_key FROM notification_deliveries
            WHERE state = 'pending' AND channel_id = ANY($1) AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until < $2)
              AND NOT ${FIRING_PENDING('notification_deliveries')}),
         due AS (
           -- One claimer per burst at a time, so two replicas never split a burst into two messages.
           SELECT channel_id, group_key FROM groups
            WHERE pg_try_advisory_xact_lock(hashtext(current_schema() || '|notify|' || channel_id || '|' || group_key))
            LIMIT $5),
         picked AS (
           SELECT x.id FROM notification_deliveries x JOIN due USING (channel_id, group_key)
            WHERE x.state = 'pending' AND (x.next_attempt_at <= $2 OR x.attempts = 0) AND (x.lease_until IS NULL OR x.lease_until < $2)
              AND NOT ${FIRING_PENDING('x')}
            FOR UPDATE OF x SKIP LOCKED)
         UPDATE notification_deliveries d SET lease_owner = $3, lease_until = $4
           FROM picked WHERE d.id = picked.id
         RETURNING ${COLUMNS.split(', ').map((c) => `d.${c}`).join(', ')}, d.record`,
        [channelIds, ts(now), owner, ts(now + leaseMs), limit],
      );
      return rows.map((r) => ({ ...entryOf(r), record: r.record! }));
    });
  }

  private async update(what: string, sql: string, ids: readonly string[], owner: string, params: unknown[]): Promise<void> {
    if (ids.length === 0) return;
    await pgCall(what, () => this.pool.query(`UPDATE notification_deliveries SET ${sql} WHERE id = ANY($1::bigint[]) AND lease_owner = $2 AND state = 'pending'`, [ids, owner, ...params]));
  }

  assignMessage(ids: readonly string[], owner: string, messageId: string): Promise<void> {
    return this.update('assign notification message', 'message_id = $3', ids, owner, [messageId]);
  }

  markDelivered(ids: readonly string[], owner: string, messageId: string, now: number): Promise<void> {
    return this.update('mark notifications delivered', `state = 'delivered', message_id = $3, delivered_at = $4, attempts = attempts + 1, last_error = NULL, lease_owner = NULL, lease_until = NULL`, ids, owner, [messageId, ts(now)]);
  }

  markFailed(ids: readonly string[], owner: string, error: string, nextAttemptAt: number): Promise<void> {
    return this.update('mark notifications failed', `attempts = attempts + 1, last_error = $3, next_attempt_at = $4, lease_owner = NULL, lease_until = NULL`, ids, owner, [error.slice(0, MAX_ERROR), ts(nextAttemptAt)]);
  }

  markDead(ids: readonly string[], owner: string, error: string): Promise<void> {
    return this.update('dead-letter notifications', `state = 'dead', attempts = attempts + 1, last_error = $3, lease_owner = NULL, lease_until = NULL`, ids, owner, [error.slice(0, MAX_ERROR)]);
  }

  release(ids: readonly string[], owner: string, nextAttemptAt: number): Promise<void> {
    return this.update('release notifications', `next_attempt_at = $3, lease_owner = NULL, lease_until = NULL`, ids, owner, [ts(nextAttemptAt)]);
  }

  async messagesSince(channelId: string, since: number): Promise<number> {
    return pgCall('count notification messages', async () => {
      const { rows } = await this.pool.query<{ n: string }>(
        `SELECT count(DISTINCT message_id) AS n FROM notification_deliveries WHERE channel_id = $1 AND state = 'delivered' AND delivered_at > $2`,
        [channelId, ts(since)],
      );
      return Number(rows[0].n);
    });
  }

  async retryDead(now: number, channelId?: string, ids?: readonly string[]): Promise<number> {
    return pgCall('retry dead notifications', async () => {
      const r = await this.pool.query(
        `UPDATE notification_deliveries SET state = 'pending', attempts = 0, next_attempt_at = $1
          WHERE state = 'dead' AND ($2::text IS NULL OR channel_id = $2) AND ($3::bigint[] IS NULL OR id = ANY($3::bigint[]))`,
        [ts(now), channelId ?? null, ids ? [...ids] : null],
      );
      return r.rowCount ?? 0;
    });
  }

  async list(q: NotificationQuery): Promise<NotificationPage> {
    if (q.cursor !== undefined && !/^\d{1,19}$/.test(q.cursor)) throw new ValidationError('cursor is not one this service issued', { code: 'INVALID_CURSOR' });
    return pgCall('list notifications', async () => {
      const { rows } = await this.pool.query<Row>(
        `SELECT ${COLUMNS} FROM notification_deliveries
          WHERE ($1::text IS NULL OR channel_id = $1) AND ($2::text IS NULL OR state = $2) AND ($3::text IS NULL OR alert_id = $3)
            AND ($4::text IS NULL OR model_id = $4) AND ($5::bigint IS NULL OR id < $5)
          ORDER BY id DESC LIMIT $6`,
        [q.channelId ?? null, q.state ?? null, q.alertId ?? null, q.modelId ?? null, q.cursor ?? null, q.limit + 1],
      );
      const page = rows.slice(0, q.limit).map(entryOf);
      return { notifications: page, nextCursor: rows.length > q.limit ? page[page.length - 1].id : undefined };
    });
  }
}
