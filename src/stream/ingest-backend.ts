import type { PartitionWindowsJSON } from '../core/windows/partition-windows.js';
import type { DedupStateJSON } from './event-deduplicator.js';
import { DecodeError } from '../errors.js';
import type { SourceMessage } from '../ports/dead-letter-sink.js';
import type { ValueDecoder } from '../ports/value-decoder.js';
import type { ModelCatalog } from './model-catalog.js';
import {
  PartitionIngest,
  type ClosedReport,
  type IngestRecords,
  type IngestResolution,
  type IngestStep,
  type IngestStop,
  type RestoreReport,
} from './partition-ingest.js';
import type { StreamLimits } from './stream-limits.js';
import { describeUndecodableBatch, undecodableBatchOf } from './undecodable-batch.js';
import type { InferenceSink } from '../ports/inference-sink.js';

/** A partition's windows and de-duplication filter with the offset they run up to (a checkpoint's state). */
export interface IngestSnapshot {
  readonly next: number | undefined;
  readonly windows: PartitionWindowsJSON;
  readonly dedup?: DedupStateJSON;
}

/**
 * Where a partition's per-event work runs: on the main thread
 * ({@link LocalIngest}) or on an ingest worker (src/app/ingest-workers.ts).
 * Either holds the partition's {@link PartitionIngest} and its current batch;
 * the processor settles the stops on the main thread.
 */
export interface IngestBackend {
  /**
   * Starts a batch (`records`), or resumes the current one after a stop
   * (`records` undefined), settling that stop's record with `resolution`.
   */
  run(records: readonly SourceMessage[] | undefined, resolution: IngestResolution | undefined, now: number, failFast: boolean, shouldYield?: () => boolean): Promise<IngestStep>;
  /**
   * Fetches the writer schema of the record a `schema` stop named: `retry`
   * once it is cached, `reject` when the registry does not have it; throws
   * UnavailableError while the registry cannot be reached.
   */
  fetchSchema(index: number): Promise<IngestResolution>;
  close(idle: boolean, now: number, idleTimeoutMs: number): Promise<ClosedReport | undefined>;
  snapshot(): Promise<IngestSnapshot>;
  restore(windows: PartitionWindowsJSON, dedup: DedupStateJSON | undefined, next: number, savedAt: number, now: number): Promise<RestoreReport>;
  /** Lets the partition go. */
  release(): void;
}

/** The records of a batch as the client hands them over. */
export function messageRecords(messages: readonly SourceMessage[], topic: string, partition: number): IngestRecords {
  return {
    length: messages.length,
    offset: (i) => Number(messages[i].offset),
    timestamp: (i) => Number(messages[i].timestamp),
    value: (i) => messages[i].value,
    standIn: (i) => {
      const m = messages[i];
      if (m.headers === undefined) return undefined;
      const b = undecodableBatchOf(m);
      return b === undefined ? undefined : b.first ? describeUndecodableBatch(topic, partition, b) : '';
    },
  };
}

/** A batch being ingested: the records and the stop it waits at. */
export class IngestCursor {
  private records: IngestRecords | undefined;
  private stop: IngestStop | undefined;

  constructor(readonly ingest: PartitionIngest) {}

  get current(): IngestRecords | undefined {
    return this.records;
  }

  run(records: IngestRecords | undefined, resolution: IngestResolution | undefined, now: number, failFast: boolean, shouldYield?: () => boolean): IngestStep {
    let from = 0;
    if (records !== undefined) {
      this.records = records;
      this.ingest.startBatch();
    }
    else if (this.stop !== undefined && this.records !== undefined) {
      from = resolution === undefined ? this.stop.index : this.ingest.settle(this.records, this.stop.index, resolution, now);
    } else return this.ingest.take(undefined);
    const stop = this.records === undefined ? undefined : this.ingest.run(this.records, from, now, failFast, shouldYield);
    this.stop = stop;
    if (stop === undefined) this.records = undefined;
    return this.ingest.take(stop);
  }

  /** The model stop being settled, if that is where the batch waits. */
  get modelStop(): string | undefined {
    return this.stop?.kind === 'model' ? this.stop.event.modelId : undefined;
  }
}

/** One attempt to fetch a record's writer schema into `decoder`'s cache. */
export async function fetchSchemaOf(decoder: Pick<ValueDecoder, 'decode'>, value: Buffer | null | undefined): Promise<IngestResolution> {
  try {
    await decoder.decode(value);
    return { kind: 'retry' };
  } catch (err) {
    if (err instanceof DecodeError) return { kind: 'reject', reason: err.reason, message: err.message };
    throw err;
  }
}

/** Per-event work on the main thread, between the batch's awaits. */
export class LocalIngest implements IngestBackend {
  private readonly cursor: IngestCursor;

  constructor(
    private readonly topic: string,
    private readonly partition: number,
    private readonly decoder: ValueDecoder,
    private readonly catalog: ModelCatalog,
    now: number,
    limits: StreamLimits | undefined,
    dedup: { windowMs: number; capacity: number } | undefined,
    private readonly sink: InferenceSink | undefined,
  ) {
    const onValid = sink ? sink.add.bind(sink) : () => {};
    this.cursor = new IngestCursor(new PartitionIngest(`${topic}/${partition}`, decoder, catalog, now, limits, dedup, onValid));
  }

  async run(records: readonly SourceMessage[] | undefined, resolution: IngestResolution | undefined, now: number, failFast: boolean, shouldYield?: () => boolean): Promise<IngestStep> {
    return this.cursor.run(records && messageRecords(records, this.topic, this.partition), resolution, now, failFast, shouldYield);
  }

  async fetchSchema(index: number): Promise<IngestResolution> {
    return fetchSchemaOf(this.decoder, this.cursor.current?.value(index));
  }

  async close(idle: boolean, now: number, idleTimeoutMs: number): Promise<ClosedReport | undefined> {
    return this.cursor.ingest.close(idle, now, idleTimeoutMs);
  }

  async snapshot(): Promise<IngestSnapshot> {
    return this.cursor.ingest.snapshot();
  }

  async restore(windows: PartitionWindowsJSON, dedup: DedupStateJSON | undefined, next: number, savedAt: number, now: number): Promise<RestoreReport> {
    return this.cursor.ingest.restore(windows, dedup, next, savedAt, now, (m, r) => this.catalog.layoutFor(m, r));
  }

  release(): void {}
}
