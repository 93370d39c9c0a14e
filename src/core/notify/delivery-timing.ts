import type { QuietHours } from './channel-config.js';

/**
 * The wait before attempt `attempt + 1` (attempt counts failures so far, from
 * 1): exponential from `baseMs`, capped at `maxMs`, with full jitter
 * (`random` in [0, 1)), never below half the exponential step so retries do
 * not bunch at zero. A receiver's Retry-After is honoured when longer.
 */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: number, retryAfterMs?: number): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = step / 2 + (step / 2) * random;
  return Math.round(Math.min(maxMs, Math.max(jittered, retryAfterMs ?? 0)));
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
}

/** Minutes since local midnight in `timeZone` at `now`, and the milliseconds into that minute. */
function localClock(now: number, timeZone: string): { minute: number; msIntoMinute: number } {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(now));
  const h = Number(parts.find((p) => p.type === 'hour')!.value);
  const m = Number(parts.find((p) => p.type === 'minute')!.value);
  return { minute: h * 60 + m, msIntoMinute: now % 60_000 };
}

/**
 * When a notification of `severity` may go out: `now` outside quiet hours
 * (or for an allowed severity), else the end of the quiet period.
 */
export function quietHoursRelease(q: QuietHours | undefined, severity: string, now: number): number {
  if (!q || q.allowSeverities.includes(severity)) return now;
  const start = minutesOf(q.start);
  const end = minutesOf(q.end);
  if (start === end) return now;
  const { minute, msIntoMinute } = localClock(now, q.timeZone);
  const inside = start < end ? minute >= start && minute < end : minute >= start || minute < end;
  if (!inside) return now;
  const minutesLeft = (end - minute + 1440) % 1440;
  return now - msIntoMinute + minutesLeft * 60_000;
}
