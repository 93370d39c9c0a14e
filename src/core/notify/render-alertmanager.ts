import type { AlertRecord } from './alert-record.js';
import { effectOf } from './alert-record.js';
import { fmt, recordLine, reportUrlOf, windowText, type NotificationGroup } from './notification-group.js';

/** One alert of Alertmanager's `POST /api/v2/alerts` body. */
export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
}

const TWO_SEVERITIES = ['WARNING', 'CRITICAL'];

function alertname(kind: string): string {
  return `Driftstream${kind.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase())}`;
}

function labelsOf(r: AlertRecord, severity: string): Record<string, string> {
  const labels: Record<string, string> = { alertname: alertname(r.kind), model: r.modelId, alert_id: r.alertId, severity: severity.toLowerCase() };
  if (r.feature) labels.feature = r.feature;
  if (r.windowName) labels.window = r.windowName;
  if (r.statistic) labels.statistic = r.statistic;
  return labels;
}

/**
 * The group as Alertmanager alerts. Alertmanager tells alerts apart by their
 * labels, and `severity` is one: an escalation ends the WARNING alert as the
 * CRITICAL one starts, and a RESOLVED record ends both (`endsAt`).
 */
export function renderAlertmanager(g: NotificationGroup, now: number): AlertmanagerAlert[] {
  const out: AlertmanagerAlert[] = [];
  for (const r of g.records) {
    const l = recordLine(r);
    const annotations = {
      summary: `${r.modelId}: ${l.subject} ${r.kind.toLowerCase().replace(/_/g, ' ')} (${l.statistic} = ${l.value})`,
      description: `window ${windowText(r)}; effect ${fmt(effectOf(r))}`,
    };
    const base = { annotations, startsAt: new Date(r.windowStart ?? r.detectedAt).toISOString(), generatorURL: reportUrlOf(g.reportBaseUrl, r) };
    const ended = new Date(Math.min(now, r.detectedAt)).toISOString();
    if (r.status === 'RESOLVED') {
      const severities = TWO_SEVERITIES.includes(r.severity) ? TWO_SEVERITIES : [r.severity];
      for (const s of severities) out.push({ ...base, labels: labelsOf(r, s), endsAt: ended });
      continue;
    }
    out.push({ ...base, labels: labelsOf(r, r.severity) });
    if (r.severity === 'CRITICAL') out.push({ ...base, labels: labelsOf(r, 'WARNING'), endsAt: ended });
  }
  return out.map((a) => (a.generatorURL === undefined ? { labels: a.labels, annotations: a.annotations, startsAt: a.startsAt, ...(a.endsAt ? { endsAt: a.endsAt } : {}) } : a));
}
