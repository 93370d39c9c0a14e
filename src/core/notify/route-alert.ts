import type { AlertRecord } from './alert-record.js';
import type { ChannelConfig, Matcher } from './channel-config.js';

/** `*` matches any run of characters; everything else is literal. */
export function globMatches(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  const parts = pattern.split('*');
  if (!value.startsWith(parts[0]) || !value.endsWith(parts[parts.length - 1])) return false;
  let at = parts[0].length;
  for (const part of parts.slice(1, -1)) {
    const i = value.indexOf(part, at);
    if (i < 0) return false;
    at = i + part.length;
  }
  return at <= value.length - parts[parts.length - 1].length;
}

export function matcherMatches(m: Matcher, r: AlertRecord): boolean {
  if (m.models && !m.models.some((p) => globMatches(p, r.modelId))) return false;
  if (m.kinds && !m.kinds.includes(r.kind)) return false;
  if (m.severities && !m.severities.includes(r.severity)) return false;
  if (m.statuses && !m.statuses.includes(r.status)) return false;
  if (m.labels && !Object.entries(m.labels).every(([k, v]) => r.labels[k] !== undefined && globMatches(v, r.labels[k]))) return false;
  return true;
}

/** The enabled channels whose rules take the record (a channel without rules takes every record). */
export function routeAlert(channels: readonly ChannelConfig[], r: AlertRecord): ChannelConfig[] {
  return channels.filter((c) => c.enabled && (c.match.length === 0 || c.match.some((m) => matcherMatches(m, r))));
}

/**
 * The key of what a channel sends once: one incident's status at one severity.
 * A replayed record, a second replica or a restart find the same key.
 */
export function deliveryKeyOf(channelId: string, r: { readonly alertId: string; readonly status: string; readonly severity: string }): string {
  return `${channelId}|${r.alertId}|${r.status}|${r.severity}`;
}

/** Records of one model, window and status travel together: a burst of 12 features is one message. */
export function groupKeyOf(r: AlertRecord): string {
  return [r.modelId, r.kind === 'RETRAIN_RECOMMENDED' ? r.kind : 'drift', r.windowName ?? '-', r.windowStart ?? '-', r.status].join('|');
}
