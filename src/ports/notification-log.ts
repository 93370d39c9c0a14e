import type { AlertRecord } from '../core/notify/alert-record.js';

export type DeliveryState = 'pending' | 'delivered' | 'dead';

/** A notification to record: one channel, one (alertId, status, severity). */
export interface NewNotification {
  readonly channelId: string;
  readonly record: AlertRecord;
  readonly groupKey: string;
  /** When it may first go out (arrival plus the channel's group wait). */
  readonly dueAt: number;
}

/** A notification as the log holds it. */
export interface NotificationEntry {
  readonly id: string;
  readonly channelId: string;
  readonly alertId: string;
  readonly status: string;
  readonly severity: string;
  readonly modelId: string;
  readonly kind: string;
  readonly groupKey: string;
  readonly state: DeliveryState;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly messageId: string | null;
  readonly createdAt: number;
  readonly nextAttemptAt: number;
  readonly deliveredAt: number | null;
}

export interface ClaimedNotification extends NotificationEntry {
  readonly record: AlertRecord;
}

export interface NotificationQuery {
  readonly channelId?: string;
  readonly state?: DeliveryState;
  readonly alertId?: string;
  readonly modelId?: string;
  readonly limit: number;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string;
}

export interface NotificationPage {
  readonly notifications: NotificationEntry[];
  readonly nextCursor?: string;
}

/**
 * The delivery log: the notifier's outbox and its record of what went where.
 *
 * - `enqueue` is idempotent: a (channel, alertId, status, severity) already in
 *   the log is left as it is, whoever wrote it (a replay, a restart, another
 *   replica), so each is sent by one dispatcher at a time.
 * - `claimDue` leases due pending notifications to one owner, atomically: two
 *   owners never hold the same notification at once. A lease that expires
 *   (its owner died) makes the notification claimable again: delivery is at
 *   least once, and a receiver de-duplicates a resend by its message id.
 * - A RESOLVED notification is not claimed while the FIRING one of its incident is still pending
 *   on the same channel, so a receiver never hears of the end before the start.
 * - The `mark*` and `release` calls change only notifications leased to `owner`.
 */
export interface NotificationLog {
  /** Records new notifications; returns the channel id of each one that was not in the log yet. */
  enqueue(items: readonly NewNotification[]): Promise<string[]>;
  /**
   * Leases to `owner` until `now + leaseMs` the pending notifications of the
   * given channels that are due, with the not yet attempted ones of the same
   * groups (so a burst goes as one message); at most `limit` groups. Concurrent
   * claimers take whole groups: a burst is never split between them.
   */
  claimDue(channelIds: readonly string[], owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedNotification[]>;
  /**
   * Fixes the message the notifications travel in before it is sent: a resend (a retry, or another
   * owner after this one died) carries the same notifications under the same id.
   */
  assignMessage(ids: readonly string[], owner: string, messageId: string): Promise<void>;
  markDelivered(ids: readonly string[], owner: string, messageId: string, now: number): Promise<void>;
  /** A failed attempt: attempts + 1, the error, and when to try again. */
  markFailed(ids: readonly string[], owner: string, error: string, nextAttemptAt: number): Promise<void>;
  /** Gives up: the notification goes to the dead letters (state `dead`) with its last error. */
  markDead(ids: readonly string[], owner: string, error: string): Promise<void>;
  /** Ends the lease without an attempt, due again at `nextAttemptAt` (quiet hours, rate limit, open breaker). */
  release(ids: readonly string[], owner: string, nextAttemptAt: number): Promise<void>;
  /** Distinct messages a channel delivered since `since` (its rate limit, across replicas). */
  messagesSince(channelId: string, since: number): Promise<number>;
  /** Dead notifications of a channel (or all) back to pending, due at `now`; returns how many. */
  retryDead(now: number, channelId?: string, ids?: readonly string[]): Promise<number>;
  list(query: NotificationQuery): Promise<NotificationPage>;
}

/** A channel as stored: its configuration as given (references to secrets, never their values). */
export interface StoredChannel {
  readonly id: string;
  readonly config: Record<string, unknown>;
  readonly source: 'file' | 'api';
  readonly version: number;
  readonly updatedAt: number;
}

/** Channels declared in the models file or through the API, shared by every notifier and the HTTP service. */
export interface ChannelRepository {
  list(): Promise<StoredChannel[]>;
  get(id: string): Promise<StoredChannel | undefined>;
  /** Creates or replaces; returns whether it was created. */
  put(id: string, config: Record<string, unknown>, source: 'file' | 'api', now: number): Promise<{ created: boolean; version: number }>;
  delete(id: string): Promise<boolean>;
}
