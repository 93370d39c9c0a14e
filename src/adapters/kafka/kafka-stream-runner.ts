import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Metrics } from '../../observability/metrics.js';
import type { InferenceProcessor } from '../../stream/inference-processor.js';
import { ProcessingFailedError } from '../../stream/processing-error-policy.js';
import { CheckpointSupersededError, ReplicationUnconfirmedError } from '../../errors.js';
import type { PartitionCheckpoint } from '../../ports/checkpoint-store.js';
import type { Topology } from '../../stream/topology.js';
import type { StalledPartition } from '../../ports/stream-progress.js';
import { consumeManually, leaveGroup, onConsumerCrash } from './consumer-lifecycle.js';
import { commitOffsetsOrRejoin, partitionCountOf, settleWithin } from './kafka-client.js';

/**
 * Fetch sizes of the inference consumer. A fetch of 1 MB per partition is
 * thousands of events, enough to keep the processor busy; larger fetches only
 * hold more record batches in memory (8 MB / 64 MB cost ~80 MB of RSS for the
 * same CPU) and stretch the time between heartbeats.
 */
export const FETCH_MAX_BYTES_PER_PARTITION = 1024 * 1024;
export const FETCH_MAX_BYTES = 10 * 1024 * 1024;

/**
 * A gap between two fetches longer than this means the consumer cannot fetch (the broker is away, or
 * consumption is paused): no record arriving then is not idleness.
 */
const FETCH_GAP_MS = 3_000;

/** How long stop() waits for a partition's batch in progress before it leaves without checkpointing it. */
const STOP_BATCH_WAIT_MS = 5_000;

export interface KafkaStreamRunnerOptions {
  groupId: string;
  /** Where a partition without committed offset or checkpoint starts. Default earliest. */
  startFrom?: 'earliest' | 'latest';
  /** Partitions processed at the same time. Default 4. */
  partitionsConsumedConcurrently?: number;
  sessionTimeoutMs?: number;
  /** Processing time after which a partition without records is reported idle. */
  idleTimeoutMs: number;
  /** Pause consumption while a downstream buffer is full (e.g. the PostgreSQL history writer). */
  backpressure?: { isFull(): boolean; whenWritable(): Promise<void> };
  /** Called once with an error that stops the detector (the `fail` policy, or a crash kafkajs does not restart). */
  onFatal?: (err: Error) => void;
  /** A partition with records waiting whose position has not moved for this long is reported stalled. Default 2 min. */
  stallTimeoutMs?: number;
  /** How often lag is measured from the broker's offsets. Default 5 s. */
  lagIntervalMs?: number;
}

interface PartitionProgress {
  position: number;
  movedAt: number;
  lag: number;
}

interface Task {
  readonly processor: InferenceProcessor;
  readonly generation: number;
  /** Offset the partition was sought to; batches starting past it are stale prefetches. */
  seekingTo: number | undefined;
  /** False until the first batch has been checked against the checkpoint's offset. */
  positioned: boolean;
  /** Serializes batches, punctuation and checkpoints of one partition. */
  lock: Promise<void>;
  /** Where the partition's last durable checkpoint (or, before one, its first batch) starts reading. */
  replayFrom: string | undefined;
  /** Set once the state is dropped: a batch queued behind the lock must not add to it, nor checkpoint it. */
  dropped: boolean;
}

/**
 * Drives a {@link Topology} with a kafkajs consumer group: `eachBatch` with
 * auto-commit and auto-resolve off, heartbeats inside long batches, a
 * processor per assigned partition restored from its checkpoint (seeking to
 * the checkpoint's offset), a checkpoint then an offset commit every
 * checkpoint interval, punctuation on a timer, and pause/resume under
 * backpressure.
 *
 * kafkajs only rebalances eagerly: every rebalance revokes every partition.
 * So on each group join all processors are dropped (their state since the
 * last checkpoint is replayed from the committed offset by whoever owns the
 * partition next) and the new assignment starts from checkpoints.
 */
export class KafkaStreamRunner {
  private consumer: Consumer | undefined;
  private readonly tasks = new Map<string, Task>();
  private generation = 0;
  private partitionCount = 1;
  private assigned: { partition: number; since: number; reportedIdle: boolean }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private joinedResolve: (() => void) | undefined;
  private stopping = false;
  private lagTimer: NodeJS.Timeout | undefined;
  private lagAdmin: Admin | undefined;
  private measuring = false;
  private readonly progress = new Map<number, PartitionProgress>();
  private lastFetchAt = 0;
  private fetchingSince = 0;
  /** Resolves at the first group join. */
  readonly joined: Promise<void>;

  constructor(
    private readonly kafka: Kafka,
    private readonly topology: Topology,
    private readonly options: KafkaStreamRunnerOptions,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    this.joined = new Promise((resolve) => (this.joinedResolve = resolve));
  }

  async start(): Promise<void> {
    const topic = this.topology.sourceTopic;
    this.partitionCount = await partitionCountOf(this.kafka, topic);
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      sessionTimeout: this.options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: 3000,
      maxBytesPerPartition: FETCH_MAX_BYTES_PER_PARTITION,
      maxBytes: FETCH_MAX_BYTES,
      maxWaitTimeInMs: 100,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      void this.onJoin(e.payload.memberAssignment as Record<string, number[]>);
    });
    onConsumerCrash(consumer, 'consumer', this.logger, (err) => this.fatal(err));
    consumer.on(consumer.events.FETCH, () => {
      const now = Date.now();
      if (now - this.lastFetchAt > FETCH_GAP_MS) this.fetchingSince = now;
      this.lastFetchAt = now;
    });
    await consumeManually(consumer, {
      topic,
      startFrom: this.options.startFrom,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 4,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    this.timer = setInterval(() => void this.punctuate(), this.topology.options.punctuateIntervalMs);
    this.timer.unref();
    this.lagTimer = setInterval(() => void this.measureLag(), this.options.lagIntervalMs ?? 5000);
    this.lagTimer.unref();
  }

  /**
   * Lag of every assigned partition from the broker's offsets: its end (high
   * watermark) minus its position (the processor's next offset, or the
   * group's committed offset). Measured on a timer apart from the consumer, so
   * a partition whose processing is stuck still shows its growing lag, and
   * one whose position has not moved for the stall timeout while records
   * wait is reported by {@link stalledPartitions}.
   */
  private async measureLag(): Promise<void> {
    if (this.stopping || this.measuring || this.assigned.length === 0) return;
    this.measuring = true;
    const topic = this.topology.sourceTopic;
    try {
      if (!this.lagAdmin) {
        this.lagAdmin = this.kafka.admin({ retry: { retries: 0 } });
        await this.lagAdmin.connect();
      }
      const [ends, committed] = await Promise.all([
        this.lagAdmin.fetchTopicOffsets(topic),
        this.lagAdmin.fetchOffsets({ groupId: this.options.groupId, topics: [topic] }),
      ]);
      const endOf = new Map(ends.map((e) => [e.partition, { high: Number(e.high), low: Number(e.low) }]));
      const committedOf = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
      const now = Date.now();
      const owned = new Set<number>();
      for (const { partition } of this.assigned) {
        owned.add(partition);
        const end = endOf.get(partition);
        if (!end) continue;
        const next = this.tasks.get(`${topic}/${partition}`)?.processor.nextOffset;
        const c = committedOf.get(partition) ?? -1;
        const position = Math.max(next === undefined ? -1 : Number(next), c >= 0 ? c : end.low);
        const lag = Math.max(0, end.high - position);
        const prev = this.progress.get(partition);
        const moved = !prev || prev.position !== position || lag === 0;
        this.progress.set(partition, { position, lag, movedAt: moved ? now : prev.movedAt });
        this.metrics.consumerLag.set({ topic, partition: String(partition) }, lag);
      }
      for (const p of this.progress.keys()) if (!owned.has(p)) this.progress.delete(p);
      for (const s of this.stalledPartitions()) {
        this.logger.warn({ topic: s.topic, partition: s.partition, lag: s.lag, stalledForMs: s.stalledForMs }, 'partition has records waiting and makes no progress');
      }
    } catch (err) {
      // The broker is unreachable: /readyz says so through its own probe; keep the last figures.
      this.logger.debug({ err: (err as Error).message }, 'could not measure consumer lag');
      const stale = this.lagAdmin;
      this.lagAdmin = undefined;
      await stale?.disconnect().catch(() => {});
    } finally {
      this.measuring = false;
    }
  }

  /** Assigned partitions with records waiting whose position has not moved for the stall timeout. */
  stalledPartitions(): StalledPartition[] {
    const limit = this.options.stallTimeoutMs ?? 120_000;
    const now = Date.now();
    const topic = this.topology.sourceTopic;
    const out: StalledPartition[] = [];
    for (const [partition, p] of this.progress) {
      const stalled = p.lag > 0 && now - p.movedAt >= limit;
      this.metrics.partitionStalled.set({ topic, partition: String(partition) }, stalled ? 1 : 0);
      if (stalled) out.push({ topic, partition, lag: p.lag, stalledForMs: now - p.movedAt });
    }
    return out;
  }

  private fatal(err: Error): void {
    if (this.stopping) return;
    this.logger.fatal({ err }, 'detector stopping on an unrecoverable error');
    this.options.onFatal?.(err);
  }

  private async onJoin(assignment: Record<string, number[]>): Promise<void> {
    this.generation++;
    // Eager rebalancing revoked everything: drop state, the checkpoints stand. The old assignment goes
    // at once too, so the idle timer never restores or reports a partition this process no longer owns.
    this.assigned = [];
    const revoked = [...this.tasks.values()];
    this.tasks.clear();
    for (const t of revoked) await t.processor.close();
    const topic = this.topology.sourceTopic;
    try {
      this.partitionCount = await partitionCountOf(this.kafka, topic);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'could not refresh the partition count');
    }
    const partitions = assignment[topic] ?? [];
    const now = Date.now();
    this.assigned = partitions.map((partition) => ({ partition, since: now, reportedIdle: false }));
    this.logger.info({ topic, partitions, generation: this.generation }, 'partitions assigned');
    for (const p of partitions) {
      try {
        await this.topology.reportPartition(topic, p, this.partitionCount, false);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message, partition: p }, 'could not register the partition with the pane coordinator');
      }
    }
    this.joinedResolve?.();
  }

  private withLock(task: Task, fn: () => Promise<void>): Promise<void> {
    const run = task.lock.then(fn);
    task.lock = run.catch(() => {});
    return run;
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale, resolveOffset, pause } = payload;
    if (batch.messages.length === 0 || !isRunning() || isStale() || this.stopping) return;
    const bp = this.options.backpressure;
    if (bp?.isFull()) {
      const resume = pause();
      this.logger.warn({ partition: batch.partition }, 'pausing consumption until the history buffer drains');
      void bp.whenWritable().then(() => {
        this.logger.info({ partition: batch.partition }, 'resuming consumption');
        resume();
      });
      return;
    }
    const { topic, partition } = batch;
    const key = `${topic}/${partition}`;
    let task = this.tasks.get(key);
    const first = Number(batch.firstOffset());
    if (!task) {
      task = await this.openTask(topic, partition);
      if (!task) return;
    }
    if (!task.positioned) {
      task.positioned = true;
      const want = task.processor.nextOffset;
      if (want !== undefined && first > Number(want)) {
        // The checkpoint is behind the committed position: replay from it.
        this.logger.info({ topic, partition, from: want, committed: first }, 'seeking to the checkpoint');
        task.seekingTo = Number(want);
        this.consumer!.seek({ topic, partition, offset: want });
        return;
      }
    }
    if (task.seekingTo !== undefined) {
      if (first > task.seekingTo) return;
      task.seekingTo = undefined;
    }
    task.replayFrom ??= String(first);
    const current = task;
    // Stopping ends the waits inside a batch (a registry or broker outage), so shutdown is bounded.
    const control = { heartbeat, isRunning: () => isRunning() && !isStale() && current.generation === this.generation && !this.stopping };
    try {
      await this.withLock(current, async () => {
        if (!current.dropped) await current.processor.process(batch.messages, control, this.partitionCount);
      });
    } catch (err) {
      // The batch is partly in the state: drop the state so the partition restarts from its checkpoint.
      await this.dropTask(current);
      if (err instanceof ProcessingFailedError) this.fatal(err);
      throw err;
    }
    // Dropped while this batch waited (a punctuation or checkpoint failed): the batch is read again
    // from the checkpoint, into the state opened from it.
    if (current.dropped) return;
    resolveOffset(batch.lastOffset());
    this.metrics.consumerLag.set({ topic, partition: String(partition) }, Number(batch.offsetLag()));
    await this.maybeCheckpoint(current, false);
    await heartbeat();
  }

  /** Opens the processor of an assigned partition, restored from its checkpoint; undefined when a rebalance overtook it. */
  private async openTask(topic: string, partition: number): Promise<Task | undefined> {
    const key = `${topic}/${partition}`;
    const existing = this.tasks.get(key);
    if (existing) return existing;
    const generation = this.generation;
    const processor = await this.topology.openPartition(topic, partition, this.partitionCount);
    if (generation !== this.generation) return undefined;
    const raced = this.tasks.get(key);
    if (raced) return raced;
    const task: Task = { processor, generation, seekingTo: undefined, positioned: false, lock: Promise.resolve(), replayFrom: processor.nextOffset, dropped: false };
    this.tasks.set(key, task);
    return task;
  }

  private async maybeCheckpoint(task: Task, force: boolean): Promise<void> {
    const p = task.processor;
    if (!force && Date.now() - p.checkpointedAt < this.topology.options.checkpointIntervalMs) return;
    await this.withLock(task, async () => {
      if (task.generation !== this.generation || task.dropped) return;
      let cp: PartitionCheckpoint | undefined;
      try {
        cp = await p.checkpoint();
      } catch (err) {
        if (err instanceof CheckpointSupersededError) {
          // Another owner checkpointed further: this state is stale, and nothing is committed. Not an
          // error of the batch (kafkajs would stop the consumer on it): the next batch, if this
          // consumer still owns the partition, starts from the stored checkpoint.
          await this.dropTask(task);
          this.logger.warn({ topic: p.topic, partition: p.partition, err: err.message }, 'partition checkpointed further by another owner; dropping this state');
          return;
        }
        if (err instanceof ReplicationUnconfirmedError) {
          this.logger.warn({ topic: p.topic, partition: p.partition, from: task.replayFrom, err: err.message }, 'state since the last checkpoint not confirmed by replicas; reading the partition again from its checkpoint');
          await this.replayFromCheckpoint(task);
        }
        throw err;
      }
      if (!cp || task.generation !== this.generation) return;
      await commitOffsetsOrRejoin(this.consumer!, [{ topic: cp.topic, partition: cp.partition, offset: cp.nextOffset }]);
      task.replayFrom = cp.nextOffset;
    });
  }

  /**
   * Drops the partition's state and reads the partition again from its last checkpoint, which the
   * next batch restores, so the panes closed since are closed, and their partials written, again.
   * With nothing left to read, the idle path opens it again once the idle timeout has passed.
   */
  private async replayFromCheckpoint(task: Task): Promise<void> {
    const { topic, partition } = task.processor;
    await this.dropTask(task);
    if (task.generation !== this.generation) return;
    if (task.replayFrom !== undefined) this.consumer!.seek({ topic, partition, offset: task.replayFrom });
    const assigned = this.assigned.find((a) => a.partition === partition);
    if (assigned) {
      assigned.reportedIdle = false;
      assigned.since = Date.now();
    }
  }

  /** Forgets a partition's state (its next batch opens it again from the checkpoint) and closes its processor. */
  private async dropTask(task: Task): Promise<void> {
    task.dropped = true;
    const key = `${task.processor.topic}/${task.processor.partition}`;
    if (this.tasks.get(key) === task) this.tasks.delete(key);
    await task.processor.close();
  }

  private async punctuate(): Promise<void> {
    if (this.stopping) return;
    const topic = this.topology.sourceTopic;
    const now = Date.now();
    // A partition is idle when fetches succeed and bring nothing. While the consumer cannot fetch
    // (a broker outage), and until it has fetched for an idle timeout again, silence proves nothing:
    // closing panes then would complete them without partitions whose records are only delayed.
    const fetching = now - this.lastFetchAt < FETCH_GAP_MS && now - this.fetchingSince >= this.options.idleTimeoutMs;
    for (const [key, task] of this.tasks) {
      // A processor of a revoked partition must not report it (its next owner does).
      if (task.generation !== this.generation) continue;
      try {
        if (fetching) {
          await this.withLock(task, async () => {
            if (task.dropped) return;
            try {
              await task.processor.punctuate();
            } catch (err) {
              // The idle panes left the state when they closed, and the report that failed may not have
              // delivered them: read the partition again from its checkpoint, as after a failed batch.
              this.logger.warn({ err: (err as Error).message, partition: key }, 'punctuation failed; reading the partition again from its checkpoint');
              await this.replayFromCheckpoint(task);
            }
          });
          if (task.dropped) continue;
        }
        await this.maybeCheckpoint(task, false);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message, partition: key }, 'punctuation failed');
      }
    }
    const generation = this.generation;
    if (!fetching) return;
    for (const a of this.assigned) {
      if (generation !== this.generation) break;
      if (a.reportedIdle || this.tasks.has(`${topic}/${a.partition}`) || now - a.since < this.options.idleTimeoutMs) continue;
      a.reportedIdle = true;
      try {
        // A partition assigned without new records may still hold open panes in its checkpoint (its
        // previous owner consumed everything, then left): restore it, so those panes close on the idle
        // timeout like any other. One that never saw a record is reported idle right away.
        const task = await this.openTask(topic, a.partition);
        if (!task || generation !== this.generation) {
          a.reportedIdle = false;
          continue;
        }
        if (task.processor.nextOffset !== undefined) {
          this.logger.info({ topic, partition: a.partition, from: task.processor.nextOffset }, 'restored an assigned partition without records; its open panes close on the idle timeout');
          continue;
        }
        await this.topology.reportPartition(topic, a.partition, this.partitionCount, true);
      } catch (err) {
        a.reportedIdle = false;
        this.logger.warn({ err: (err as Error).message, partition: a.partition }, 'could not report an idle partition');
      }
    }
  }

  /** Checkpoints every partition, commits, and leaves the group. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    if (this.lagTimer) clearInterval(this.lagTimer);
    void this.lagAdmin?.disconnect().catch(() => {});
    const consumer = this.consumer;
    if (!consumer) return;
    // Commits need the group membership, which stop() ends: checkpoint first, with fetching paused.
    try {
      consumer.pause([{ topic: this.topology.sourceTopic }]);
    } catch {
      // Not running (yet): nothing is in flight.
    }
    let stuck = false;
    for (const task of this.tasks.values()) {
      try {
        // A partition stuck mid-batch (a dependency that does not come back) is not checkpointed: its
        // state is partial, and the next owner replays it from the last checkpoint.
        let busy = false;
        await settleWithin(task.lock, STOP_BATCH_WAIT_MS, () => (busy = true));
        if (busy) {
          stuck = true;
          this.logger.warn({ partition: task.processor.partition }, `partition still busy after ${STOP_BATCH_WAIT_MS} ms; leaving it to replay from its last checkpoint`);
          continue;
        }
        await this.maybeCheckpoint(task, true);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'final checkpoint failed');
      }
    }
    // kafkajs stops only after the batches in progress: with one stuck, waiting long is pointless.
    await leaveGroup(consumer, 'consumer', this.logger, { stopMs: stuck ? 2_000 : 10_000, disconnectMs: stuck ? 2_000 : 5_000 }, async () => {
      for (const task of this.tasks.values()) await task.processor.close();
      this.tasks.clear();
    });
  }

  /** Processors of the partitions this process owns now. */
  processors(): InferenceProcessor[] {
    return [...this.tasks.values()].map((t) => t.processor);
  }
}
