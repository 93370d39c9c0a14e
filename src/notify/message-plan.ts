import { quietHoursRelease } from '../core/notify/delivery-timing.js';
import type { ChannelConfig } from '../core/notify/channel-config.js';
import type { ClaimedNotification } from '../ports/notification-log.js';

/** Notifications that travel as one message, and those quiet hours hold back. */
export interface MessagePlan {
  readonly messages: ClaimedNotification[][];
  /** Held back until the time given (quiet hours). */
  readonly deferred: { readonly rows: ClaimedNotification[]; readonly until: number }[];
}

/**
 * Cuts one channel's claimed notifications into messages: those already
 * assigned to a message keep it (a resend is the same message); the others
 * go by burst (group key), at most `maxPerMessage` to a message, after quiet
 * hours hold back the ones whose severity may not go now.
 */
export function planMessages(channel: ChannelConfig, rows: readonly ClaimedNotification[], now: number, maxPerMessage: number): MessagePlan {
  const assigned = new Map<string, ClaimedNotification[]>();
  const fresh = new Map<string, ClaimedNotification[]>();
  const held = new Map<number, ClaimedNotification[]>();
  for (const r of rows) {
    if (r.messageId) {
      assigned.set(r.messageId, [...(assigned.get(r.messageId) ?? []), r]);
      continue;
    }
    const release = quietHoursRelease(channel.policy.quietHours, r.severity, now);
    if (release > now) held.set(release, [...(held.get(release) ?? []), r]);
    else fresh.set(r.groupKey, [...(fresh.get(r.groupKey) ?? []), r]);
  }
  const messages = [...assigned.values()];
  for (const group of fresh.values()) {
    const sorted = [...group].sort((a, b) => a.alertId.localeCompare(b.alertId) || a.status.localeCompare(b.status) || a.severity.localeCompare(b.severity));
    for (let i = 0; i < sorted.length; i += maxPerMessage) messages.push(sorted.slice(i, i + maxPerMessage));
  }
  return { messages, deferred: [...held.entries()].map(([until, r]) => ({ rows: r, until })) };
}
