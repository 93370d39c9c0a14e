import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { NotifyMetrics } from '../notify/notify-metrics.js';

/** The notifier's metrics, registered once per process on the service's registry (served at /metrics). */
export function createNotifyMetrics(registry: Registry): NotifyMetrics {
  return {
    notifications: new Counter({ name: 'driftstream_notifications_total', help: 'Notifications (one per channel and alert record) by outcome', labelNames: ['channel', 'outcome'], registers: [registry] }),
    messages: new Counter({ name: 'driftstream_notification_messages_total', help: 'Messages sent to channels (one may carry a burst of alerts) by outcome: delivered, failed, refused', labelNames: ['channel', 'outcome'], registers: [registry] }),
    deliverySeconds: new Histogram({ name: 'driftstream_notification_delivery_seconds', help: 'Time a channel took to accept a message', labelNames: ['channel'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] }),
    breakerOpen: new Gauge({ name: 'driftstream_notification_breaker_open', help: '1 while the channel\'s circuit breaker is open', labelNames: ['channel'], registers: [registry] }),
    recordsInvalid: new Counter({ name: 'driftstream_notify_records_invalid_total', help: 'Alerts-topic records the notifier could not read, by reason', labelNames: ['reason'], registers: [registry] }),
  };
}
