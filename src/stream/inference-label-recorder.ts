import type { Logger } from 'pino';
import type { InferenceEvent } from '../core/events.js';
import type { ModelConfig } from '../core/model/model-config.js';
import { toInferenceRecord, type InferenceRecord, type PerformanceSpec } from '../core/performance/records.js';
import { UnavailableError, isRetriable } from '../errors.js';
import type { StreamMetrics } from '../ports/metrics.js';
import type { LabelJoin } from '../ports/label-join.js';
import { paneSizesOf, performanceSpecOf } from './label-records.js';
import type { LabelActivity } from './label-activity.js';
import type { TurnBudget } from './turn-budget.js';

/**
 * Inference records handed to the label join in one call when the recorder shares the detector's
 * turn budget: recording costs a few microseconds per record in memory, so a slice stays within a
 * few milliseconds and a batch's flush does not hold the event loop for its whole length.
 */
export const FLUSH_SLICE_RECORDS = 512;

/** The consumer hooks a flush needs while it waits for Redis. */
export interface RecorderControl {
  heartbeat(): Promise<void>;
  isRunning(): boolean;
}

/**
 * How many inferences of one model a detector records for the label join per
 * label horizon (so at most about twice that many wait in the store at once):
 * one model sending without bounds cannot fill Redis for the others.
 * Shared by the recorders of every partition of a detector.
 */
export class LabelJoinBudget {
  private readonly used = new Map<string, { period: number; n: number }>();

  constructor(
    readonly maxPerModel: number,
    private readonly periodMs: number,
  ) {}

  /** True when one more record of `modelId` fits the budget of the current period (and takes it). */
  take(modelId: string, now: number): boolean {
    const period = Math.floor(now / this.periodMs);
    let u = this.used.get(modelId);
    if (!u || u.period !== period) this.used.set(modelId, (u = { period, n: 0 }));
    if (u.n >= this.maxPerModel) return false;
    u.n++;
    return true;
  }
}

/**
 * Collects the label-join records of a batch of inference events and hands
 * them to the {@link LabelJoin} in one pipelined call before the batch is
 * done (so before any checkpoint covers it). While Redis is down the flush
 * waits and retries: a batch whose inferences were not recorded would lose
 * their labels. Replays after a crash are recorded again and count as
 * duplicates.
 */
export class InferenceLabelRecorder {
  private pending: InferenceRecord[] = [];
  private readonly specs = new WeakMap<ModelConfig, { spec: PerformanceSpec; panes: number[] }>();

  constructor(
    private readonly join: LabelJoin,
    private readonly metrics: StreamMetrics,
    private readonly logger: Logger,
    private readonly retryDelayMs: { initial: number; max: number } = { initial: 200, max: 5000 },
    private readonly budget?: LabelJoinBudget,
    private readonly activity?: LabelActivity,
    /** The detector's turn budget: a batch's records go to the join in slices of {@link FLUSH_SLICE_RECORDS}. */
    private readonly turns?: TurnBudget,
  ) {}

  private warnedBudget = false;

  /** Adds one valid inference of a known model. */
  add(event: InferenceEvent, config: ModelConfig): void {
    // A model declared without labels keeps nothing in the join.
    if (!config.performance.labels) return;
    if (this.budget && !this.budget.take(event.modelId, Date.now())) {
      this.metrics.limitHits.inc({ limit: 'label_join_per_model' });
      if (!this.warnedBudget) {
        this.warnedBudget = true;
        this.logger.warn({ modelId: event.modelId, max: this.budget.maxPerModel }, 'label-join records of a model beyond DRIFTSTREAM_LABEL_JOIN_MAX_PER_MODEL are not kept; their labels will not join');
      }
      return;
    }
    let s = this.specs.get(config);
    if (!s) this.specs.set(config, (s = { spec: performanceSpecOf(config), panes: paneSizesOf(config.windows) }));
    this.pending.push(toInferenceRecord(event, s.spec, s.panes));
  }

  get size(): number {
    return this.pending.length;
  }

  /** Records what was added; resolves once the join has it. */
  async flush(control: RecorderControl): Promise<void> {
    if (this.pending.length === 0) return;
    let records = this.pending;
    this.pending = [];
    records = await this.recordedOnly(records);
    if (!this.turns) return this.record(records, control);
    // Each slice is recorded once: a retry after an outage sends only the slices not yet recorded.
    for (let i = 0; i < records.length; i += FLUSH_SLICE_RECORDS) await this.record(records.slice(i, i + FLUSH_SLICE_RECORDS), control);
  }

  private async record(records: InferenceRecord[], control: RecorderControl): Promise<void> {
    if (records.length === 0) return;
    let delay = this.retryDelayMs.initial;
    for (;;) {
      try {
        const outcome = this.turns ? await this.turns.slice(() => this.join.recordInferences(records)) : await this.join.recordInferences(records);
        for (const [model, n] of Object.entries(outcome.joinedByModel)) this.metrics.labelsJoined.inc({ model: this.metrics.modelLabel(model) }, n);
        if (outcome.evictedByModel) this.reportEvicted(outcome.evictedByModel);
        return;
      } catch (err) {
        if (!(err instanceof UnavailableError || isRetriable(err)) || !control.isRunning()) throw err;
        this.logger.warn({ err: (err as Error).message, retryInMs: delay, records: records.length }, 'label join unavailable; retrying the inference records');
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(this.retryDelayMs.max, delay * 2);
        await control.heartbeat();
      }
    }
  }

  // Models that get no labels keep nothing in the join (learned; see LabelActivity).
  private async recordedOnly(records: InferenceRecord[]): Promise<InferenceRecord[]> {
    const activity = this.activity;
    if (!activity) return records;
    const now = Date.now();
    try {
      await activity.refresh(now);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'could not read when models last got labels; keeping the previous decision');
    }
    return records.filter((r) => activity.isRecording(r.modelId, now));
  }

  private warnedEviction = false;

  // A full in-memory join drops its oldest pending inferences: counted per model, and said once in the log.
  private reportEvicted(byModel: Record<string, number>): void {
    for (const [model, n] of Object.entries(byModel)) this.metrics.labelJoinEvicted.inc({ model: this.metrics.modelLabel(model) }, n);
    if (this.warnedEviction) return;
    this.warnedEviction = true;
    this.logger.warn(
      { evicted: byModel },
      'in-memory label join full: the oldest pending inferences are dropped before the label horizon (raise DRIFTSTREAM_MEMORY_LABEL_CAPACITY or use Redis); counted in driftstream_label_join_evicted_total',
    );
  }

  /** Drops what was added (the partition is let go; its replay records them again). */
  clear(): void {
    this.pending = [];
  }
}
