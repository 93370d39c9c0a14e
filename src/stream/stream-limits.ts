/**
 * Limits the inference stream enforces per event (docs/operations.md,
 * "Limits and failure modes"). Each refusal goes to the DLQ with its own
 * reason and is counted in `driftstream_events_invalid_total{reason}`.
 */
export interface StreamLimits {
  /** An event time further than this past the record's Kafka timestamp or the wall clock is refused (`future_timestamp`). */
  readonly maxFutureSkewMs: number;
  /** Longest string feature value, prediction or attribute in UTF-8 bytes (`value_too_long`). */
  readonly maxStringBytes: number;
  /** Most features of an auto-registered model's events (`too_many_features`). */
  readonly maxAutoFeatures: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = Object.freeze({
  maxFutureSkewMs: 5 * 60_000,
  maxStringBytes: 1024,
  maxAutoFeatures: 1000,
});
