import type { CounterMetric, GaugeMetric, HistogramMetric } from '../ports/metrics.js';

/** Outcomes counted per channel (`driftstream_notifications_total{channel,outcome}`). */
export type NotifyOutcome = 'enqueued' | 'duplicate' | 'delivered' | 'retried' | 'dead' | 'deferred_quiet_hours' | 'deferred_rate_limit' | 'deferred_breaker_open';

/** What the notifier records; src/observability/notify-metrics.ts implements it with prom-client. */
export interface NotifyMetrics {
  /** Notifications (one per channel and record) by outcome. */
  readonly notifications: CounterMetric<'channel' | 'outcome'>;
  /** Messages sent (a message carries a burst), by outcome: delivered, failed, refused. */
  readonly messages: CounterMetric<'channel' | 'outcome'>;
  readonly deliverySeconds: HistogramMetric<'channel'>;
  /** 1 while the channel's circuit breaker is open. */
  readonly breakerOpen: GaugeMetric<'channel'>;
  /** Alerts-topic records that are not alerts (counted, logged, skipped). */
  readonly recordsInvalid: CounterMetric<'reason'>;
}
