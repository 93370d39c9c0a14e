import type { Logger } from 'pino';
import type { PartitionWindowsJSON } from '../core/windows/partition-windows.js';
import { UnavailableError } from '../errors.js';
import type { StreamMetrics } from '../ports/metrics.js';
import type { DetectorState } from './detector-state.js';
import type { ModelCatalog } from './model-catalog.js';
import type { CheckpointStore, PartitionCheckpoint } from '../ports/checkpoint-store.js';
import type { CompletePane, PaneCoordinator, PanePartial } from '../ports/pane-coordinator.js';
import { ProcessingFailedError, type ProcessingErrorPolicy } from './processing-error-policy.js';
import { type DeadLetter, type DeadLetterSink, type SourceMessage } from '../ports/dead-letter-sink.js';
import type { WindowEvaluator } from './window-evaluator.js';
import { DEFAULT_STREAM_LIMITS, type StreamLimits } from './stream-limits.js';
import { UNDECODABLE_BATCH_REASON } from './undecodable-batch.js';
import type { DedupStateJSON } from './event-deduplicator.js';
import type { BatchControl, InferenceSink } from '../ports/inference-sink.js';
import type { ValueDecoder } from '../ports/value-decoder.js';
import { LocalIngest, type IngestBackend } from './ingest-backend.js';
import { labelEvents, type IngestResolution, type IngestStep, type IngestStop } from './partition-ingest.js';
import { TurnBudget } from './turn-budget.js';

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
  /**
   * The share of each event-loop turn the detector's work may hold, shared by
   * every partition's batches and the evaluations: a batch hands the loop back
   * (to HTTP, fetches, timers) once the turn's budget is used. When absent,
   * each processor has its own budget of `yieldAfterMs` (default 10 ms).
   */
  readonly turns?: TurnBudget;
  readonly yieldAfterMs?: number;
  /**
   * Where a partition's per-event work runs (an ingest worker,
   * src/app/ingest-workers.ts); on this thread when absent.
   */
  readonly ingestBackend?: (topic: string, partition: number) => IngestBackend;
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
 *
 * The per-event work runs in an {@link IngestBackend}: on this thread, or on
 * an ingest worker that owns the partition's panes. What needs the catalog or
 * I/O (a writer schema to fetch, a model to register or bootstrap, dead
 * letters, label-join writes, the coordinator) stays here.
 */
export class InferenceProcessor {
  private readonly backend: IngestBackend;
  /** Offset of the first record not yet in the state; undefined until the first record or checkpoint. */
  private next: number | undefined;
  private clock = -Infinity;
  private readonly batch = new Map<string, ModelBatch>();
  private dead: DeadLetter[] = [];
  private lastCheckpointAt: number;
  private readonly sink: InferenceSink | undefined;
  private readonly limits: StreamLimits;
  private readonly turns: TurnBudget;

  constructor(
    readonly topic: string,
    readonly partition: number,
    private partitionCount: number,
    private readonly ctx: ProcessorContext,
  ) {
    this.lastCheckpointAt = ctx.now();
    this.sink = ctx.inferenceSink?.();
    this.limits = ctx.limits ?? DEFAULT_STREAM_LIMITS;
    this.turns = ctx.turns ?? new TurnBudget(ctx.yieldAfterMs ?? 10);
    this.backend = ctx.ingestBackend
      ? ctx.ingestBackend(topic, partition)
      : new LocalIngest(topic, partition, ctx.decoder, ctx.catalog, ctx.now(), ctx.limits, ctx.dedup, this.sink);
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
      // The offset still counts: records before it are in the state that was lost, not to be counted again.
      await this.backend.restore({ v: 1, clock: null, models: {} }, undefined, this.next, checkpoint.savedAt, this.ctx.now());
      return;
    }
    for (const m of Object.values(state.windows.models)) {
      for (const p of m.open) await this.ctx.catalog.ensureReference(p.m, p.r);
    }
    const { dropped, repaired, dedup } = await this.backend.restore(state.windows, state.dedup, this.next, checkpoint.savedAt, this.ctx.now());
    if (dedup === false) {
      const why = state.dedup === undefined ? 'the checkpoint holds no filter' : 'the checkpoint holds a filter of another format or size';
      this.ctx.logger.warn({ topic: this.topic, partition: this.partition }, `de-duplication starts empty: ${why}`);
    }
    // A checkpoint of a version that let far-future event times in may hold a clock that makes every
    // later event late: it was set back to when the checkpoint was written.
    if (repaired) {
      this.ctx.logger.warn({ topic: this.topic, partition: this.partition, ...repaired }, 'checkpoint held an event-time clock in the future; repaired');
    }
    if (dropped > 0) {
      this.ctx.logger.warn({ topic: this.topic, partition: this.partition, panes: dropped }, 'dropped restored panes of unknown models or references');
    }
  }

  /** Processes a batch of records in offset order; records before {@link nextOffset} are skipped (replays). */
  async process(records: readonly SourceMessage[], control: BatchControl, partitionCount = this.partitionCount): Promise<void> {
    this.partitionCount = partitionCount;
    const now = this.ctx.now();
    const failFast = this.ctx.policy === 'fail';
    let step = await this.runSlice(records, true, undefined, now, failFast, control);
    for (;;) {
      const stop = step.stop;
      if (stop === undefined) break;
      let resolution: IngestResolution | undefined;
      if (stop.kind === 'reject') throw new ProcessingFailedError(this.dead[this.dead.length - 1]);
      // A yield: the turn's budget is used; the next slice waits for a later turn (HTTP, fetches, timers run first).
      if (stop.kind === 'yield') await control.heartbeat();
      else if (stop.kind === 'schema') resolution = await this.fetchSchema(stop.index, control);
      else resolution = this.settleModel(stop);
      if (failFast && resolution?.kind === 'reject') {
        this.reject(records[stop.index], resolution.reason, resolution.message);
        throw new ProcessingFailedError(this.dead[this.dead.length - 1]);
      }
      step = await this.runSlice(records, false, resolution, now, failFast, control);
    }
    await this.flushDeadLetters();
    if (this.sink) await this.sink.flush(control);
    this.recordBatch(now);
    await this.report(false, control);
  }

  /**
   * One run of the backend and the taking in of what it produced, as a slice of the turn budget. On
   * this thread the run stops when the budget is used; on an ingest worker it runs there, and only
   * taking its result in is a slice here.
   */
  private async runSlice(
    records: readonly SourceMessage[],
    fresh: boolean,
    resolution: IngestResolution | undefined,
    now: number,
    failFast: boolean,
    control: BatchControl,
  ): Promise<IngestStep> {
    const batch = fresh ? records : undefined;
    if (this.ctx.ingestBackend) {
      const step = await withHeartbeats(this.backend.run(batch, resolution, now, failFast), control);
      return this.turns.slice(() => (this.absorb(step, records), step));
    }
    return this.turns.slice(async (shouldYield) => {
      const step = await this.backend.run(batch, resolution, now, failFast, shouldYield);
      this.absorb(step, records);
      return step;
    });
  }

  /** Takes in what a run of the backend produced. */
  private absorb(step: IngestStep, records: readonly SourceMessage[]): void {
    this.next = step.next;
    this.clock = step.clock;
    for (const r of step.rejected) {
      if (r.reason === UNDECODABLE_BATCH_REASON) this.ctx.logger.warn({ topic: this.topic, partition: this.partition, offset: records[r.index].offset }, r.message);
      this.reject(records[r.index], r.reason, r.message);
    }
    for (const [model, consumed, late, lastTs] of step.counts) {
      let b = this.batch.get(model);
      if (b === undefined) this.batch.set(model, (b = { consumed: 0, late: 0, lastTs: -Infinity }));
      b.consumed += consumed;
      b.late += late;
      if (lastTs > b.lastTs) b.lastTs = lastTs;
    }
    if (step.duplicates > 0) this.ctx.metrics.duplicates.inc(step.duplicates);
    if (this.sink) {
      for (const ev of labelEvents(step.labels)) {
        const rt = this.ctx.catalog.get(ev.modelId);
        if (rt) this.sink.add(ev, rt.config);
      }
    }
  }

  // A schema id not yet cached: fetch it; while the registry is down, wait (never dead-letter for that).
  private async fetchSchema(index: number, control: BatchControl): Promise<IngestResolution> {
    let delay = 200;
    for (;;) {
      try {
        return await this.backend.fetchSchema(index);
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

  /**
   * A valid event of a model the backend has no layout for: refuses it,
   * registers the model, or adds the event to the model's reference bootstrap.
   */
  private settleModel(stop: Extract<IngestStop, { kind: 'model' }>): IngestResolution {
    const ev = stop.event;
    const known = this.ctx.catalog.get(ev.modelId);
    if (known === undefined || (known.layout === undefined && known.config.autoRegistered && Object.keys(known.config.features).length === 0)) {
      // Types are inferred from these events: a model never gets more features than a declared one may have.
      if (stop.features > this.limits.maxAutoFeatures) {
        return { kind: 'reject', reason: 'too_many_features', message: `event has ${stop.features} features, more than the ${this.limits.maxAutoFeatures} an auto-registered model may have` };
      }
    }
    const rt = known ?? this.ctx.catalog.resolve(ev.modelId);
    if (rt === undefined) {
      const refusal = this.ctx.catalog.refusalOf(ev.modelId) ?? { reason: 'unknown_model', message: `model ${JSON.stringify(ev.modelId)} is unknown` };
      return { kind: 'reject', reason: refusal.reason, message: refusal.message };
    }
    // The model has a layout the backend did not know yet: it takes it with the retry.
    if (rt.layout !== undefined) return { kind: 'retry' };
    const segment = rt.config.segments.attributes.length > 0 ? { segment: { ...ev.attributes, modelVersion: ev.modelVersion } } : {};
    const bad = rt.bootstrap?.add({ features: ev.features, score: ev.score, prediction: ev.prediction, ...segment }, ev.timestamp);
    if (bad !== undefined) {
      return { kind: 'reject', reason: 'type_mismatch', message: `feature ${JSON.stringify(bad)} has a type that contradicts model ${ev.modelId}` };
    }
    // Predictions made while the reference bootstraps get their labels too.
    if (this.sink) this.sink.add(ev, rt.config);
    this.ctx.catalog.completeBootstrap(rt);
    return { kind: 'bootstrapped', modelId: ev.modelId, timestamp: ev.timestamp };
  }

  private reject(m: SourceMessage, reason: string, message: string): void {
    const record = { topic: this.topic, partition: this.partition, offset: m.offset, key: m.key, value: m.value, headers: m.headers, timestamp: m.timestamp };
    this.dead.push({ record, reason, message });
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
    if (Number.isFinite(this.clock)) {
      metrics.processingLag.set({ topic: this.topic, partition: String(this.partition) }, Math.max(0, (now - this.clock) / 1000));
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
    const closed = await this.backend.close(idle, now, this.ctx.idleTimeoutMs);
    if (closed === undefined) return;
    const partials: PanePartial[] = closed.partials.map((p) => ({ ...p, topic: this.topic, partition: this.partition, retainMs: this.retainMsOf(p.modelId) }));
    this.clock = closed.clock;
    // The coordinator compares one watermark per partition with pane ends: stay behind
    // the largest lateness of any model, so no model's pane completes before it closed here.
    const watermark = closed.idle ? closed.estimatedClock : closed.clock - this.ctx.catalog.maxLatenessMs;
    const complete = await this.ctx.coordinator.report({
      topic: this.topic,
      partition: this.partition,
      partitionCount: this.partitionCount,
      watermark: Number.isFinite(watermark) ? watermark : -Infinity,
      idle: closed.idle,
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
    // Pane state and the offset it runs up to come from the backend together (exactly-once).
    const { next, windows, dedup } = await this.backend.snapshot();
    if (next === undefined) return undefined;
    const cp: PartitionCheckpoint = {
      topic: this.topic,
      partition: this.partition,
      nextOffset: String(next),
      watermark: windows.clock ?? 0,
      state: { v: 1, windows, ...(dedup ? { dedup } : {}) } satisfies ProcessorStateJSON,
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

  /** Lets the partition go: its state is dropped; the last checkpoint is where the next owner starts. */
  async close(): Promise<void> {
    this.dead = [];
    this.batch.clear();
    this.sink?.clear();
    this.backend.release();
  }
}
