import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresChannelRepository } from '../../../src/adapters/postgres/postgres-channel-repository.js';
import { PostgresNotificationLog } from '../../../src/adapters/postgres/postgres-notification-log.js';
import { channelConfigToJson, parseChannelConfig } from '../../../src/core/notify/channel-config.js';
import { testDatabase, type TestDatabase } from '../../support/postgres.js';
import { HttpReceiver } from '../../support/notify-receivers.js';
import { burst, counterValue, dispatchUntil, notifierRig, T0, testSecrets, type NotifierRig } from './notify-support.js';

describe('delivery policies over the PostgreSQL delivery log', () => {
  let db: TestDatabase;
  let log: PostgresNotificationLog;
  let channels: PostgresChannelRepository;
  let hook: HttpReceiver;
  const rigs: NotifierRig[] = [];

  async function channel(def: Record<string, unknown>): Promise<void> {
    await channels.put(def.id as string, channelConfigToJson(parseChannelConfig({ type: 'webhook', url: `${hook.url}/${def.id as string}`, groupWait: '0s', ...def })), 'api', T0);
    for (const r of rigs) await r.notifier.reloadChannels();
  }

  function rig(owner: string): NotifierRig {
    const r = notifierRig(log, channels, testSecrets({}).resolve, owner);
    rigs.push(r);
    return r;
  }

  beforeAll(async () => {
    [db, hook] = await Promise.all([testDatabase('notify_policy'), HttpReceiver.start()]);
    log = new PostgresNotificationLog(db.pool);
    channels = new PostgresChannelRepository(db.pool);
  });

  afterAll(async () => {
    for (const r of rigs) await r.close();
    await hook?.close();
    await db?.drop();
  });

  it('two notifiers on one log claim each notification once: every alert is sent exactly once', async () => {
    const [a, b] = [rig('replica-a'), rig('replica-b')];
    await channel({ id: 'replicas', match: [{ models: ['replica-*'] }] });
    hook.answer = () => 'accept';
    const before = hook.accepted.length;
    // 30 bursts of 4, accepted by both (as two consumers of a replayed topic would).
    const records = Array.from({ length: 30 }, (_, i) => burst(4, { modelId: `replica-${i}` }, `r${i}`)).flat();
    const added = await Promise.all([a.notifier.accept(records), b.notifier.accept(records)]);
    expect(added[0] + added[1]).toBe(120);
    const done = async () => (await log.list({ channelId: 'replicas', state: 'pending', limit: 1 })).notifications.length === 0;
    for (let i = 0; i < 20 && !(await done()); i++) {
      a.clock.advance(1000);
      b.clock.advance(1000);
      await Promise.all([a.notifier.dispatchOnce(), b.notifier.dispatchOnce()]);
    }
    const got = hook.accepted.slice(before).flatMap((q) => (q.json as { data: { alerts: { alertId: string }[] } }).data.alerts.map((x) => x.alertId));
    expect(got).toHaveLength(120);
    expect(new Set(got).size).toBe(120);
    expect(hook.accepted.length - before).toBe(30);
    const sent = [await counterValue(a.registry, 'driftstream_notification_messages_total', { outcome: 'delivered' }), await counterValue(b.registry, 'driftstream_notification_messages_total', { outcome: 'delivered' })];
    expect(sent[0] + sent[1]).toBe(30);
  });

  it('keeps to the rate limit across messages, deferring the rest to the next period', async () => {
    const r = rig('rate');
    await channel({ id: 'rated', match: [{ models: ['rated-*'] }], rateLimit: { max: 2, per: '1m' } });
    hook.answer = () => 'accept';
    const before = hook.accepted.length;
    await r.notifier.accept(Array.from({ length: 5 }, (_, i) => burst(1, { modelId: `rated-${i}` }, `rl${i}`)).flat());
    r.clock.advance(1000);
    await r.notifier.dispatchOnce();
    expect(hook.accepted.length - before).toBe(2);
    r.clock.advance(10_000);
    await r.notifier.dispatchOnce();
    expect(hook.accepted.length - before).toBe(2);
    expect(await counterValue(r.registry, 'driftstream_notifications_total', { channel: 'rated', outcome: 'deferred_rate_limit' })).toBeGreaterThanOrEqual(3);
    await dispatchUntil(r, () => hook.accepted.length - before === 5, 30_000);
    // Five messages at two a minute: the last went in the third minute.
    expect(r.clock.t - T0).toBeGreaterThanOrEqual(120_000);
  });

  it('holds WARNINGs back in quiet hours and lets CRITICALs through', async () => {
    const r = rig('quiet');
    // T0 is 12:00 UTC: quiet from 11:00 to 13:00.
    await channel({ id: 'quiet', match: [{ models: ['quiet-*'] }], quietHours: { start: '11:00', end: '13:00', timeZone: 'UTC' } });
    hook.answer = () => 'accept';
    const before = hook.accepted.length;
    await r.notifier.accept([...burst(1, { modelId: 'quiet-a' }, 'qw'), ...burst(1, { modelId: 'quiet-b', severity: 'CRITICAL' }, 'qc')]);
    r.clock.advance(1000);
    await r.notifier.dispatchOnce();
    expect(hook.accepted.slice(before).map((q) => (q.json as { data: { severity: string } }).data.severity)).toEqual(['CRITICAL']);
    const held = (await log.list({ channelId: 'quiet', state: 'pending', limit: 5 })).notifications;
    expect(held.map((h) => [h.severity, new Date(h.nextAttemptAt).toISOString()])).toEqual([['WARNING', '2026-01-05T13:00:00.000Z']]);
    await dispatchUntil(r, () => hook.accepted.length - before === 2, 10 * 60_000);
    expect(r.clock.t).toBeGreaterThanOrEqual(Date.UTC(2026, 0, 5, 13));
  });

  it('opens the breaker after consecutive failures, sends nothing while it is open, and recovers through one trial', async () => {
    const r = rig('breaker');
    await channel({ id: 'flaky', match: [{ models: ['flaky-*'] }], breaker: { failures: 2, cooldown: '30s' }, retry: { baseDelay: '1s', maxDelay: '2s', maxAttempts: 50 } });
    let down = true;
    const seen = { n: 0 };
    hook.answer = (_n, q) => {
      if (!q.body.includes('flaky-')) return 'accept';
      seen.n++;
      return down ? { status: 503 } : 'accept';
    };
    const before = hook.accepted.length;
    await r.notifier.accept(Array.from({ length: 3 }, (_, i) => burst(1, { modelId: `flaky-${i}` }, `fl${i}`)).flat());
    for (let i = 0; i < 3; i++) {
      r.clock.advance(1000);
      await r.notifier.dispatchOnce();
    }
    const whenOpen = seen.n;
    expect(await counterValue(r.registry, 'driftstream_notification_breaker_open', { channel: 'flaky' })).toBe(1);
    for (let i = 0; i < 20; i++) {
      r.clock.advance(1000);
      await r.notifier.dispatchOnce();
    }
    expect(seen.n).toBe(whenOpen);
    down = false;
    await dispatchUntil(r, () => hook.accepted.length - before === 3, 2000);
    expect(await counterValue(r.registry, 'driftstream_notification_breaker_open', { channel: 'flaky' })).toBe(0);
    expect((await log.list({ channelId: 'flaky', state: 'delivered', limit: 5 })).notifications).toHaveLength(3);
  });
});
