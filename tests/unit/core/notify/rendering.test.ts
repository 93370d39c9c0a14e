import { describe, expect, it } from 'vitest';
import { renderAlertmanager } from '../../../../src/core/notify/render-alertmanager.js';
import { renderEmail } from '../../../../src/core/notify/render-email.js';
import { renderSlack } from '../../../../src/core/notify/render-slack.js';
import { renderWebhook } from '../../../../src/core/notify/render-webhook.js';
import { messageIdOf, reportUrlOf } from '../../../../src/core/notify/notification-group.js';
import { signatureOf, verifySignature } from '../../../../src/core/notify/webhook-signature.js';
import { driftAlert, T0 } from './fixtures.js';

const burst = Array.from({ length: 12 }, (_, i) => driftAlert({ alertId: `a-${i}`, feature: `f${i}` }));
const group = { channelId: 'c', records: burst, reportBaseUrl: 'https://drift.example.com' };

describe('rendering', () => {
  it('links the report of the model at the end of the window', () => {
    expect(reportUrlOf('https://drift.example.com/base', driftAlert())).toBe(`https://drift.example.com/base/api/v1/models/credit-risk/report?window=1m&at=${encodeURIComponent(new Date(T0 + 60_000).toISOString())}`);
    expect(reportUrlOf(undefined, driftAlert())).toBeUndefined();
  });

  it('makes one CloudEvent of a burst, with a message id that does not depend on order', () => {
    const id = messageIdOf('c', ['k2', 'k1']);
    expect(messageIdOf('c', ['k1', 'k2'])).toBe(id);
    expect(messageIdOf('d', ['k1', 'k2'])).not.toBe(id);
    const e = renderWebhook(group, id, T0) as { specversion: string; id: string; type: string; data: { alerts: { alertId: string; reportUrl: string }[] } };
    expect(e).toMatchObject({ specversion: '1.0', id, source: '/driftstream/notify', type: 'io.driftstream.alert.firing', subject: 'credit-risk', datacontenttype: 'application/json' });
    expect(e.data.alerts).toHaveLength(12);
    expect(e.data.alerts[0].reportUrl).toMatch(/^https:\/\/drift.example.com\/api\/v1\/models\/credit-risk\/report\?window=1m&at=/);
  });

  it('makes one Slack message with a section per feature, the window and a report button', () => {
    const m = renderSlack(group) as { text: string; blocks: { type: string; fields?: { text: string }[]; elements?: { url?: string }[] }[] };
    expect(m.text).toBe('[WARNING] credit-risk: 12 alerts in window 1m');
    const sections = m.blocks.filter((b) => b.type === 'section');
    expect(sections).toHaveLength(12);
    expect(sections[0].fields!.map((f) => f.text)).toEqual(['*Feature*\nf0', '*Statistic*\nwasserstein = 0.42 (threshold 0.1)', '*Effect*\n0.4', '*Severity*\nWARNING (n=1200)']);
    expect(m.blocks.at(-1)!.elements![0].url).toContain('/report?window=1m');
    const many = renderSlack({ channelId: 'c', records: Array.from({ length: 60 }, (_, i) => driftAlert({ alertId: `x${i}` })) }) as { blocks: unknown[] };
    expect(many.blocks.length).toBeLessThanOrEqual(50);
  });

  it('escapes what people name in Slack mrkdwn and in HTML', () => {
    const odd = driftAlert({ feature: '<script>&' });
    const slack = JSON.stringify(renderSlack({ channelId: 'c', records: [odd] }));
    expect(slack).toContain('&lt;script&gt;&amp;');
    const mail = renderEmail({ channelId: 'c', records: [odd] });
    expect(mail.html).toContain('&lt;script&gt;&amp;');
    expect(mail.html).not.toContain('<script>');
    expect(mail.text).toContain('- <script>&: wasserstein = 0.42 (threshold 0.1), effect 0.4, WARNING');
    expect(mail.subject).toBe('driftstream [WARNING] credit-risk: <script>& feature drift in window 1m');
  });

  it('ends the WARNING alert on escalation and both on RESOLVED for Alertmanager', () => {
    const critical = renderAlertmanager({ channelId: 'c', records: [driftAlert({ severity: 'CRITICAL' })] }, T0 + 70_000);
    expect(critical.map((a) => [a.labels.severity, a.endsAt ?? null])).toEqual([
      ['critical', null],
      ['warning', new Date(T0 + 61_000).toISOString()],
    ]);
    expect(critical[0].labels).toMatchObject({ alertname: 'DriftstreamFeatureDrift', model: 'credit-risk', feature: 'income', window: '1m', alert_id: 'a-1' });
    const resolved = renderAlertmanager({ channelId: 'c', records: [driftAlert({ status: 'RESOLVED' })] }, T0 + 70_000);
    expect(resolved.map((a) => a.labels.severity)).toEqual(['warning', 'critical']);
    expect(resolved.every((a) => a.endsAt === new Date(T0 + 61_000).toISOString())).toBe(true);
  });
});

describe('webhook signatures', () => {
  const body = '{"a":1}';
  it('verifies a signature and refuses a tampered body, another secret, a malformed header and a replay', () => {
    const h = signatureOf('s3cret', 1_700_000_000, body);
    expect(verifySignature('s3cret', h, body, 1_700_000_010)).toEqual({ ok: true });
    expect(verifySignature('s3cret', h, '{"a":2}', 1_700_000_010)).toMatchObject({ ok: false, reason: 'signature mismatch' });
    expect(verifySignature('other', h, body, 1_700_000_010)).toMatchObject({ ok: false });
    expect(verifySignature('s3cret', 'v1=abc', body, 1_700_000_010)).toMatchObject({ ok: false, reason: 'malformed signature header' });
    expect(verifySignature('s3cret', h, body, 1_700_000_000 + 3600)).toMatchObject({ ok: false, reason: expect.stringContaining('replay') });
    expect(verifySignature('s3cret', undefined, body, 1)).toMatchObject({ ok: false });
  });
});
