import type { Logger } from 'pino';
import type { InferenceEvent } from '../core/events.js';
import { PartitionWindows, type PartitionWindowsJSON } from '../core/windows/partition-windows.js';
import { gatherFeatures } from '../core/windows/pane-layout.js';
import { DecodeError, UnavailableError } from '../errors.js';
import type { StreamMetrics } from '../ports/metrics.js';
import type { DetectorState } from './detector-state.js';
import type { ModelCatalog } from './model-catalog.js';
import type { CheckpointStore, PartitionCheckpoint } from '../ports/checkpoint-store.js';
import type { CompletePane, PaneCoordinator, PanePartial } from '../ports/pane-coordinator.js';
import { ProcessingFailedError, type ProcessingErrorPolicy } from './processing-error-policy.js';
import { type DeadLetter, type DeadLetterSink, type SourceMessage } from '../ports/dead-letter-sink.js';
import type { WindowEvaluator } from './window-evaluator.js';
import { stringChecksFor, validateInference } from './validate-inference.js';
import { DEFAULT_STREAM_LIMITS, type StreamLimits } from './stream-limits.js';
import { EventDeduplicator, type DedupStateJSON } from './event-deduplicator.js';
import { describeUndecodableBatch, undecodableBatchOf, UNDECODABLE_BATCH_REASON } from './undecodable-batch.js';
import type { BatchControl, InferenceSink } from '../ports/inference-sink.js';
import type { Decoded, ValueDecoder } from '../ports/value-decoder.js';

/** Everything the processors of one detector share. */
export interface ProcessorContext {
  readonly groupId: string;
  readonly catalog: ModelCatalog;
  readonly decoder: ValueDecoder;
  readonly coordinator: PaneCoordinator;
  readonly evaluator: WindowEvaluator;
  readonly checkpoints: CheckpointStore;
  readonly deadLetters: DeadLetterSink;
  readonly state: DetectorState;
  readonly metrics: StreamMetrics;
  readonly logger: Logger;
  readonly policy: ProcessingErrorPolicy;
  readonly idleTimeoutMs: number;
  readonly now: () => number;
  /** Creates the per-partition receiver of valid inferences (for label joins), when there is one. */
  readonly inferenceSink?: () => InferenceSink;
  /** Per-event limits; defaults from {@link DEFAULT_STREAM_LIMITS}. */
  readonly limits?: StreamLimits;
  /** Drop eventIds seen again within `windowMs` (processing time), per partition; off when absent. */
  readonly dedup?: { windowMs: number; capacity: number };
  /**
   * How closed panes are evaluated. `inline` (the default): a batch ends when
   * its panes are evaluated. `background`: the batch goes on while they are;
   * it waits only while more than `maxPending` panes are queued. Either way
   * the partials are with the coordinator before the next checkpoint, and an
   * elected pane whose evaluation a crash cut short is handed out again.
   */
  readonly evaluation?: { mode: 'inline' | 'background'; maxPending: number };
  /** A batch hands the event loop back (to HTTP, other partitions, evaluations) after holding it this long. Default 10 ms. */
  readonly yieldAfterMs?: number;
}


/** Serialized partition state inside a {@link PartitionCheckpoint}. */
export interface ProcessorStateJSON {
  v: 1;
  windows: PartitionWindowsJSON;
  /** The de-duplication filter, when de-duplication is on (absent in checkpoints of older versions). */
  dedup?: DedupStateJSON;
}

interface ModelBatch {
  consumed: number;
  late: number;
  lastTs: number;
}

const HEARTBEAT_EVERY = 4096;
/** Records between two looks at the clock for {@link ProcessorContext.yieldAfterMs}. */
const YIELD_CHECK_EVERY = 128;

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Awaits `work`, heartbeating every second while it takes long. */
async function withHeartbeats<T>(work: Promise<T>, control: BatchControl | undefined): Promise<T> {
  if (!control) return work;
  const timer = setInterval(() => {
    if (control.isRunning()) control.heartbeat().catch(() => {});
  }, 1000);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

/**
 * The processor of one partition of the inference topic (Kafka Streams'
 * Processor): `init` restores its state from a checkpoint, `process` counts a
 * batch of records into event-time panes, `punctuate` closes panes of an
 * idle partition, `checkpoint` writes its state with the next offset, and
 * `close` lets it go.
 *
 * Per record: decode (Avro with a cached writer schema, or JSON), validate,
 * route to the model (registering it and bootstrapping its reference if it is
 * new), check feature types, and add it to the pane of its event time. A
 * record that fails any step goes to the dead-letter sink with its reason
 * (or stops the detector under the `fail` policy). After the batch, panes the
 * watermark passed close; their partials go to the coordinator, and the panes
 * it hands back are evaluated.
 */
export class InferenceProcessor {
  private windows: PartitionWindows;
  /** Offset of the first record not yet in the state; undefined until the first record or checkpoint. */
  private next: number | undefined;
  private readonly source: string;
  private readonly batch = new Map<string, ModelBatch>();
  private dead: DeadLetter[] = [];
  private lastCheckpointAt: number;
  private readonly sink: InferenceSink | undefined;
  private readonly limits: StreamLimits;
  private readonly dedup: EventDeduplicator | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    private partitionCount: number,
    private readonly ctx: ProcessorContext,
  ) {
    this.windows = new PartitionWindows(ctx.now());
    this.source = `${topic}/${partition}`;
    this.lastCheckpointAt = ctx.now();
    this.sink = ctx.inferenceSink?.();
    this.limits = ctx.limits ?? DEFAULT_STREAM_LIMITS;
    this.dedup = ctx.dedup && ctx.dedup.windowMs > 0 ? new EventDeduplicator(ctx.dedup.windowMs, ctx.dedup.capacity, ctx.now()) : undefined;
  }

  /** The offset the next record must have (after a restore: where to seek). */
  get nextOffset(): string | undefined {
    return this.next === undefined ? undefined : String(this.next);
  }

  /** Processing time of the last checkpoint. */
  get checkpointedAt(): number {
    return this.lastCheckpointAt;
  }

  /** Restores the state of a checkpoint (open panes, clock, late counts, next offset). */
  async init(checkpoint: PartitionCheckpoint | undefined): Promise<void> {
    if (!checkpoint) return;
    const state = checkpoint.state as ProcessorStateJSON | undefined;
    this.next = Number(checkpoint.nextOffset);
    if (!state || state.v !== 1) {
      this.ctx.logger.warn({ topic: this.topic, partition: this.partition }, 'checkpoint state has an unknown format; starting with empty windows');
      return;
    }
    this.restoreDedup(state.dedup);
    for (const m of Object.values(state.windows.models)) {
      for (const p of m.open) await this.ctx.catalog.ensureReference(p.m, p.r);
    }
    const { windows, dropped } = PartitionWindows.fromJSON(state.windows, (m, r) => this.ctx.catalog.layoutFor(m, r), this.ctx.now());
    this.windows = windows;
    // A checkpoint of a version that let far-future event times in may hold a clock that makes every
    // later event late: set it back to when the checkpoint was written.
    const now = this.ctx.now();
    const repaired = windows.repairFutureClock(now + this.limits.maxFutureSkewMs, Math.min(checkpoint.savedAt, now));
    if (repaired) {
      this.ctx.logger.warn(
        { topic: this.topic, partition: this.partition, clock: state.windows.clock, repairedTo: windows.clock, droppedPanes: repaired.droppedPanes },
        'checkpoint held an event-time clock in the future; repaired',
      );
    }
    if (dropped.length > 0) {
      this.ctx.logger.warn({ topic: this.topic, partition: this.partition, panes: dropped.length }, 'dropped restored panes of unknown models or references');
    }
  }

  private restoreDedup(json: DedupStateJSON | undefined): void {
    if (!this.dedup || this.dedup.restore(json)) return;
    const why = json === undefined ? 'the checkpoint holds no filter' : 'the checkpoint holds a filter of another format or size';
    this.ctx.logger.warn({ topic: this.topic, partition: this.partition }, `de-duplication starts empty: ${why}`);
  }

  /** Processes a batch of records in offset order; records before {@link nextOffset} are skipped (replays). */
  async process(records: readonly SourceMessage[], control: BatchControl, partitionCount = this.partitionCount): Promise<void> {
    this.partitionCount = partitionCount;
    const now = this.ctx.now();
    const yieldAfterMs = this.ctx.yieldAfterMs ?? 10;
    let heldSince = performance.now();
    for (let i = 0; i < records.length; i++) {
      if ((i & (YIELD_CHECK_EVERY - 1)) === YIELD_CHECK_EVERY - 1 && performance.now() - heldSince > yieldAfterMs) {
        await nextTurn();
        heldSince = performance.now();
      }
      const r = records[i];
      const offset = Number(r.offset);
      if (this.next !== undefined && offset < this.next) continue;
      const undecodable = undecodableBatchOf(r);
      if (undecodable !== undefined) {
        // Stand-ins of a batch the client could not decompress: dead-letter it once, move past every offset.
        if (undecodable.first) {
          const message = describeUndecodableBatch(this.topic, this.partition, undecodable);
          this.ctx.logger.warn({ topic: this.topic, partition: this.partition, from: undecodable.firstOffset, to: undecodable.lastOffset }, message);
          this.reject(r, UNDECODABLE_BATCH_REASON, message);
        }
        this.next = offset + 1;
        continue;
      }
      let decoded: Decoded | undefined;
      try {
        decoded = this.ctx.decoder.decodeCached(r.value);
        if (decoded === undefined) decoded = await this.decodeSlow(r, control);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        this.reject(r, err.reason, err.message);
        this.next = offset + 1;
        continue;
      }
      this.handle(r, decoded, now);
      this.next = offset + 1;
      if ((i & (HEARTBEAT_EVERY - 1)) === HEARTBEAT_EVERY - 1) await control.heartbeat();
    }
    await this.flushDeadLetters();
    if (this.sink) await this.sink.flush(control);
    this.recordBatch(now);
    await this.report(false, control);
  }

  // A schema id not yet cached: fetch it; while the registry is down, wait (never dead-letter for that).
  private async decodeSlow(r: SourceMessage, control: BatchControl): Promise<Decoded> {
    let delay = 200;
    for (;;) {
      try {
        return await this.ctx.decoder.decode(r.value);
      } catch (err) {
        if (!(err instanceof UnavailableError)) throw err;
        if (!control.isRunning()) throw err;
        this.ctx.logger.warn({ err: err.message, retryInMs: delay }, 'schema registry unavailable; retrying');
        await new Promise((res) => setTimeout(res, delay));
        delay = Math.min(5000, delay * 2);
        await control.heartbeat();
      }
    }
  }

  private reject(m: SourceMessage, reason: string, message: string): void {
    const record = { topic: this.topic, partition: this.partition, offset: m.offset, key: m.key, value: m.value, headers: m.headers, timestamp: m.timestamp };
    const letter: DeadLetter = { record, reason, message };
    if (this.ctx.policy === 'fail') throw new ProcessingFailedError(letter);
    this.dead.push(letter);
  }

  private handle(r: SourceMessage, decoded: Decoded, now: number): void {
    let ev: InferenceEvent;
    const max = this.limits.maxStringBytes;
    try {
      ev = validateInference(decoded.value, max, stringChecksFor(decoded, r.value?.length ?? 0, max));
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.reject(r, err.reason, err.message);
      return;
    }
    const ts = ev.timestamp;
    // An event time past both the record's own timestamp and the wall clock (plus the skew) would move
    // the partition's clock and make every later event late: refused, it never touches the clock.
    const recordTs = Number(r.timestamp);
    const reference = recordTs > 0 && recordTs < now ? recordTs : now;
    if (ts > reference + this.limits.maxFutureSkewMs) {
      this.reject(r, 'future_timestamp', `timestamp ${new Date(ts).toISOString()} is more than ${this.limits.maxFutureSkewMs} ms past the record's time ${new Date(reference).toISOString()}`);
      return;
    }
    if (this.dedup?.seen(ev.eventId, now)) {
      this.ctx.metrics.duplicates.inc();
      return;
    }
    const known = this.ctx.catalog.get(ev.modelId);
    if (known === undefined || (known.layout === undefined && known.config.autoRegistered && Object.keys(known.config.features).length === 0)) {
      // Types are inferred from these events: a model never gets more features than a declared one may have.
      let n = 0;
      for (const _ in ev.features) n++;
      if (n > this.limits.maxAutoFeatures) {
        this.reject(r, 'too_many_features', `event has ${n} features, more than the ${this.limits.maxAutoFeatures} an auto-registered model may have`);
        return;
      }
    }
    const rt = known ?? this.ctx.catalog.resolve(ev.modelId);
    if (rt === undefined) {
      const refusal = this.ctx.catalog.refusalOf(ev.modelId) ?? { reason: 'unknown_model', message: `model ${JSON.stringify(ev.modelId)} is unknown` };
      this.reject(r, refusal.reason, refusal.message);
      return;
    }
    const layout = rt.layout;
    if (layout === undefined) {
      const bootstrap = rt.bootstrap;
      const segment = rt.config.segments.attributes.length > 0 ? { segment: { ...ev.attributes, modelVersion: ev.modelVersion } } : {};
      const bad = bootstrap?.add({ features: ev.features, score: ev.score, prediction: ev.prediction, ...segment }, ts);
      if (bad !== undefined) {
        this.reject(r, 'type_mismatch', `feature ${JSON.stringify(bad)} has a type that contradicts model ${ev.modelId}`);
        return;
      }
      this.windows.observe(ts, now);
      // Predictions made while the reference bootstraps get their labels too.
      if (this.sink) this.sink.add(ev, rt.config);
      this.count(ev.modelId, ts, false);
      this.ctx.catalog.completeBootstrap(rt);
      return;
    }
    this.windows.observe(ts, now);
    const bad = gatherFeatures(layout, ev.features);
    const pane = this.windows.paneFor(layout, rt.params, ts);
    if (bad !== undefined) {
      pane?.countTypeError();
      this.reject(r, 'type_mismatch', `feature ${JSON.stringify(bad)} is ${typeof ev.features[bad]}, model ${ev.modelId} declares it ${layout.numericNames.includes(bad) ? 'numeric' : 'categorical'}`);
      return;
    }
    if (this.sink) this.sink.add(ev, rt.config);
    if (pane === undefined) {
      this.count(ev.modelId, ts, true);
      return;
    }
    pane.acceptGathered(ev.score, ev.prediction, ev.modelVersion);
    pane.segments?.acceptGathered(ev.attributes, ev.score, ev.prediction, ev.modelVersion);
    this.count(ev.modelId, ts, false);
  }

  private count(modelId: string, ts: number, late: boolean): void {
    let b = this.batch.get(modelId);
    if (b === undefined) {
      b = { consumed: 0, late: 0, lastTs: -Infinity };
      this.batch.set(modelId, b);
    }
    if (late) b.late++;
    else b.consumed++;
    if (ts > b.lastTs) b.lastTs = ts;
  }

  private recordBatch(now: number): void {
    const { metrics, state } = this.ctx;
    for (const [model, b] of this.batch) {
      const label = metrics.modelLabel(model, b.consumed + b.late);
      if (b.consumed > 0) metrics.eventsConsumed.inc({ model: label }, b.consumed);
      if (b.late > 0) metrics.eventsLate.inc({ model: label }, b.late);
      state.recordConsumed(model, b.consumed, b.late, b.lastTs);
    }
    this.batch.clear();
    if (Number.isFinite(this.windows.clock)) {
      metrics.processingLag.set({ topic: this.topic, partition: String(this.partition) }, Math.max(0, (now - this.windows.clock) / 1000));
    }
  }

  private async flushDeadLetters(): Promise<void> {
    if (this.dead.length === 0) return;
    const letters = this.dead;
    this.dead = [];
    await this.ctx.deadLetters.send(letters);
    const { metrics } = this.ctx;
    for (const l of letters) {
      metrics.eventsInvalid.inc({ reason: l.reason });
      metrics.dlqRecords.inc({ topic: l.record.topic, reason: l.reason });
    }
    this.ctx.state.recordDeadLetters(letters.length);
  }

  /**
   * Closes the panes the watermark (or, when `idle`, the idle timeout) has
   * passed, reports them with the partition's progress, and evaluates the
   * panes the coordinator hands back.
   */
  private async report(idle: boolean, control?: BatchControl): Promise<void> {
    const now = this.ctx.now();
    const closed = idle ? this.windows.closeIdle(now, this.ctx.idleTimeoutMs) : this.windows.closeDue();
    if (closed === undefined) return;
    const partials: PanePartial[] = closed.map(({ pane }) => {
      pane.sources.add(this.source);
      return {
        modelId: pane.modelId,
        paneStart: pane.paneStart,
        paneEnd: pane.paneEnd,
        topic: this.topic,
        partition: this.partition,
        state: pane.toJSON(),
        retainMs: this.retainMsOf(pane.modelId),
      };
    });
    const clock = this.windows.clock;
    // The coordinator compares one watermark per partition with pane ends: stay behind
    // the largest lateness of any model, so no model's pane completes before it closed here.
    const watermark = this.windows.idle ? this.windows.estimatedClock(now) : clock - this.ctx.catalog.maxLatenessMs;
    const complete = await this.ctx.coordinator.report({
      topic: this.topic,
      partition: this.partition,
      partitionCount: this.partitionCount,
      watermark: Number.isFinite(watermark) ? watermark : -Infinity,
      idle: this.windows.idle,
      partials,
    });
    if (complete.length > 0) await this.evaluate(complete, control);
  }

  private async evaluate(complete: CompletePane[], control: BatchControl | undefined): Promise<void> {
    const { evaluator, evaluation } = this.ctx;
    // Evaluation waits out a dependency that is down; the group must not think this consumer died meanwhile.
    if (evaluation?.mode !== 'background') return withHeartbeats(evaluator.evaluate(complete), control);
    evaluator.evaluate(complete).catch((err: unknown) => this.ctx.logger.error({ err, topic: this.topic, partition: this.partition }, 'evaluation failed'));
    if (evaluator.pending > evaluation.maxPending) await withHeartbeats(evaluator.whenPendingAtMost(evaluation.maxPending), control);
  }

  /**
   * How long the coordinator must keep a complete pane of the model for windows longer than a pane
   * (evaluated from earlier panes after a restart or by another instance); 0 for pane-long windows only.
   */
  private retainMsOf(modelId: string): number | undefined {
    const rt = this.ctx.catalog.get(modelId);
    if (!rt) return undefined;
    let longest = 0;
    for (const w of rt.config.windows) if (w.sizeMs !== rt.params.paneMs && w.sizeMs > longest) longest = w.sizeMs;
    return longest === 0 ? 0 : longest + rt.config.allowedLatenessMs + 2 * rt.params.paneMs;
  }

  /** Processing-time tick: closes the panes of a partition idle past the idle timeout. */
  async punctuate(): Promise<void> {
    await this.report(true);
  }

  /** Writes the partition's state and next offset through the CheckpointStore; returns what was written. */
  async checkpoint(): Promise<PartitionCheckpoint | undefined> {
    if (this.next === undefined) return undefined;
    const started = performance.now();
    const cp: PartitionCheckpoint = {
      topic: this.topic,
      partition: this.partition,
      nextOffset: String(this.next),
      watermark: Number.isFinite(this.windows.clock) ? this.windows.clock : 0,
      state: { v: 1, windows: this.windows.toJSON(), ...(this.dedup ? { dedup: this.dedup.toJSON() } : {}) } satisfies ProcessorStateJSON,
      savedAt: this.ctx.now(),
    };
    try {
      await this.ctx.checkpoints.saveCheckpoint(this.ctx.groupId, cp);
      this.ctx.metrics.checkpointDuration.observe({ outcome: 'ok' }, (performance.now() - started) / 1000);
    } catch (err) {
      this.ctx.metrics.checkpointDuration.observe({ outcome: 'error' }, (performance.now() - started) / 1000);
      throw err;
    }
    this.lastCheckpointAt = cp.savedAt;
    return cp;
  }

  /** Open panes (for tests and the read model). */
  get openPanes(): number {
    return this.windows.openPanes;
  }

  /** Lets the partition go: its state is dropped; the last checkpoint is where the next owner starts. */
  async close(): Promise<void> {
    this.dead = [];
    this.batch.clear();
    this.sink?.clear();
  }
}
