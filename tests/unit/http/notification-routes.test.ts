import { describe, expect, it } from 'vitest';
import { MemoryChannelRepository, MemoryNotificationLog } from '../../../src/adapters/memory/memory-notification-log.js';
import { toAlertRecord } from '../../../src/core/notify/alert-record.js';
import { KEYS, seededApp, T0 } from './fixtures.js';

const SLACK = { type: 'slack', urlFrom: { env: 'DRIFTSTREAM_NOTIFY_SLACK_URL' }, match: [{ models: ['credit-*'], severities: ['CRITICAL'] }], quietHours: { start: '22:00', end: '07:00', timeZone: 'Europe/Berlin' } };

async function app() {
  const channels = new MemoryChannelRepository();
  const notifications = new MemoryNotificationLog();
  const t = await seededApp({ channels, notifications });
  return { ...t, channels, notifications };
}

describe('channels and notifications routes', () => {
  it('stores a channel for an editor, answers 201 then 200, and never a reader', async () => {
    const { app: a, channels } = await app();
    const put = (key: string, body: unknown) => a.inject({ method: 'PUT', url: '/api/v1/channels/ml-oncall', headers: { 'x-api-key': key }, payload: body as object });
    expect((await put(KEYS.reader, SLACK)).statusCode).toBe(403);
    expect((await a.inject({ method: 'PUT', url: '/api/v1/channels/ml-oncall', payload: SLACK })).statusCode).toBe(401);
    const created = await put(KEYS.editor, SLACK);
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ id: 'ml-oncall', source: 'api', version: 1, config: { id: 'ml-oncall', type: 'slack', urlFrom: { env: 'DRIFTSTREAM_NOTIFY_SLACK_URL' }, groupWait: '2s' } });
    expect((await put(KEYS.editor, { ...SLACK, groupWait: '5s' })).statusCode).toBe(200);
    expect((await channels.get('ml-oncall'))?.version).toBe(2);
    const list = await a.inject({ url: '/api/v1/channels' });
    expect(list.json().channels.map((c: { id: string }) => c.id)).toEqual(['ml-oncall']);
    expect((await a.inject({ url: '/api/v1/channels/ml-oncall' })).json().config.groupWait).toBe('5s');
  });

  it('refuses a secret in the body, an invalid channel and a mismatched id with the documented codes, echoing no secret', async () => {
    const { app: a } = await app();
    const put = (id: string, body: unknown) => a.inject({ method: 'PUT', url: `/api/v1/channels/${id}`, headers: { 'x-api-key': KEYS.editor }, payload: body as object });
    const secret = await put('hooks', { type: 'webhook', url: 'https://hooks.example.com/x', secret: 'sup3r-s3cret-value' });
    expect(secret.statusCode).toBe(400);
    expect(secret.json()).toMatchObject({ code: 'CHANNEL_INVALID', message: expect.stringContaining('secretFrom') });
    expect(secret.body).not.toContain('sup3r-s3cret-value');
    const slackUrl = await put('s', { type: 'slack', url: 'https://hooks.slack.com/services/T000/B000/XXXXSECRET' });
    expect(slackUrl.json().code).toBe('CHANNEL_INVALID');
    expect(slackUrl.body).not.toContain('XXXXSECRET');
    expect((await put('hooks', { id: 'other', type: 'webhook', url: 'https://h/' })).json().code).toBe('CHANNEL_ID_MISMATCH');
    expect((await put('hooks', { type: 'webhook', url: 'https://h/', retry: { maxAttempts: 0 } })).json()).toMatchObject({ code: 'CHANNEL_INVALID', message: 'channel.retry.maxAttempts: expected an integer from 1 to 100' });
    expect((await put('bad%20id', { type: 'webhook', url: 'https://h/' })).statusCode).toBe(400);
    expect((await a.inject({ url: '/api/v1/channels/none' })).json().code).toBe('CHANNEL_NOT_FOUND');
    expect((await a.inject({ method: 'DELETE', url: '/api/v1/channels/none', headers: { 'x-api-key': KEYS.editor } })).json().code).toBe('CHANNEL_NOT_FOUND');
  });

  it('serves the delivery log newest first with filters and a cursor, and requeues dead letters for an editor', async () => {
    const { app: a, notifications } = await app();
    const record = (i: number) => toAlertRecord({ alertId: `a-${i}`, modelId: i % 2 ? 'credit-risk' : 'fraud', kind: 'FEATURE_DRIFT', severity: 'WARNING' }, T0);
    await notifications.enqueue(Array.from({ length: 5 }, (_, i) => ({ channelId: 'hooks', record: record(i), groupKey: `g${i}`, dueAt: T0 })));
    const claimed = await notifications.claimDue(['hooks'], 'o', T0, 1000, 10);
    await notifications.markDead([claimed[0].id], 'o', 'receiver answered 400: bad');
    const page1 = (await a.inject({ url: '/api/v1/notifications?limit=3' })).json();
    expect(page1.notifications.map((n: { alertId: string }) => n.alertId)).toEqual(['a-4', 'a-3', 'a-2']);
    const page2 = (await a.inject({ url: `/api/v1/notifications?limit=3&cursor=${page1.nextCursor}` })).json();
    expect(page2.notifications.map((n: { alertId: string }) => n.alertId)).toEqual(['a-1', 'a-0']);
    expect(page2.nextCursor).toBeNull();
    const dead = (await a.inject({ url: '/api/v1/notifications?state=dead' })).json().notifications;
    expect(dead).toMatchObject([{ alertId: 'a-0', state: 'dead', attempts: 1, lastError: 'receiver answered 400: bad' }]);
    expect((await a.inject({ url: '/api/v1/notifications?modelId=fraud' })).json().notifications).toHaveLength(3);
    expect((await a.inject({ url: '/api/v1/notifications?cursor=xyz' })).json().code).toBe('INVALID_CURSOR');
    expect((await a.inject({ url: '/api/v1/notifications?state=lost' })).statusCode).toBe(400);
    expect((await a.inject({ method: 'POST', url: '/api/v1/notifications/retry', headers: { 'x-api-key': KEYS.reader }, payload: {} })).statusCode).toBe(403);
    const retry = await a.inject({ method: 'POST', url: '/api/v1/notifications/retry', headers: { 'x-api-key': KEYS.editor }, payload: { channelId: 'hooks' } });
    expect(retry.json()).toEqual({ requeued: 1 });
    expect((await a.inject({ url: '/api/v1/notifications?state=dead' })).json().notifications).toEqual([]);
  });
});
