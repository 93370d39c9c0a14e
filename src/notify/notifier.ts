import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AlertRecord } from '../core/notify/alert-record.js';
import { deliveryKeyOf, groupKeyOf, routeAlert } from '../core/notify/route-alert.js';
import { messageIdOf } from '../core/notify/notification-group.js';
import { retryDelayMs } from '../core/notify/delivery-timing.js';
import { isRetriable } from '../errors.js';
import type { ChannelRepository, ClaimedNotification, NewNotification, NotificationLog } from '../ports/notification-log.js';
import { DeliveryError, type NotificationTransport } from '../ports/notification-transport.js';
import { ChannelSet, type LiveChannel } from './channel-set.js';
import { planMessages } from './message-plan.js';
import type { NotifyMetrics, NotifyOutcome } from './notify-metrics.js';
import { renderDelivery, type SecretResolver } from './render-delivery.js';

export interface NotifierDeps {
  readonly log: NotificationLog;
  readonly channels: ChannelRepository;
  readonly transport: NotificationTransport;
  readonly secrets: SecretResolver;
  readonly logger: Logger;
  readonly metrics?: NotifyMetrics;
  /** Base of report links (the service's public URL). */
  readonly reportBaseUrl?: string;
  readonly now?: () => number;
  readonly random?: () => number;
}

export interface NotifierOptions {
  /** How often due notifications are looked for. Default 500 ms. */
  readonly pollMs?: number;
  /** How often channels are reloaded from the repository. Default 5 s. */
  readonly reloadMs?: number;
  /** Bursts claimed per poll. Default 20. */
  readonly groupsPerPoll?: number;
  /** Records in one message at most (Slack shows 40 of them). Default 50. */
  readonly maxPerMessage?: number;
  /** This dispatcher's name in the log's leases. Default a random id. */
  readonly owner?: string;
}

/**
 * Routes alert records to channels and delivers them: `accept` writes one
 * notification per matching channel into the delivery log (idempotent on
 * (channel, alertId, status, severity)); the dispatch loop claims due ones,
 * sends each burst as one message, and retries, defers or dead-letters by
 * the channel's policy. Any number of notifiers may share one log.
 */
export class Notifier {
  private readonly set: ChannelSet;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly owner: string;
  private readonly pollMs: number;
  private readonly reloadMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastReload = 0;
  private stopped = false;

  constructor(
    private readonly deps: NotifierDeps,
    private readonly options: NotifierOptions = {},
  ) {
    this.set = new ChannelSet(deps.channels, deps.logger);
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.owner = options.owner ?? randomUUID();
    this.pollMs = options.pollMs ?? 500;
    this.reloadMs = options.reloadMs ?? 5_000;
  }

  /** Loads the channels and starts the dispatch loop. */
  async start(): Promise<void> {
    await this.reloadChannels();
    this.schedule();
  }

  async reloadChannels(): Promise<void> {
    await this.set.reload();
    this.lastReload = this.now();
  }

  /** Writes the notifications of these records to the log; returns how many were new. */
  async accept(records: readonly AlertRecord[]): Promise<number> {
    if (this.now() - this.lastReload > this.reloadMs) await this.reloadChannels();
    const now = this.now();
    const items: NewNotification[] = [];
    for (const r of records) {
      for (const c of routeAlert(this.set.configs(), r)) items.push({ channelId: c.id, record: r, groupKey: groupKeyOf(r), dueAt: now + c.policy.groupWaitMs });
    }
    if (items.length === 0) return 0;
    const added = await this.deps.log.enqueue(items);
    const fresh = new Map<string, number>();
    for (const id of added) fresh.set(id, (fresh.get(id) ?? 0) + 1);
    const all = new Map<string, number>();
    for (const i of items) all.set(i.channelId, (all.get(i.channelId) ?? 0) + 1);
    for (const [channel, n] of all) {
      const f = fresh.get(channel) ?? 0;
      this.count(channel, 'enqueued', f);
      this.count(channel, 'duplicate', n - f);
    }
    return added.length;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, this.pollMs);
  }

  private async tick(): Promise<void> {
    try {
      if (this.now() - this.lastReload > this.reloadMs) await this.reloadChannels();
      while (!this.stopped && (await this.dispatchOnce()) > 0) {
        // A full claim: more may be due right away.
      }
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message }, 'notification dispatch failed; retrying at the next poll');
    }
  }

  /** One round: claims due notifications and sends them; returns how many bursts it claimed. */
  async dispatchOnce(): Promise<number> {
    const now = this.now();
    const live = this.set.all().filter((c) => c.breaker.state(now) !== 'open');
    for (const c of this.set.all()) this.deps.metrics?.breakerOpen.set({ channel: c.config.id }, c.breaker.state(now) === 'open' ? 1 : 0);
    if (live.length === 0) return 0;
    const leaseMs = Math.max(...live.map((c) => c.config.policy.timeoutMs)) * 2 + 5_000;
    const limit = this.options.groupsPerPoll ?? 20;
    const rows = await this.deps.log.claimDue(live.map((c) => c.config.id), this.owner, now, leaseMs, limit);
    const byChannel = new Map<string, ClaimedNotification[]>();
    for (const r of rows) byChannel.set(r.channelId, [...(byChannel.get(r.channelId) ?? []), r]);
    await Promise.all([...byChannel].map(([id, list]) => this.dispatchChannel(this.set.get(id), list)));
    const groups = new Set(rows.map((r) => `${r.channelId}|${r.groupKey}`)).size;
    return groups >= limit ? groups : 0;
  }

  private async dispatchChannel(channel: LiveChannel | undefined, rows: ClaimedNotification[]): Promise<void> {
    const ids = rows.map((r) => r.id);
    if (!channel) return this.deps.log.release(ids, this.owner, this.now() + this.reloadMs);
    const now = this.now();
    const plan = planMessages(channel.config, rows, now, this.options.maxPerMessage ?? 50);
    for (const d of plan.deferred) {
      await this.deps.log.release(d.rows.map((r) => r.id), this.owner, d.until);
      this.count(channel.config.id, 'deferred_quiet_hours', d.rows.length);
    }
    let budget = await this.rateBudget(channel, now);
    await Promise.all(
      plan.messages.map(async (message) => {
        if (budget <= 0) {
          const p = channel.config.policy;
          await this.deps.log.release(message.map((r) => r.id), this.owner, now + Math.ceil(p.ratePerMs / p.rateLimit));
          this.count(channel.config.id, 'deferred_rate_limit', message.length);
          return;
        }
        budget--;
        await this.send(channel, message);
      }),
    );
  }

  private async rateBudget(channel: LiveChannel, now: number): Promise<number> {
    const p = channel.config.policy;
    if (p.rateLimit === 0) return Number.POSITIVE_INFINITY;
    return p.rateLimit - (await this.deps.log.messagesSince(channel.config.id, now - p.ratePerMs));
  }

  private async send(channel: LiveChannel, rows: ClaimedNotification[]): Promise<void> {
    const c = channel.config;
    const ids = rows.map((r) => r.id);
    const now = this.now();
    if (!channel.breaker.allows(now)) {
      await this.deps.log.release(ids, this.owner, channel.breaker.reopensAt(now));
      this.count(c.id, 'deferred_breaker_open', rows.length);
      return;
    }
    const messageId = rows[0].messageId ?? messageIdOf(c.id, rows.map((r) => deliveryKeyOf(c.id, r)));
    if (!rows[0].messageId) await this.deps.log.assignMessage(ids, this.owner, messageId);
    const started = performance.now();
    try {
      const delivery = renderDelivery(c, { channelId: c.id, records: rows.map((r) => r.record), reportBaseUrl: this.deps.reportBaseUrl }, messageId, now, this.deps.secrets);
      if (delivery.kind === 'http') await this.deps.transport.postJson(delivery.http);
      else await this.deps.transport.sendEmail(delivery.email);
    } catch (err) {
      await this.failed(channel, rows, err);
      return;
    }
    this.deps.metrics?.deliverySeconds.observe({ channel: c.id }, (performance.now() - started) / 1000);
    channel.breaker.success();
    await this.deps.log.markDelivered(ids, this.owner, messageId, this.now());
    this.deps.metrics?.messages.inc({ channel: c.id, outcome: 'delivered' });
    this.count(c.id, 'delivered', rows.length);
  }

  private async failed(channel: LiveChannel, rows: ClaimedNotification[], err: unknown): Promise<void> {
    const c = channel.config;
    const ids = rows.map((r) => r.id);
    const now = this.now();
    // A secret that is not there yet (a file not mounted) may be there later: retried like an unreachable receiver.
    const retriable = isRetriable(err) || !(err instanceof DeliveryError);
    const message = (err as Error).message;
    const attempts = Math.max(...rows.map((r) => r.attempts)) + 1;
    if (retriable) channel.breaker.failure(now);
    this.deps.metrics?.messages.inc({ channel: c.id, outcome: retriable ? 'failed' : 'refused' });
    if (!retriable || attempts >= c.policy.maxAttempts) {
      await this.deps.log.markDead(ids, this.owner, message);
      this.count(c.id, 'dead', rows.length);
      this.deps.logger.error({ channel: c.id, attempts, alerts: rows.length, err: message }, 'notification dead-lettered');
      return;
    }
    const retryAfter = err instanceof DeliveryError ? err.retryAfterMs : undefined;
    const next = now + retryDelayMs(attempts, c.policy.baseDelayMs, c.policy.maxDelayMs, this.random(), retryAfter);
    await this.deps.log.markFailed(ids, this.owner, message, next);
    this.count(c.id, 'retried', rows.length);
    this.deps.logger.warn({ channel: c.id, attempts, retryInMs: next - now, err: message }, 'notification not delivered; will retry');
  }

  private count(channel: string, outcome: NotifyOutcome, n: number): void {
    if (n > 0) this.deps.metrics?.notifications.inc({ channel, outcome }, n);
  }

  /** Stops the loop after the round in progress; what is leased and unsent is claimable again when its lease ends. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
