import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StreamMetrics } from '../ports/metrics.js';
import { ModelSeriesAdmission } from './model-series.js';

/**
 * The prom-client registry and every metric driftstream exports. Names carry
 * the `driftstream_` prefix; labels are bounded (models, features and windows
 * come from configuration, reasons from a fixed list).
 */
export interface Metrics extends StreamMetrics {
  readonly registry: Registry;
  readonly eventsConsumed: Counter<'model'>;
  readonly eventsInvalid: Counter<'reason'>;
  readonly eventsLate: Counter<'model'>;
  readonly dlqRecords: Counter<'topic' | 'reason'>;
  readonly alerts: Counter<'model' | 'kind' | 'severity'>;
  readonly driftStatistic: Gauge<'model' | 'feature' | 'window' | 'statistic'>;
  readonly driftSeverity: Gauge<'model' | 'feature' | 'window'>;
  readonly evaluations: Counter<'model' | 'window'>;
  readonly consumerLag: Gauge<'topic' | 'partition'>;
  readonly processingLag: Gauge<'topic' | 'partition'>;
  readonly checkpointDuration: Histogram<'outcome'>;
  readonly labelsJoined: Counter<'model'>;
  readonly labelsUnmatched: Counter<'reason'>;
  readonly labelJoinEvicted: Counter<'model'>;
  readonly labelJoinRecording: Gauge<'model'>;
  readonly labelCoverage: Gauge<'model' | 'window'>;
  readonly performanceMetric: Gauge<'model' | 'window' | 'metric'>;
  readonly historyBuffered: Gauge;
  readonly dependencyUp: Gauge<'dependency'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly httpLimitRejections: Counter<'limit'>;
  readonly publishRejected: Counter<'topic' | 'reason'>;
  readonly dlqTruncated: Counter<'topic'>;
  readonly evaluationsTruncated: Counter;
  readonly limitHits: Counter<'limit'>;
  readonly duplicates: Counter;
  readonly partitionStalled: Gauge<'topic' | 'partition'>;
  readonly modelsBeyondSeriesLimit: Gauge;
  /**
   * The `model` label value of a model: its id for the `maxModelSeries` models with the most
   * traffic ({@link ModelSeriesAdmission}), {@link OTHER_MODEL} for the rest (their counters add
   * up there; gauges of theirs are not exported). `events` is the traffic being reported.
   */
  modelLabel(modelId: string, events?: number): string;
}

/** The `model` label of the models beyond the per-model series limit. */
export const OTHER_MODEL = '__other__';

/** Models with their own series by default (DRIFTSTREAM_METRICS_MAX_MODELS). */
export const DEFAULT_MAX_MODEL_SERIES = 100;

/** How often the models with their own series are re-ranked by traffic. */
export const MODEL_SERIES_RERANK_MS = 60_000;

export interface MetricsOptions {
  defaultMetrics?: boolean;
  maxModelSeries?: number;
  /** Re-ranking period of the per-model series (default {@link MODEL_SERIES_RERANK_MS}). */
  rerankMs?: number;
  now?: () => number;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'driftstream_process_' });
  const metrics = createMetricSet([registry]);
  const admission = new ModelSeriesAdmission(options.maxModelSeries ?? DEFAULT_MAX_MODEL_SERIES, options.rerankMs ?? MODEL_SERIES_RERANK_MS, options.now);
  const modelLabel = (modelId: string, events = 0): string => {
    admission.note(modelId, events);
    const { demoted } = admission.rerank();
    if (demoted.length > 0) void removeModelSeries(metrics, new Set(demoted));
    metrics.modelsBeyondSeriesLimit.set(admission.beyond);
    return admission.has(modelId) ? modelId : OTHER_MODEL;
  };
  return { registry, modelLabel, ...metrics };
}

/** Removes every series of the demoted models; their counts go on under {@link OTHER_MODEL}. */
async function removeModelSeries(metrics: MetricSet, models: ReadonlySet<string>): Promise<void> {
  // Every counter and gauge with a `model` label (prom-client keeps the names it was given).
  const withModel = Object.values(metrics).filter(
    (m): m is Counter<string> | Gauge<string> => (m instanceof Counter || m instanceof Gauge) && ((m as { labelNames?: string[] }).labelNames ?? []).includes('model'),
  );
  for (const metric of withModel) {
    const { values } = await metric.get();
    for (const v of values) if (models.has(String(v.labels.model))) metric.remove(v.labels as Record<string, string>);
  }
}

type MetricSet = Omit<Metrics, 'registry' | 'modelLabel'>;

function createMetricSet(registers: Registry[]): MetricSet {
  return {
    eventsConsumed: new Counter({ name: 'driftstream_events_consumed_total', help: 'Inference events counted into windows.', labelNames: ['model'], registers }),
    eventsInvalid: new Counter({ name: 'driftstream_events_invalid_total', help: 'Records that could not be decoded or validated.', labelNames: ['reason'], registers }),
    eventsLate: new Counter({ name: 'driftstream_events_late_total', help: 'Events that arrived after their pane closed.', labelNames: ['model'], registers }),
    dlqRecords: new Counter({ name: 'driftstream_dlq_records_total', help: 'Records written to the dead-letter topic.', labelNames: ['topic', 'reason'], registers }),
    alerts: new Counter({ name: 'driftstream_alerts_total', help: 'Alert records published.', labelNames: ['model', 'kind', 'severity'], registers }),
    driftStatistic: new Gauge({ name: 'driftstream_drift_statistic', help: 'Latest value of a drift statistic.', labelNames: ['model', 'feature', 'window', 'statistic'], registers }),
    driftSeverity: new Gauge({ name: 'driftstream_drift_severity', help: 'Latest severity of a feature: 0 none, 1 warning, 2 critical.', labelNames: ['model', 'feature', 'window'], registers }),
    evaluations: new Counter({ name: 'driftstream_evaluations_total', help: 'Window evaluations performed.', labelNames: ['model', 'window'], registers }),
    consumerLag: new Gauge({ name: 'driftstream_consumer_lag', help: 'Records between the committed offset and the partition end.', labelNames: ['topic', 'partition'], registers }),
    processingLag: new Gauge({ name: 'driftstream_processing_lag_seconds', help: 'Wall clock minus the event time of the last processed record.', labelNames: ['topic', 'partition'], registers }),
    checkpointDuration: new Histogram({ name: 'driftstream_checkpoint_duration_seconds', help: 'Time to checkpoint partition state.', labelNames: ['outcome'], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers }),
    labelsJoined: new Counter({ name: 'driftstream_labels_joined_total', help: 'Labels joined to their inference.', labelNames: ['model'], registers }),
    labelsUnmatched: new Counter({ name: 'driftstream_labels_unmatched_total', help: 'Labels without a live inference.', labelNames: ['reason'], registers }),
    labelJoinRecording: new Gauge({ name: 'driftstream_label_join_recording', help: 'Whether inferences of a model are recorded for the label join: 0 once it got no label within the label horizon, 1 again when one arrives.', labelNames: ['model'], registers }),
    labelJoinEvicted: new Counter({ name: 'driftstream_label_join_evicted_total', help: 'Inferences the in-memory label join dropped before the label horizon because it was full.', labelNames: ['model'], registers }),
    labelCoverage: new Gauge({ name: 'driftstream_label_coverage', help: 'Labelled share of predictions in the latest window.', labelNames: ['model', 'window'], registers }),
    performanceMetric: new Gauge({ name: 'driftstream_performance', help: 'Latest model performance metric.', labelNames: ['model', 'window', 'metric'], registers }),
    historyBuffered: new Gauge({ name: 'driftstream_history_buffered', help: 'Rows waiting to be written to PostgreSQL.', registers }),
    dependencyUp: new Gauge({ name: 'driftstream_dependency_up', help: '1 when a dependency answers, 0 when it does not.', labelNames: ['dependency'], registers }),
    httpDuration: new Histogram({ name: 'driftstream_http_request_duration_seconds', help: 'HTTP request duration.', labelNames: ['method', 'route', 'status'], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers }),
    httpLimitRejections: new Counter({ name: 'driftstream_http_limit_rejections_total', help: 'HTTP requests refused by a configured limit, by limit (docs/operations.md, limits and failure modes).', labelNames: ['limit'], registers }),
    publishRejected: new Counter({ name: 'driftstream_publish_rejected_total', help: 'Records the broker refused for good (too large, invalid); logged with their model and window, never retried.', labelNames: ['topic', 'reason'], registers }),
    dlqTruncated: new Counter({ name: 'driftstream_dlq_truncated_total', help: 'Dead-lettered records whose value was cut to fit the DLQ topic.', labelNames: ['topic'], registers }),
    evaluationsTruncated: new Counter({ name: 'driftstream_evaluations_truncated_total', help: 'Evaluations published without their per-feature detail because they exceeded the evaluation size limit.', registers }),
    limitHits: new Counter({ name: 'driftstream_limit_hits_total', help: 'Times a configured limit refused or cut something, by limit (docs/operations.md).', labelNames: ['limit'], registers }),
    duplicates: new Counter({ name: 'driftstream_duplicate_events_total', help: 'Inference events dropped as duplicates of an eventId seen within the de-duplication window.', registers }),
    partitionStalled: new Gauge({ name: 'driftstream_partition_stalled', help: '1 while a partition has records waiting and has made no progress for the stall timeout.', labelNames: ['topic', 'partition'], registers }),
    modelsBeyondSeriesLimit: new Gauge({ name: 'driftstream_models_beyond_series_limit', help: 'Models with recent traffic that report under model="__other__" because more models report than DRIFTSTREAM_METRICS_MAX_MODELS.', registers }),
  };
}
