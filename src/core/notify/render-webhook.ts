import type { NotificationGroup } from './notification-group.js';
import { reportUrlOf, severityOf } from './notification-group.js';

/** CloudEvents 1.0 in structured mode: the whole event is the JSON body. */
export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';

/**
 * The webhook body: one CloudEvent per message (`id` is the message id, the
 * same on every retry), its `data` the alert records as published, each with
 * its report link.
 */
export function renderWebhook(g: NotificationGroup, messageId: string, now: number): Record<string, unknown> {
  const first = g.records[0];
  return {
    specversion: '1.0',
    id: messageId,
    source: '/driftstream/notify',
    type: `io.driftstream.${first.kind === 'RETRAIN_RECOMMENDED' ? 'retrain.recommended' : first.status === 'RESOLVED' ? 'alert.resolved' : 'alert.firing'}`,
    subject: first.modelId,
    time: new Date(now).toISOString(),
    datacontenttype: 'application/json',
    data: {
      channel: g.channelId,
      modelId: first.modelId,
      status: first.status,
      severity: severityOf(g.records),
      windowName: first.windowName,
      windowStart: first.windowStart,
      windowEnd: first.windowEnd,
      alerts: g.records.map((r) => ({ ...r.raw, reportUrl: reportUrlOf(g.reportBaseUrl, r) ?? null })),
    },
  };
}
