import { createHash } from 'node:crypto';
import { effectOf, type AlertRecord } from './alert-record.js';

/** What one message carries: the records of one burst (same model, window and status) for one channel. */
export interface NotificationGroup {
  readonly channelId: string;
  readonly records: readonly AlertRecord[];
  /** Base of the links to the drift report (the service's public URL); none: no links. */
  readonly reportBaseUrl?: string;
}

/**
 * The message's id, deterministic in its delivery keys: a retry (or another
 * replica resending after a crash) carries the same id, so a receiver can
 * de-duplicate on it (CloudEvents `id`, the `x-driftstream-delivery` header).
 */
export function messageIdOf(channelId: string, deliveryKeys: readonly string[]): string {
  return createHash('sha256').update(channelId).update('\n').update([...deliveryKeys].sort().join('\n')).digest('hex').slice(0, 32);
}

/** The report of the record's model at the end of its window. */
export function reportUrlOf(base: string | undefined, r: AlertRecord): string | undefined {
  if (!base) return undefined;
  const url = new URL(`api/v1/models/${encodeURIComponent(r.modelId)}/report`, base.endsWith('/') ? base : `${base}/`);
  if (r.windowName) url.searchParams.set('window', r.windowName);
  url.searchParams.set('at', new Date(r.windowEnd ?? r.detectedAt).toISOString());
  return url.toString();
}

/** The group's severity: its highest. */
export function severityOf(records: readonly AlertRecord[]): string {
  return records.some((r) => r.severity === 'CRITICAL') ? 'CRITICAL' : records[0].severity;
}

export function fmt(n: number | null, digits = 3): string {
  if (n === null) return '-';
  return Math.abs(n) >= 1e4 || (n !== 0 && Math.abs(n) < 1e-3) ? n.toExponential(2) : String(Number(n.toPrecision(digits)));
}

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace('.000Z', 'Z'));

export function windowText(r: AlertRecord): string {
  if (r.windowName === null) return '-';
  return `${r.windowName} ${iso(r.windowStart)} – ${iso(r.windowEnd)}`;
}

/** One line per record: what drifted, by which statistic, how much. */
export interface RecordLine {
  readonly subject: string;
  readonly statistic: string;
  readonly value: string;
  readonly effect: string;
  readonly severity: string;
}

export function recordLine(r: AlertRecord): RecordLine {
  return {
    subject: r.feature ?? (r.kind === 'DATASET_DRIFT' ? 'dataset' : r.kind.toLowerCase()),
    statistic: r.statistic ?? '-',
    value: r.threshold === null ? fmt(r.value) : `${fmt(r.value)} (threshold ${fmt(r.threshold)})`,
    effect: fmt(effectOf(r)),
    severity: r.severity,
  };
}

/** A one-line title: status, severity, model, how many and what. */
export function titleOf(g: NotificationGroup): string {
  const first = g.records[0];
  const n = g.records.length;
  const what = first.kind === 'RETRAIN_RECOMMENDED' ? 'retraining recommended' : n === 1 ? `${recordLine(first).subject} ${first.kind.toLowerCase().replace(/_/g, ' ')}` : `${n} alerts`;
  const verb = first.status === 'RESOLVED' ? 'resolved' : severityOf(g.records);
  return `[${verb}] ${first.modelId}: ${what}${first.windowName ? ` in window ${first.windowName}` : ''}`;
}
