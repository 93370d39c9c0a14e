import { ValidationError } from '../../errors.js';
import type {
  ChannelRepository,
  ClaimedNotification,
  NewNotification,
  NotificationLog,
  NotificationPage,
  NotificationQuery,
  StoredChannel,
} from '../../ports/notification-log.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Entry = Mutable<ClaimedNotification> & { leaseOwner: string | null; leaseUntil: number };

/**
 * The delivery log in one process (tests, and a notifier without PostgreSQL: a restart forgets what
 * was sent). Past `maxSettled` delivered or dead entries the oldest are forgotten, and with them
 * their de-duplication.
 */
export class MemoryNotificationLog implements NotificationLog {
  private readonly entries = new Map<string, Entry>();
  private readonly byKey = new Map<string, string>();
  private nextId = 1;

  constructor(private readonly maxSettled = 10_000) {}

  private forgetSettled(): void {
    let settled = 0;
    for (const e of this.entries.values()) if (e.state !== 'pending') settled++;
    for (const [id, e] of this.entries) {
      if (settled <= this.maxSettled) return;
      if (e.state === 'pending') continue;
      this.entries.delete(id);
      this.byKey.delete(`${e.channelId}|${e.alertId}|${e.status}|${e.severity}`);
      settled--;
    }
  }

  async enqueue(items: readonly NewNotification[]): Promise<string[]> {
    const added: string[] = [];
    for (const n of items) {
      const key = `${n.channelId}|${n.record.alertId}|${n.record.status}|${n.record.severity}`;
      if (this.byKey.has(key)) continue;
      const id = String(this.nextId++);
      this.byKey.set(key, id);
      const r = n.record;
      this.entries.set(id, {
        id, channelId: n.channelId, alertId: r.alertId, status: r.status, severity: r.severity, modelId: r.modelId, kind: r.kind,
        groupKey: n.groupKey, state: 'pending', attempts: 0, lastError: null, messageId: null, createdAt: Date.now(),
        nextAttemptAt: n.dueAt, deliveredAt: null, record: r, leaseOwner: null, leaseUntil: 0,
      });
      added.push(n.channelId);
    }
    if (added.length > 0) this.forgetSettled();
    return added;
  }

  async claimDue(channelIds: readonly string[], owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedNotification[]> {
    const firingPending = (e: Entry) =>
      e.status === 'RESOLVED' && [...this.entries.values()].some((f) => f.channelId === e.channelId && f.alertId === e.alertId && f.status === 'FIRING' && f.state === 'pending');
    const free = (e: Entry) => e.state === 'pending' && channelIds.includes(e.channelId) && e.leaseUntil < now && !firingPending(e);
    const groups = new Set<string>();
    for (const e of this.entries.values()) {
      if (groups.size >= limit) break;
      if (free(e) && e.nextAttemptAt <= now) groups.add(`${e.channelId}|${e.groupKey}`);
    }
    const out: ClaimedNotification[] = [];
    for (const e of this.entries.values()) {
      if (!free(e) || !groups.has(`${e.channelId}|${e.groupKey}`) || (e.nextAttemptAt > now && e.attempts > 0)) continue;
      e.leaseOwner = owner;
      e.leaseUntil = now + leaseMs;
      out.push({ ...e });
    }
    return out;
  }

  private held(ids: readonly string[], owner: string): Entry[] {
    return ids.map((id) => this.entries.get(id)).filter((e): e is Entry => e !== undefined && e.leaseOwner === owner && e.state === 'pending');
  }

  private static unlease(e: Entry): void {
    e.leaseOwner = null;
    e.leaseUntil = 0;
  }

  async assignMessage(ids: readonly string[], owner: string, messageId: string): Promise<void> {
    for (const e of this.held(ids, owner)) e.messageId = messageId;
  }

  async markDelivered(ids: readonly string[], owner: string, messageId: string, now: number): Promise<void> {
    for (const e of this.held(ids, owner)) {
      Object.assign(e, { state: 'delivered', messageId, deliveredAt: now, attempts: e.attempts + 1, lastError: null });
      MemoryNotificationLog.unlease(e);
    }
  }

  async markFailed(ids: readonly string[], owner: string, error: string, nextAttemptAt: number): Promise<void> {
    for (const e of this.held(ids, owner)) {
      Object.assign(e, { attempts: e.attempts + 1, lastError: error, nextAttemptAt });
      MemoryNotificationLog.unlease(e);
    }
  }

  async markDead(ids: readonly string[], owner: string, error: string): Promise<void> {
    for (const e of this.held(ids, owner)) {
      Object.assign(e, { state: 'dead', attempts: e.attempts + 1, lastError: error });
      MemoryNotificationLog.unlease(e);
    }
  }

  async release(ids: readonly string[], owner: string, nextAttemptAt: number): Promise<void> {
    for (const e of this.held(ids, owner)) {
      e.nextAttemptAt = nextAttemptAt;
      MemoryNotificationLog.unlease(e);
    }
  }

  async messagesSince(channelId: string, since: number): Promise<number> {
    const ids = new Set<string>();
    for (const e of this.entries.values()) if (e.channelId === channelId && e.state === 'delivered' && e.deliveredAt! > since) ids.add(e.messageId!);
    return ids.size;
  }

  async retryDead(now: number, channelId?: string, ids?: readonly string[]): Promise<number> {
    let n = 0;
    for (const e of this.entries.values()) {
      if (e.state !== 'dead' || (channelId && e.channelId !== channelId) || (ids && !ids.includes(e.id))) continue;
      Object.assign(e, { state: 'pending', attempts: 0, nextAttemptAt: now });
      n++;
    }
    return n;
  }

  async list(q: NotificationQuery): Promise<NotificationPage> {
    if (q.cursor !== undefined && !/^\d{1,19}$/.test(q.cursor)) throw new ValidationError('cursor is not one this service issued', { code: 'INVALID_CURSOR' });
    const all = [...this.entries.values()]
      .filter((e) => (!q.channelId || e.channelId === q.channelId) && (!q.state || e.state === q.state) && (!q.alertId || e.alertId === q.alertId) && (!q.modelId || e.modelId === q.modelId))
      .filter((e) => q.cursor === undefined || Number(e.id) < Number(q.cursor))
      .sort((a, b) => Number(b.id) - Number(a.id));
    const page = all.slice(0, q.limit).map(({ record: _r, leaseOwner: _o, leaseUntil: _u, ...entry }) => entry);
    return { notifications: page, nextCursor: all.length > q.limit ? page[page.length - 1].id : undefined };
  }
}

/** Channels in one process. */
export class MemoryChannelRepository implements ChannelRepository {
  private readonly channels = new Map<string, StoredChannel>();

  async list(): Promise<StoredChannel[]> {
    return [...this.channels.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  async get(id: string): Promise<StoredChannel | undefined> {
    return this.channels.get(id);
  }

  async put(id: string, config: Record<string, unknown>, source: 'file' | 'api', now: number): Promise<{ created: boolean; version: number }> {
    const before = this.channels.get(id);
    const version = (before?.version ?? 0) + 1;
    this.channels.set(id, { id, config: structuredClone(config), source, version, updatedAt: now });
    return { created: before === undefined, version };
  }

  async delete(id: string): Promise<boolean> {
    return this.channels.delete(id);
  }
}
