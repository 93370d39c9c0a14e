/** A partition that has records waiting and has made no progress for the stall timeout. */
export interface StalledPartition {
  topic: string;
  partition: number;
  /** Records between the partition's position and its end (high watermark). */
  lag: number;
  /** How long the position has not moved. */
  stalledForMs: number;
}

/**
 * How the stream is doing, for /readyz: partitions stalled with records
 * waiting, and dependencies the detector is waiting out right now (a publish
 * or write retried with backoff). Fed by the detector; read by the HTTP service.
 */
export interface StreamProgress {
  stalledPartitions(): StalledPartition[];
  /** Dependencies currently being retried (e.g. `kafka` while an evaluation cannot be published). */
  waitingFor(): string[];
  /** Dependencies that answer but refuse what the detector needs until an operator acts (retried meanwhile). */
  refusals?(): DependencyRefusal[];
}

/** A dependency refusing something for good until it is reconfigured, e.g. the registry refusing the DriftAlert schema. */
export interface DependencyRefusal {
  dependency: string;
  /** The error code, e.g. `SCHEMA_INCOMPATIBLE`. */
  code: string;
  message: string;
}
