import type { HttpDelivery } from '../../ports/notification-transport.js';
import { DeliveryError } from '../../ports/notification-transport.js';

const MAX_RETRY_AFTER_MS = 3_600_000;

/** Retry-After in seconds or as an HTTP date, in milliseconds from `now`. */
export function retryAfterMsOf(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const s = Number(header);
  const ms = Number.isFinite(s) ? s * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, MAX_RETRY_AFTER_MS) : undefined;
}

/** 408, 425, 429 and 5xx may pass later; other 4xx refuse the message for what it is. */
export function isRetriableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 425 || status === 429;
}

/**
 * POSTs a JSON body with fetch, bounded by the delivery's timeout; a 2xx is
 * accepted, anything else becomes a {@link DeliveryError} with the status and
 * the start of the answer (never the URL: a Slack URL is a secret).
 */
export async function postJson(d: HttpDelivery): Promise<void> {
  let res: Response;
  try {
    res = await fetch(d.url, { method: 'POST', headers: d.headers, body: d.body, signal: AbortSignal.timeout(d.timeoutMs), redirect: 'manual' });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${d.timeoutMs} ms` : (e.cause?.code ?? e.message.replaceAll(d.url, '<url>'));
    throw new DeliveryError(`receiver unreachable: ${why}`, { retriable: true, cause: err });
  }
  const text = (await res.text().catch(() => '')).slice(0, 200).replace(/\s+/g, ' ');
  if (res.status >= 200 && res.status < 300) return;
  throw new DeliveryError(`receiver answered ${res.status}${text ? `: ${text}` : ''}`, {
    retriable: isRetriableStatus(res.status),
    status: res.status,
    retryAfterMs: retryAfterMsOf(res.headers.get('retry-after'), Date.now()),
  });
}
