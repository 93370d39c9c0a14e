import { setTimeout as sleep } from 'node:timers/promises';
import { EventEmitter } from 'node:events';
import type { DriftAlert } from '../../core/events.js';
import type { Evaluation } from '../../core/drift/types.js';
import { isRetriable } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { AlertQuery, EvaluationRollup, ResultRepository, RollupQuery, WindowQuery } from '../../ports/result-repository.js';

export interface BufferedResultWriterOptions {
  /** Rows held before the writer reports itself full (DRIFTSTREAM_HISTORY_BUFFER). */
  capacity: number;
  /** Rows per write. */
  batchSize?: number;
  /** Longest time a row waits before it is written. */
  flushIntervalMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  logger?: Logger;
  metrics?: Metrics;
}

interface Entry<T> {
  seq: number;
  value: T;
}

/**
 * Takes history writes off the hot path: rows go into a bounded buffer and
 * reach the target repository in batches, retried with backoff until they are
 * written. Rows are keyed like the target's upserts, so a newer version of an
 * evaluation replaces the buffered one.
 *
 * Backpressure: when the target is unreachable the buffer fills; at
 * `capacity` rows {@link isFull} turns true and `full` is emitted, and the
 * consumer is expected to pause until {@link whenWritable} resolves (`drained`
 * is emitted at half capacity). Writes are still accepted up to twice the
 * capacity, so a batch in progress can finish; beyond that the save calls wait.
 *
 * Events: `full`, `drained`, `unavailable` (err), `available`, `dropped` (rows, err)
 * for rows the target rejected as invalid (not retriable) one by one.
 */
export class BufferedResultWriter extends EventEmitter implements ResultRepository {
  private readonly evaluations = new Map<string, Entry<Evaluation>>();
  private readonly alerts = new Map<string, Entry<DriftAlert>>();
  private seq = 0;
  private full = false;
  private down = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private backoffMs = 0;
  private durableWaiters: { seq: number; resolve: () => void }[] = [];
  private spaceWaiters: (() => void)[] = [];
  private readonly capacity: number;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(
    private readonly target: ResultRepository,
    private readonly options: BufferedResultWriterOptions,
  ) {
    super();
    this.capacity = Math.max(1, options.capacity);
    this.batchSize = options.batchSize ?? 500;
    this.flushIntervalMs = options.flushIntervalMs ?? 200;
    this.minBackoffMs = options.minBackoffMs ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.schedule(this.flushIntervalMs);
  }

  /** Rows waiting to be written. */
  get size(): number {
    return this.evaluations.size + this.alerts.size;
  }

  /** True from `capacity` buffered rows until the buffer drains to half: the consumer should pause. */
  isFull(): boolean {
    return this.full;
  }

  /** False while the target is failing. */
  isHealthy(): boolean {
    return !this.down;
  }

  /** Resolves once the buffer has room again (at once when it has). */
  whenWritable(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve) => this.once('drained', resolve));
  }

  /** Resolves when every row accepted before this call has been written. */
  durable(): Promise<void> {
    const seq = this.seq;
    if (this.pendingMin() > seq) return Promise.resolve();
    this.kick();
    return new Promise((resolve) => this.durableWaiters.push({ seq, resolve }));
  }

  async saveEvaluations(evaluations: readonly Evaluation[]): Promise<void> {
    await this.room();
    for (const e of evaluations) {
      this.evaluations.delete(e.evaluationId);
      this.evaluations.set(e.evaluationId, { seq: ++this.seq, value: e });
    }
    this.accepted();
  }

  async saveAlerts(alerts: readonly DriftAlert[]): Promise<void> {
    await this.room();
    for (const a of alerts) {
      const key = `${a.alertId}|${a.status}|${a.severity}`;
      // A record is written once: the first one buffered stays.
      if (!this.alerts.has(key)) this.alerts.set(key, { seq: ++this.seq, value: a });
    }
    this.accepted();
  }

  async latestEvaluation(modelId: string, windowName: string): Promise<Evaluation | undefined> {
    const stored = await this.target.latestEvaluation(modelId, windowName);
    let best = stored;
    for (const { value: e } of this.evaluations.values()) {
      if (e.modelId === modelId && e.windowName === windowName && (!best || e.windowEnd >= best.windowEnd)) best = e;
    }
    return best;
  }

  async listEvaluations(query: WindowQuery): Promise<Evaluation[]> {
    const stored = await this.target.listEvaluations(query);
    // Rows not yet written are served too, so the API never lags the stream by a flush.
    const byId = new Map(stored.map((e) => [e.evaluationId, e]));
    for (const { value: e } of this.evaluations.values()) {
      if (
        e.modelId === query.modelId &&
        (query.windowName === undefined || e.windowName === query.windowName) &&
        (query.from === undefined || e.windowEnd > query.from) &&
        (query.to === undefined || e.windowStart < query.to)
      ) {
        byId.set(e.evaluationId, e);
      }
    }
    const out = [...byId.values()].sort((a, b) => b.windowEnd - a.windowEnd || (a.windowName < b.windowName ? -1 : a.windowName > b.windowName ? 1 : 0));
    return out.slice(0, query.limit ?? 100);
  }

  /** Roll-ups of what reached the target (rows still buffered count once they are written). */
  listRollups(query: RollupQuery): Promise<EvaluationRollup[]> {
    return this.target.listRollups(query);
  }

  listAlerts(query: AlertQuery): Promise<{ alerts: DriftAlert[]; nextCursor?: string }> {
    return this.target.listAlerts(query);
  }

  /** Writes everything buffered now (retrying while the target is away) until done or `timeoutMs`. */
  async flush(timeoutMs = 30_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.size > 0 && Date.now() < deadline) {
      await this.flushOnce();
      if (this.size > 0 && this.down) await sleep(Math.min(this.backoffMs, Math.max(0, deadline - Date.now())));
    }
    return this.size === 0;
  }

  /** Stops the background loop after a final flush; returns the rows that could not be written. */
  async close(timeoutMs = 10_000): Promise<number> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.flushing;
    await this.flush(timeoutMs);
    if (this.size > 0) this.options.logger?.error({ rows: this.size }, 'history rows not written at shutdown');
    return this.size;
  }

  private async room(): Promise<void> {
    while (this.size >= this.capacity * 2 && !this.closed) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
    }
  }

  private accepted(): void {
    this.options.metrics?.historyBuffered.set(this.size);
    if (!this.full && this.size >= this.capacity) {
      this.full = true;
      this.options.logger?.warn({ rows: this.size }, 'history buffer full: pausing consumption');
      this.emit('full');
    }
    if (this.size >= this.batchSize && !this.down) this.kick();
  }

  private pendingMin(): number {
    const e = this.evaluations.values().next().value;
    const a = this.alerts.values().next().value;
    return Math.min(e?.seq ?? Infinity, a?.seq ?? Infinity);
  }

  private kick(): void {
    if (this.closed || this.down) return;
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.loop();
    }, ms);
    this.timer.unref();
  }

  private async loop(): Promise<void> {
    await this.flushOnce();
    if (this.closed) return;
    if (this.down) this.schedule(this.backoffMs);
    else this.schedule(this.size >= this.batchSize ? 0 : this.flushIntervalMs);
  }

  private flushOnce(): Promise<void> {
    if (!this.flushing) {
      this.flushing = this.writeBatch().finally(() => {
        this.flushing = undefined;
      });
    }
    return this.flushing;
  }

  private async writeBatch(): Promise<void> {
    if (this.size === 0) return;
    const evals = take(this.evaluations, this.batchSize);
    const alerts = take(this.alerts, Math.max(0, this.batchSize - evals.length));
    try {
      // Evaluations first: an alert row always has its window's evaluation beside it.
      if (evals.length > 0) await this.target.saveEvaluations(evals.map(([, e]) => e.value));
      if (alerts.length > 0) await this.target.saveAlerts(alerts.map(([, e]) => e.value));
      this.written(evals, alerts);
    } catch (err) {
      if (isRetriable(err)) {
        this.failed(err);
        return;
      }
      // A row the database rejects would block the queue forever: find it and set it aside.
      await this.writeOneByOne(evals, alerts, err);
    }
  }

  private async writeOneByOne(evals: [string, Entry<Evaluation>][], alerts: [string, Entry<DriftAlert>][], batchErr: unknown): Promise<void> {
    for (const item of evals) {
      try {
        await this.target.saveEvaluations([item[1].value]);
      } catch (err) {
        if (isRetriable(err)) return this.failed(err);
        this.drop('evaluation', item[0], err ?? batchErr);
      }
      this.written([item], []);
    }
    for (const item of alerts) {
      try {
        await this.target.saveAlerts([item[1].value]);
      } catch (err) {
        if (isRetriable(err)) return this.failed(err);
        this.drop('alert', item[0], err ?? batchErr);
      }
      this.written([], [item]);
    }
  }

  private drop(kind: string, key: string, err: unknown): void {
    this.options.logger?.error({ kind, key, err: (err as Error)?.message }, 'history row rejected by the database; dropped');
    this.emit('dropped', [key], err);
  }

  private written(evals: [string, Entry<Evaluation>][], alerts: [string, Entry<DriftAlert>][]): void {
    // Only remove what was written: an entry replaced meanwhile carries a newer seq and stays.
    for (const [k, e] of evals) if (this.evaluations.get(k)?.seq === e.seq) this.evaluations.delete(k);
    for (const [k, e] of alerts) if (this.alerts.get(k)?.seq === e.seq) this.alerts.delete(k);
    if (this.down) {
      this.down = false;
      this.options.logger?.info({ rows: this.size }, 'postgres reachable again: writing buffered history');
      this.options.metrics?.dependencyUp.set({ dependency: 'postgres' }, 1);
      this.emit('available');
    }
    this.backoffMs = 0;
    this.options.metrics?.historyBuffered.set(this.size);
    const min = this.pendingMin();
    if (this.durableWaiters.length > 0) {
      const ready = this.durableWaiters.filter((w) => w.seq < min);
      this.durableWaiters = this.durableWaiters.filter((w) => w.seq >= min);
      for (const w of ready) w.resolve();
    }
    if (this.size < this.capacity * 2) for (const w of this.spaceWaiters.splice(0)) w();
    if (this.full && this.size <= this.capacity / 2) {
      this.full = false;
      this.options.logger?.info({ rows: this.size }, 'history buffer drained: resuming consumption');
      this.emit('drained');
    }
  }

  private failed(err: unknown): void {
    this.backoffMs = Math.min(this.maxBackoffMs, Math.max(this.minBackoffMs, this.backoffMs * 2));
    if (!this.down) {
      this.down = true;
      this.options.logger?.warn({ err: (err as Error)?.message, rows: this.size }, 'postgres unavailable: buffering history');
      this.options.metrics?.dependencyUp.set({ dependency: 'postgres' }, 0);
      this.emit('unavailable', err);
    }
  }
}

function take<T>(map: Map<string, Entry<T>>, n: number): [string, Entry<T>][] {
  const out: [string, Entry<T>][] = [];
  if (n <= 0) return out;
  for (const kv of map) {
    out.push(kv);
    if (out.length >= n) break;
  }
  return out;
}
