import { describe, expect, it } from 'vitest';
import { isRetriableStatus, postJson, retryAfterMsOf } from '../../../../src/adapters/webhook/http-post.js';

describe('http-post', () => {
  it('reads Retry-After in seconds or as a date, capped at an hour', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(retryAfterMsOf('3', now)).toBe(3000);
    expect(retryAfterMsOf(new Date(now + 10_000).toUTCString(), now)).toBe(10_000);
    expect(retryAfterMsOf('999999', now)).toBe(3_600_000);
    expect(retryAfterMsOf('soon', now)).toBeUndefined();
    expect(retryAfterMsOf(null, now)).toBeUndefined();
  });

  it('retries 5xx, 408, 425 and 429 only', () => {
    expect([500, 502, 503, 408, 425, 429].every(isRetriableStatus)).toBe(true);
    expect([400, 401, 403, 404, 410, 301].some(isRetriableStatus)).toBe(false);
  });

  it('never puts the URL in an error: it may be a secret', async () => {
    const secretUrl = 'not a url /services/T000/B000/XXXXSECRET';
    const err = await postJson({ url: secretUrl, headers: {}, body: '{}', timeoutMs: 1000 }).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'NOTIFICATION_UNDELIVERED', retriable: true });
    expect((err as Error).message).not.toContain('XXXXSECRET');
  });
});
