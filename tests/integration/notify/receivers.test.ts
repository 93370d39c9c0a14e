import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresChannelRepository } from '../../../src/adapters/postgres/postgres-channel-repository.js';
import { PostgresNotificationLog } from '../../../src/adapters/postgres/postgres-notification-log.js';
import { channelConfigToJson, parseChannelConfig } from '../../../src/core/notify/channel-config.js';
import { SIGNATURE_HEADER, verifySignature } from '../../../src/core/notify/webhook-signature.js';
import { DELIVERY_HEADER } from '../../../src/notify/render-delivery.js';
import { testDatabase, type TestDatabase } from '../../support/postgres.js';
import { AlertmanagerProcess, HttpReceiver, MailReceiver, slackMessageProblems, type ReceivedRequest } from '../../support/notify-receivers.js';
import { burst, counterValue, dispatchUntil, notifierRig, testSecrets, type NotifierRig } from './notify-support.js';

const SECRET = 'hook-secret-0123456789';

interface CloudEvent {
  specversion: string;
  id: string;
  type: string;
  source: string;
  subject: string;
  datacontenttype: string;
  data: { alerts: { alertId: string; status: string; severity: string }[] };
}

/** What a receiver of the generic webhook checks: the signature over the exact body (fresh timestamp), and the CloudEvent's shape. */
function webhookProblems(r: ReceivedRequest, clockSec: number): string[] {
  const out: string[] = [];
  const sig = verifySignature(SECRET, r.headers[SIGNATURE_HEADER] as string | undefined, r.body, clockSec);
  if (!sig.ok) out.push(`signature: ${sig.reason}`);
  if (!String(r.headers['content-type']).startsWith('application/cloudevents+json')) out.push(`content-type ${r.headers['content-type']}`);
  const e = r.json as CloudEvent;
  for (const k of ['specversion', 'id', 'type', 'source', 'subject'] as const) if (typeof e?.[k] !== 'string' || e[k].length === 0) out.push(`CloudEvent ${k} missing`);
  if (e?.specversion !== '1.0') out.push('specversion is not 1.0');
  if (e?.id !== r.headers[DELIVERY_HEADER]) out.push('the delivery header differs from the event id');
  if (!Array.isArray(e?.data?.alerts) || e.data.alerts.length === 0) out.push('data.alerts empty');
  return out;
}

const keysOf = (reqs: readonly ReceivedRequest[]) => reqs.flatMap((r) => (r.json as CloudEvent).data.alerts.map((a) => `${a.alertId}|${a.status}|${a.severity}`));

describe('notifications to real receivers', () => {
  let db: TestDatabase;
  let log: PostgresNotificationLog;
  let channels: PostgresChannelRepository;
  let rig: NotifierRig;
  let hook: HttpReceiver;
  let slack: HttpReceiver;
  let mail: MailReceiver;
  let am: AlertmanagerProcess;

  beforeAll(async () => {
    [db, hook, slack, mail, am] = await Promise.all([testDatabase('notify'), HttpReceiver.start(), HttpReceiver.start((r) => slackMessageProblems(r.json)), MailReceiver.start(), AlertmanagerProcess.start()]);
    log = new PostgresNotificationLog(db.pool);
    channels = new PostgresChannelRepository(db.pool);
    const secrets = testSecrets({ DRIFTSTREAM_NOTIFY_HOOK_SECRET: SECRET, DRIFTSTREAM_NOTIFY_SLACK_URL: slack.url });
    rig = notifierRig(log, channels, secrets.resolve);
    const fast = { groupWait: '2s', timeout: '500ms', retry: { maxAttempts: 8, baseDelay: '1s', maxDelay: '10s' }, breaker: { failures: 100, cooldown: '1s' } };
    const defs = [
      { id: 'hooks', type: 'webhook', url: hook.url, secretFrom: { env: 'DRIFTSTREAM_NOTIFY_HOOK_SECRET' }, match: [{ models: ['credit-*'] }], ...fast },
      { id: 'slack', type: 'slack', urlFrom: { env: 'DRIFTSTREAM_NOTIFY_SLACK_URL' }, match: [{ kinds: ['FEATURE_DRIFT'], models: ['slack-*'] }], ...fast },
      { id: 'mail', type: 'email', smtp: { host: '127.0.0.1', port: mail.port, user: 'alerts', passwordFrom: { file: `${secrets.dir}/smtp-password` }, from: 'driftstream@example.com', to: ['ml-oncall@example.com'] }, match: [{ models: ['mail-*'] }], ...fast },
      { id: 'am', type: 'alertmanager', url: am.url, match: [{ models: ['am-*'] }], ...fast },
    ];
    for (const d of defs) await channels.put(d.id, channelConfigToJson(parseChannelConfig(d)), 'file', rig.clock.now());
    await rig.notifier.reloadChannels();
  });

  afterAll(async () => {
    await rig?.close();
    await Promise.all([hook?.close(), slack?.close(), mail?.close(), am?.stop()]);
    await db?.drop();
  });

  it('signs CloudEvents, groups a burst into one message, and loses nothing and sends nothing twice through 503, 429, a timeout and a replay', async () => {
    hook.answer = (n) => (n <= 2 ? { status: 503 } : n === 3 ? { status: 429, headers: { 'retry-after': '3' } } : n === 4 ? 'hang' : 'accept');
    const records = burst(12);
    expect(await rig.notifier.accept(records)).toBe(12);
    // The same records again (a replayed topic, a second replica): nothing new.
    expect(await rig.notifier.accept(records)).toBe(0);
    await dispatchUntil(rig, async () => (await log.list({ channelId: 'hooks', state: 'delivered', limit: 50 })).notifications.length === 12);
    expect(hook.requests).toBe(5);
    expect(hook.accepted).toHaveLength(1);
    const problems = hook.accepted.flatMap((r) => webhookProblems(r, Math.floor(rig.clock.now() / 1000)));
    expect(problems).toEqual([]);
    expect(keysOf(hook.accepted).sort()).toEqual(records.map((r) => `${r.alertId}|FIRING|WARNING`).sort());
    const event = hook.accepted[0].json as CloudEvent;
    expect(event.type).toBe('io.driftstream.alert.firing');
    const entries = (await log.list({ channelId: 'hooks', limit: 50 })).notifications;
    expect(new Set(entries.map((e) => e.messageId))).toEqual(new Set([event.id]));
    expect(entries.every((e) => e.attempts === 5 && e.lastError === null)).toBe(true);
    expect(await counterValue(rig.registry, 'driftstream_notifications_total', { channel: 'hooks', outcome: 'delivered' })).toBe(12);
    expect(await counterValue(rig.registry, 'driftstream_notifications_total', { channel: 'hooks', outcome: 'duplicate' })).toBe(12);
    expect(await counterValue(rig.registry, 'driftstream_notification_messages_total', { channel: 'hooks', outcome: 'failed' })).toBe(4);

    // The incident resolves: one more message, of the RESOLVED records only.
    await rig.notifier.accept(burst(12, { status: 'RESOLVED' }));
    await dispatchUntil(rig, () => hook.accepted.length === 2);
    expect((hook.accepted[1].json as CloudEvent).type).toBe('io.driftstream.alert.resolved');
    expect(new Set(keysOf(hook.accepted)).size).toBe(24);
    expect(hook.problems).toEqual([]);
  });

  it('dead-letters what a receiver refuses for good, and sends it once asked to retry', async () => {
    hook.answer = () => ({ status: 400 });
    const before = hook.accepted.length;
    await rig.notifier.accept(burst(2, {}, 'refused'));
    await dispatchUntil(rig, async () => (await log.list({ channelId: 'hooks', state: 'dead', limit: 10 })).notifications.length === 2);
    const dead = (await log.list({ channelId: 'hooks', state: 'dead', limit: 10 })).notifications;
    expect(dead.every((d) => d.attempts === 1 && /answered 400/.test(d.lastError ?? ''))).toBe(true);
    hook.answer = () => 'accept';
    expect(await log.retryDead(rig.clock.now(), 'hooks')).toBe(2);
    await dispatchUntil(rig, () => hook.accepted.length === before + 1);
    expect(keysOf(hook.accepted.slice(before)).sort()).toEqual(['refused-0|FIRING|WARNING', 'refused-1|FIRING|WARNING']);
  });

  it('posts Block Kit messages Slack accepts: features, statistic, effect, window and the report link', async () => {
    slack.answer = (n) => (n === 1 ? { status: 500 } : 'accept');
    await rig.notifier.accept(burst(12, { modelId: 'slack-model' }, 's'));
    await dispatchUntil(rig, () => slack.accepted.length === 1);
    expect(slack.problems).toEqual([]);
    const m = slack.accepted[0].json as { text: string; blocks: { type: string; fields?: { text: string }[]; elements?: { url?: string; text?: string }[] }[] };
    expect(m.text).toBe('[WARNING] slack-model: 12 alerts in window 1m');
    const sections = m.blocks.filter((b) => b.type === 'section');
    expect(sections).toHaveLength(12);
    expect(sections[0].fields!.map((f) => f.text.split('\n')[0])).toEqual(['*Feature*', '*Statistic*', '*Effect*', '*Severity*']);
    expect(sections[0].fields![2].text).toBe('*Effect*\n0.25');
    expect(m.blocks[1].elements![0].text).toContain('*Window* 1m 2026-01-05T11:59:00Z – 2026-01-05T12:00:00Z');
    expect(m.blocks.at(-1)!.elements![0].url).toBe('https://drift.example.com/api/v1/models/slack-model/report?window=1m&at=2026-01-05T12%3A00%3A00.000Z');
    // The Slack URL is a secret: neither the log nor an error ever shows it.
    const entries = (await log.list({ channelId: 'slack', limit: 50 })).notifications;
    expect(JSON.stringify(entries)).not.toContain(slack.url);
  });

  it('emails plain text and HTML over SMTP, retrying a temporary refusal, with the password from a mounted file', async () => {
    mail.reject = (n) => (n === 1 ? { code: 451, message: 'try again later' } : undefined);
    await rig.notifier.accept(burst(3, { modelId: 'mail-model', severity: 'CRITICAL' }, 'm'));
    await dispatchUntil(rig, () => mail.mails.length === 1);
    const raw = mail.mails[0].raw;
    expect(mail.attempts).toBe(2);
    expect(mail.mails[0].to).toEqual(['ml-oncall@example.com']);
    expect(raw).toMatch(/^Subject: driftstream \[CRITICAL\] mail-model: 3 alerts in window 1m/m);
    expect(raw).toMatch(/Content-Type: text\/plain/);
    expect(raw).toMatch(/Content-Type: text\/html/);
    expect(raw).toContain('feature_00');
    expect(raw).toMatch(/^Message-ID: <[0-9a-f]{32}@driftstream>/m);
  });

  it('drives Prometheus Alertmanager: FIRING, escalation to CRITICAL, then RESOLVED with endsAt', async () => {
    const [warning] = burst(1, { modelId: 'am-model', alertId: 'am-1' });
    await rig.notifier.accept([warning]);
    await dispatchUntil(rig, async () => (await am.alerts()).some((a) => a.labels.alert_id === 'am-1'));
    let active = await am.alerts();
    expect(active.map((a) => [a.labels.alertname, a.labels.model, a.labels.feature, a.labels.severity])).toEqual([['DriftstreamFeatureDrift', 'am-model', 'feature_00', 'warning']]);

    await rig.notifier.accept(burst(1, { modelId: 'am-model', alertId: 'am-1', severity: 'CRITICAL' }));
    await dispatchUntil(rig, async () => (await am.alerts()).some((a) => a.labels.severity === 'critical'));
    active = await am.alerts();
    expect(active.map((a) => a.labels.severity)).toEqual(['critical']);

    await rig.notifier.accept(burst(1, { modelId: 'am-model', alertId: 'am-1', severity: 'CRITICAL', status: 'RESOLVED' }));
    // Only an endsAt in the past ends an alert this soon (its resolve timeout is minutes away); Alertmanager then lists it no more.
    await dispatchUntil(rig, async () => (await am.alerts()).length === 0);
    expect((await am.alerts({ active: false })).filter((a) => a.labels.alert_id === 'am-1')).toEqual([]);
    const entries = (await log.list({ channelId: 'am', limit: 10 })).notifications;
    expect(entries.map((e) => `${e.status}/${e.severity}/${e.state}`).sort()).toEqual(['FIRING/CRITICAL/delivered', 'FIRING/WARNING/delivered', 'RESOLVED/CRITICAL/delivered']);
  });
});
