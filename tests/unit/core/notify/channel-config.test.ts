import { describe, expect, it } from 'vitest';
import { channelConfigToJson, parseChannelConfig, parseChannelList } from '../../../../src/core/notify/channel-config.js';

describe('parseChannelConfig', () => {
  it('reads a channel with its defaults and round-trips through its JSON form', () => {
    const c = parseChannelConfig({ id: 'hooks', type: 'webhook', url: 'https://hooks.example.com/drift', secretFrom: { env: 'DRIFTSTREAM_NOTIFY_HOOK_SECRET' }, retry: { maxAttempts: 3, baseDelay: '200ms' } });
    expect(c.policy.maxAttempts).toBe(3);
    expect(c.policy.baseDelayMs).toBe(200);
    expect(c.policy.groupWaitMs).toBe(2000);
    expect(parseChannelConfig(channelConfigToJson(c))).toEqual(c);
  });

  it.each([
    [{ id: 'x', type: 'webhook', url: 'https://h', secret: 'abc' }, /secrets are read from the environment/],
    [{ id: 'x', type: 'slack', url: 'https://hooks.slack.com/services/T/B/X' }, /Slack webhook URL is a secret/],
    [{ id: 'x', type: 'webhook', url: 'https://user:pw@h/' }, /credentials in a URL/],
    [{ id: 'x', type: 'webhook', url: 'ftp://h/' }, /http or https/],
    [{ id: 'x', type: 'webhook', urlFrom: { env: 'DRIFTSTREAM_DATABASE_URL' } }, /DRIFTSTREAM_NOTIFY_/],
    [{ id: 'x', type: 'webhook', urlFrom: { file: '/run/secrets/../etc/passwd' } }, /without \.\./],
    [{ id: 'x', type: 'email', smtp: { host: 'mail', from: 'a@b', to: ['c@d'], password: 'pw' } }, /passwordFrom/],
    [{ id: 'x', type: 'email', url: 'https://h' }, /smtp, not url/],
    [{ id: 'x', type: 'pager', url: 'https://h' }, /type: expected one of/],
    [{ id: 'bad id', type: 'webhook', url: 'https://h' }, /id: expected an id/],
    [{ id: 'x', type: 'webhook', url: 'https://h', quietHours: { start: '25:00', end: '07:00' } }, /start: expected HH:MM/],
    [{ id: 'x', type: 'webhook', url: 'https://h', quietHours: { start: '22:00', end: '07:00', timeZone: 'Mars/Olympus' } }, /unknown time zone/],
    [{ id: 'x', type: 'webhook', url: 'https://h', match: [{ statuses: ['OPEN'] }] }, /FIRING and\/or RESOLVED/],
    [{ id: 'x', type: 'webhook', url: 'https://h', retry: { baseDelay: '5s', maxDelay: '1s' } }, /maxDelay: must be at least/],
    [{ id: 'x', type: 'webhook', url: 'https://h', colour: 'red' }, /colour: unknown field/],
  ])('refuses %j', (value, message) => {
    expect(() => parseChannelConfig(value)).toThrow(message);
    try {
      parseChannelConfig(value);
    } catch (err) {
      expect((err as { code: string }).code).toBe('CHANNEL_INVALID');
    }
  });

  it('refuses duplicate ids in a list and names the file', () => {
    const c = { id: 'a', type: 'webhook', url: 'https://h' };
    expect(() => parseChannelList([c, c], 'models.yaml')).toThrow(/models.yaml: channels\[1\].id: duplicate channel "a"/);
    expect(parseChannelList(undefined, 'f')).toEqual([]);
  });
});
