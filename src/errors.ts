/**
 * One error root for the whole project. Every error carries a stable `code`
 * (documented in docs/errors.md), whether retrying may help (`retriable`) and
 * the underlying `cause`. Callers branch on `code` or `retriable`; subclasses
 * exist only where a caller needs to catch a family.
 */
export class DriftstreamError extends Error {
  readonly code: string;
  readonly retriable: boolean;

  constructor(code: string, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** The environment or a configuration file holds a value that cannot be used. */
export class ConfigError extends DriftstreamError {
  constructor(message: string, options: { cause?: unknown; code?: string } = {}) {
    super(options.code ?? 'CONFIG_INVALID', message, { retriable: false, cause: options.cause });
  }
}

/**
 * A record could not be turned into an event. `reason` is a short machine
 * readable tag that becomes the `driftstream-error` DLQ header prefix and the
 * `reason` label of `driftstream_events_invalid_total`.
 */
export class DecodeError extends DriftstreamError {
  readonly reason: DecodeReason;
  constructor(reason: DecodeReason, message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(options.retriable ? 'DECODE_RETRIABLE' : 'DECODE_FAILED', message, options);
    this.reason = reason;
  }
}

export type DecodeReason =
  | 'empty_value'
  | 'oversize'
  | 'bad_json'
  | 'bad_wire_format'
  | 'unknown_schema'
  | 'avro_decode'
  | 'invalid_event'
  | 'type_mismatch'
  | 'unknown_model'
  | 'registry_unavailable'
  | 'value_too_long'
  | 'control_character';

/** A request or a value failed validation; maps to HTTP 400. */
export class ValidationError extends DriftstreamError {
  constructor(message: string, options: { cause?: unknown; code?: string } = {}) {
    super(options.code ?? 'VALIDATION_FAILED', message, { retriable: false, cause: options.cause });
  }
}

/** A dependency (Kafka, Redis, PostgreSQL, the registry) is unreachable; retry later. */
export class UnavailableError extends DriftstreamError {
  readonly dependency: string;
  constructor(dependency: string, message: string, options: { cause?: unknown } = {}) {
    super('DEPENDENCY_UNAVAILABLE', message, { retriable: true, cause: options.cause });
    this.dependency = dependency;
  }
}

/**
 * State written before a checkpoint (pane partials handed to the coordinator)
 * could not be confirmed on the replicas (a failover, or the store went away
 * meanwhile), so a failover may have lost it. The checkpoint was not written;
 * the partition must start again from its last checkpoint, whose records are
 * read again and whose partials are written again.
 */
export class ReplicationUnconfirmedError extends UnavailableError {}

/**
 * A checkpoint was not written because the stored one is further along the
 * partition: another owner (after a rebalance this processor has not heard of
 * yet) went on and checkpointed past it. Writing it would move the partition's
 * state back behind offsets already committed, and lose what it held. The
 * partition's state here is stale: drop it; its next batch starts from the
 * stored checkpoint.
 */
export class CheckpointSupersededError extends DriftstreamError {
  constructor(topic: string, partition: number, offset: string, stored: string) {
    super('CHECKPOINT_SUPERSEDED', `checkpoint of ${topic}/${partition} at ${offset} not written: the stored one is further, at ${stored} (another owner went on)`, { retriable: false });
  }
}

export function isRetriable(err: unknown): boolean {
  return err instanceof DriftstreamError && err.retriable;
}
