/**
 * The metrics the stream layer records, by role; src/observability/metrics.ts
 * implements them with prom-client (its `Metrics` extends {@link StreamMetrics}).
 * Recording never throws and never blocks.
 */

/** Label values of one series. */
export type MetricLabels<L extends string> = Partial<Record<L, string | number>>;

export interface CounterMetric<L extends string> {
  inc(labels: MetricLabels<L>, value?: number): void;
}

export interface UnlabelledCounterMetric {
  inc(value?: number): void;
}

export interface GaugeMetric<L extends string> {
  set(labels: MetricLabels<L>, value: number): void;
}

export interface HistogramMetric<L extends string> {
  observe(labels: MetricLabels<L>, value: number): void;
}

export interface StreamMetrics {
  readonly eventsConsumed: CounterMetric<'model'>;
  readonly eventsInvalid: CounterMetric<'reason'>;
  readonly eventsLate: CounterMetric<'model'>;
  readonly dlqRecords: CounterMetric<'topic' | 'reason'>;
  readonly alerts: CounterMetric<'model' | 'kind' | 'severity'>;
  readonly driftStatistic: GaugeMetric<'model' | 'feature' | 'window' | 'statistic'>;
  readonly driftSeverity: GaugeMetric<'model' | 'feature' | 'window'>;
  readonly evaluations: CounterMetric<'model' | 'window'>;
  readonly processingLag: GaugeMetric<'topic' | 'partition'>;
  readonly checkpointDuration: HistogramMetric<'outcome'>;
  readonly labelsJoined: CounterMetric<'model'>;
  readonly labelsUnmatched: CounterMetric<'reason'>;
  readonly labelJoinEvicted: CounterMetric<'model'>;
  readonly labelJoinRecording: GaugeMetric<'model'>;
  readonly labelCoverage: GaugeMetric<'model' | 'window'>;
  readonly performanceMetric: GaugeMetric<'model' | 'window' | 'metric'>;
  readonly limitHits: CounterMetric<'limit'>;
  readonly duplicates: UnlabelledCounterMetric;
  /**
   * The `model` label value of a model: bounded, so many models do not mean unbounded series.
   * `events` is the traffic being reported with it, by which the models with series are chosen.
   */
  modelLabel(modelId: string, events?: number): string;
}
