import type { InferenceEvent } from '../core/events.js';
import type { ModelConfig } from '../core/model/model-config.js';
import { gatherFeatures, type PaneLayout } from '../core/windows/pane-layout.js';
import { PartitionWindows, type PaneParams, type PartitionWindowsJSON } from '../core/windows/partition-windows.js';
import type { PaneJSON } from '../core/windows/pane.js';
import { DecodeError } from '../errors.js';
import type { Decoded, FeatureTarget } from '../ports/value-decoder.js';
import { EventDeduplicator, type DedupStateJSON } from './event-deduplicator.js';
import { DEFAULT_STREAM_LIMITS, type StreamLimits } from './stream-limits.js';
import { UNDECODABLE_BATCH_REASON } from './undecodable-batch.js';
import { stringChecksFor, validateInference } from './validate-inference.js';

/** A model as ingest needs it: panes are counted only for a model with a layout. */
export interface IngestModel {
  readonly config: ModelConfig;
  readonly params: PaneParams;
  readonly layout: PaneLayout | undefined;
}

/** Where ingest finds a model by id (the catalog in-thread, a synchronized copy on a worker). */
export interface IngestModels {
  get(modelId: string): IngestModel | undefined;
}

/** The records of one batch, by index. */
export interface IngestRecords {
  readonly length: number;
  offset(i: number): number;
  /** Record timestamp, epoch ms (0 when unknown). */
  timestamp(i: number): number;
  value(i: number): Buffer | null | undefined;
  /**
   * For a stand-in of a batch the client could not decompress: the dead
   * letter's message on the first, '' on the others (skipped); undefined for
   * an ordinary record.
   */
  standIn(i: number): string | undefined;
}

/** A record refused during ingest, by its index in the batch. */
export interface RejectedRecord {
  readonly index: number;
  readonly reason: string;
  readonly message: string;
}

/** Why ingest stopped before the end of a batch; the record at `index` is not yet counted. */
export type IngestStop =
  /** The writer schema is not cached: fetch it, then resume at `index`. */
  | { readonly kind: 'schema'; readonly index: number }
  /** The model has no layout here (unknown, bootstrapping, or not yet sent to a worker). */
  | { readonly kind: 'model'; readonly index: number; readonly event: InferenceEvent; readonly features: number }
  /** A record was refused and the policy stops on the first refusal. */
  | { readonly kind: 'reject'; readonly index: number }
  /** The batch has held the thread long enough (in-thread only). */
  | { readonly kind: 'yield'; readonly index: number };

/** How the record a stop named was settled by the main thread. */
export type IngestResolution =
  | { readonly kind: 'retry' }
  | { readonly kind: 'reject'; readonly reason: string; readonly message: string }
  /** The event went to its model's reference bootstrap: it moves the clock and counts as consumed. */
  | { readonly kind: 'bootstrapped'; readonly modelId: string; readonly timestamp: number };

/** Per model: events counted into panes (or a bootstrap), late events, newest event time. */
export type ModelCounts = [modelId: string, consumed: number, late: number, lastTs: number];

/** What a run of ingest leaves for the main thread (reset by {@link PartitionIngest.take}). */
export interface IngestStep {
  stop?: IngestStop;
  next: number | undefined;
  clock: number;
  rejected: RejectedRecord[];
  counts: ModelCounts[];
  duplicates: number;
  /** Valid events of models that record label-join entries (when ingest was told to collect them). */
  labels: LabelColumns;
}

/**
 * The fields of valid events the label-join recorder reads, column by column (arrays of
 * primitives cross to the main thread much cheaper than one object per event).
 */
export interface LabelColumns {
  modelId: string[];
  eventId: string[];
  modelVersion: (string | null)[];
  timestamp: number[];
  prediction: (number | string | null)[];
  score: (number | null)[];
}

function emptyLabels(): LabelColumns {
  return { modelId: [], eventId: [], modelVersion: [], timestamp: [], prediction: [], score: [] };
}

/** The events of label columns, as the label-join recorder takes them (no features or attributes). */
export function* labelEvents(c: LabelColumns): Generator<InferenceEvent> {
  for (let i = 0; i < c.eventId.length; i++) {
    yield { eventId: c.eventId[i], modelId: c.modelId[i], modelVersion: c.modelVersion[i], timestamp: c.timestamp[i], features: {}, prediction: c.prediction[i], score: c.score[i], attributes: {} };
  }
}

/** A closed pane as the coordinator gets it. */
export interface ClosedPartial {
  readonly modelId: string;
  readonly paneStart: number;
  readonly paneEnd: number;
  readonly state: PaneJSON;
}

/** Panes closed by the watermark or the idle timeout, with the partition's clock. */
export interface ClosedReport {
  readonly partials: ClosedPartial[];
  readonly clock: number;
  readonly idle: boolean;
  /** The clock an idle partition assumes (see PartitionWindows.estimatedClock). */
  readonly estimatedClock: number;
}

/** What restoring a checkpoint's windows found. */
export interface RestoreReport {
  readonly dropped: number;
  /** Whether the de-duplication filter was restored; undefined when de-duplication is off. */
  readonly dedup?: boolean;
  readonly repaired?: { readonly clock: number | null; readonly repairedTo: number; readonly droppedPanes: number };
}

/** Records between two looks at the clock for a yield. */
const YIELD_CHECK_EVERY = 128;

/**
 * The per-event work of one partition, the same on the main thread and on an
 * ingest worker: decode (cached writer schemas only), validate, de-duplicate,
 * and count each event into the pane of its event time. It owns the
 * partition's windows and next offset. Whatever needs I/O or the model
 * catalog (a schema not yet cached, a model without a layout, label-join
 * writes, dead letters) is handed back to the caller: ingest stops at such a
 * record and resumes once the caller has settled it.
 */
export class PartitionIngest {
  windows: PartitionWindows;
  next: number | undefined;
  private readonly dedup: EventDeduplicator | undefined;
  private readonly limits: StreamLimits;
  private rejected: RejectedRecord[] = [];
  private readonly counts = new Map<string, ModelCounts>();
  private duplicates = 0;
  private labels = emptyLabels();
  /** Index of the record a model stop named: its eventId already went through the de-duplication filter. */
  private deduplicated = -1;
  /** Where the decoder reads the features a model uses: straight into its layout's scratch space. */
  private readonly target: FeatureTarget;

  constructor(
    private readonly source: string,
    private readonly decoder: { decodeCached(buf: Buffer | null | undefined, target?: FeatureTarget): Decoded | undefined },
    private readonly models: IngestModels,
    now: number,
    limits: StreamLimits | undefined,
    dedup: { windowMs: number; capacity: number } | undefined,
    /** Receives each valid event of a model with a layout (the label-join recorder in-thread); collected into the step when absent. */
    private readonly onValid?: (event: InferenceEvent, config: ModelConfig) => void,
  ) {
    this.windows = new PartitionWindows(now);
    this.limits = limits ?? DEFAULT_STREAM_LIMITS;
    this.target = { layoutOf: (modelId) => this.models.get(modelId)?.layout, maxStringBytes: this.limits.maxStringBytes };
    this.dedup = dedup && dedup.windowMs > 0 ? new EventDeduplicator(dedup.windowMs, dedup.capacity, now) : undefined;
  }

  /**
   * Counts records from `from` on, until the end of the batch or a record the
   * caller must settle. `failFast`: stop after the first refused record.
   * `shouldYield`: looked at every 128 records; true stops with a yield.
   */
  run(records: IngestRecords, from: number, now: number, failFast: boolean, shouldYield?: () => boolean): IngestStop | undefined {
    for (let i = from; i < records.length; i++) {
      if (shouldYield && i > from && (i & (YIELD_CHECK_EVERY - 1)) === YIELD_CHECK_EVERY - 1 && shouldYield()) return { kind: 'yield', index: i };
      const offset = records.offset(i);
      if (this.next !== undefined && offset < this.next) continue;
      const rejectedBefore = this.rejected.length;
      const standIn = records.standIn(i);
      if (standIn !== undefined) {
        // Stand-ins of a batch the client could not decompress: dead-letter it once, move past every offset.
        if (standIn !== '') this.reject(i, UNDECODABLE_BATCH_REASON, standIn);
      } else {
        let decoded: Decoded | undefined;
        try {
          decoded = this.decoder.decodeCached(records.value(i), this.target);
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err;
          this.reject(i, err.reason, err.message);
        }
        if (decoded === undefined && this.rejected.length === rejectedBefore) return { kind: 'schema', index: i };
        if (decoded !== undefined) {
          const stop = this.handle(records, i, decoded, now);
          if (stop) return stop;
        }
      }
      this.next = offset + 1;
      if (failFast && this.rejected.length > rejectedBefore) return { kind: 'reject', index: i };
    }
    return undefined;
  }

  /** Applies the caller's settlement of the record a stop named; returns the index to resume at. */
  settle(records: IngestRecords, index: number, resolution: IngestResolution, now: number): number {
    if (resolution.kind === 'retry') return index;
    this.deduplicated = -1;
    if (resolution.kind === 'reject') this.reject(index, resolution.reason, resolution.message);
    else {
      this.windows.observe(resolution.timestamp, now);
      this.count(resolution.modelId, resolution.timestamp, false);
    }
    this.next = records.offset(index) + 1;
    return index + 1;
  }

  /** Records a refusal the caller found (the record was settled elsewhere). */
  reject(index: number, reason: string, message: string): void {
    this.rejected.push({ index, reason, message });
  }

  private handle(records: IngestRecords, i: number, decoded: Decoded, now: number): IngestStop | undefined {
    let ev: InferenceEvent;
    const max = this.limits.maxStringBytes;
    try {
      ev = validateInference(decoded.value, max, stringChecksFor(decoded, records.value(i)?.length ?? 0, max));
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.reject(i, err.reason, err.message);
      return undefined;
    }
    const ts = ev.timestamp;
    // An event time past both the record's own timestamp and the wall clock (plus the skew) would move
    // the partition's clock and make every later event late: refused, it never touches the clock.
    const recordTs = records.timestamp(i);
    const reference = recordTs > 0 && recordTs < now ? recordTs : now;
    if (ts > reference + this.limits.maxFutureSkewMs) {
      this.reject(i, 'future_timestamp', `timestamp ${new Date(ts).toISOString()} is more than ${this.limits.maxFutureSkewMs} ms past the record's time ${new Date(reference).toISOString()}`);
      return undefined;
    }
    if (i !== this.deduplicated && this.dedup?.seen(ev.eventId, now)) {
      this.duplicates++;
      return undefined;
    }
    const rt = this.models.get(ev.modelId);
    const layout = rt?.layout;
    if (rt === undefined || layout === undefined) {
      let features = 0;
      for (const _ in ev.features) features++;
      this.deduplicated = i;
      return { kind: 'model', index: i, event: ev, features };
    }
    this.windows.observe(ts, now);
    const gathered = decoded.gathered;
    if (gathered !== undefined && gathered !== layout) throw new Error(`model ${ev.modelId}: features were read for another layout`);
    const bad = gathered === undefined ? gatherFeatures(layout, ev.features) : undefined;
    const pane = this.windows.paneFor(layout, rt.params, ts);
    if (bad !== undefined) {
      pane?.countTypeError();
      this.reject(i, 'type_mismatch', `feature ${JSON.stringify(bad)} is ${typeof ev.features[bad]}, model ${ev.modelId} declares it ${layout.numericNames.includes(bad) ? 'numeric' : 'categorical'}`);
      return undefined;
    }
    if (this.onValid) this.onValid(ev, rt.config);
    else if (rt.config.performance.labels) {
      const l = this.labels;
      l.modelId.push(ev.modelId);
      l.eventId.push(ev.eventId);
      l.modelVersion.push(ev.modelVersion);
      l.timestamp.push(ev.timestamp);
      l.prediction.push(ev.prediction);
      l.score.push(ev.score);
    }
    if (pane === undefined) {
      this.count(ev.modelId, ts, true);
      return undefined;
    }
    pane.acceptGathered(ev.score, ev.prediction, ev.modelVersion);
    pane.segments?.acceptGathered(ev.attributes, ev.score, ev.prediction, ev.modelVersion);
    this.count(ev.modelId, ts, false);
    return undefined;
  }

  private count(modelId: string, ts: number, late: boolean): void {
    let c = this.counts.get(modelId);
    if (c === undefined) {
      c = [modelId, 0, 0, -Infinity];
      this.counts.set(modelId, c);
    }
    if (late) c[2]++;
    else c[1]++;
    if (ts > c[3]) c[3] = ts;
  }

  /** A new batch starts: no record of the last one is waiting to be settled. */
  startBatch(): void {
    this.deduplicated = -1;
  }

  /** What the runs since the last take produced; starts the next step afresh. */
  take(stop: IngestStop | undefined): IngestStep {
    const step: IngestStep = {
      ...(stop ? { stop } : {}),
      next: this.next,
      clock: this.windows.clock,
      rejected: this.rejected,
      counts: [...this.counts.values()],
      duplicates: this.duplicates,
      labels: this.labels,
    };
    this.rejected = [];
    this.counts.clear();
    this.duplicates = 0;
    this.labels = emptyLabels();
    return step;
  }

  /** Closes the panes the watermark (or, when `idle`, the idle timeout) has passed. */
  close(idle: boolean, now: number, idleTimeoutMs: number): ClosedReport | undefined {
    const closed = idle ? this.windows.closeIdle(now, idleTimeoutMs) : this.windows.closeDue();
    if (closed === undefined) return undefined;
    const partials = closed.map(({ pane }) => {
      pane.sources.add(this.source);
      return { modelId: pane.modelId, paneStart: pane.paneStart, paneEnd: pane.paneEnd, state: pane.toJSON() };
    });
    return { partials, clock: this.windows.clock, idle: this.windows.idle, estimatedClock: this.windows.estimatedClock(now) };
  }

  /** The partition's state for a checkpoint: the windows, the de-duplication filter and the offset they run up to. */
  snapshot(): { next: number | undefined; windows: PartitionWindowsJSON; dedup?: DedupStateJSON } {
    return { next: this.next, windows: this.windows.toJSON(), ...(this.dedup ? { dedup: this.dedup.toJSON() } : {}) };
  }

  /**
   * Restores a checkpoint's windows and de-duplication filter; panes of a (model, reference) `layoutOf`
   * does not know are dropped. A clock further in the future than the skew
   * allows is set back to when the checkpoint was written.
   */
  restore(
    json: PartitionWindowsJSON,
    dedup: DedupStateJSON | undefined,
    next: number,
    savedAt: number,
    now: number,
    layoutOf: (modelId: string, referenceId: string) => PaneLayout | undefined,
  ): RestoreReport {
    this.next = next;
    const dedupRestored = this.dedup?.restore(dedup);
    const { windows, dropped } = PartitionWindows.fromJSON(json, layoutOf, now);
    this.windows = windows;
    const repaired = windows.repairFutureClock(now + this.limits.maxFutureSkewMs, Math.min(savedAt, now));
    return { dropped: dropped.length, ...(dedupRestored !== undefined ? { dedup: dedupRestored } : {}), ...(repaired ? { repaired: { clock: json.clock, repairedTo: windows.clock, droppedPanes: repaired.droppedPanes } } : {}) };
  }
}
