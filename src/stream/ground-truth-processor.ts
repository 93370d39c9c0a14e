import type { Logger } from 'pino';
import { toGroundTruthEvent } from '../core/events.js';
import { toLabelRecord, type LabelRecord } from '../core/performance/records.js';
import { DecodeError, UnavailableError, isRetriable } from '../errors.js';
import type { StreamMetrics } from '../ports/metrics.js';
import type { BatchControl } from '../ports/inference-sink.js';
import type { ValueDecoder } from '../ports/value-decoder.js';
import type { JoinOutcome, LabelJoin } from '../ports/label-join.js';
import { describeUndecodableBatch, undecodableBatchOf, UNDECODABLE_BATCH_REASON } from './undecodable-batch.js';
import { ProcessingFailedError, type ProcessingErrorPolicy } from './processing-error-policy.js';
import { type DeadLetter, type DeadLetterSink, type SourceMessage } from '../ports/dead-letter-sink.js';

export interface GroundTruthContext {
  readonly decoder: ValueDecoder;
  readonly join: LabelJoin;
  readonly deadLetters: DeadLetterSink;
  readonly policy: ProcessingErrorPolicy;
  readonly metrics: StreamMetrics;
  readonly logger: Logger;
  /** Backoff while Redis (or the registry) is down. */
  readonly retryDelayMs?: { initial: number; max: number };
  /**
   * False for a model no inference can come from (not declared, auto-registration
   * off): its labels are dead-lettered as `unknown_model`, like its inferences.
   */
  readonly acceptsModel?: (modelId: string) => boolean;
}

/**
 * The processor of the ground-truth topic. Per record: decode (Avro or JSON,
 * as for inferences), validate as a GroundTruthEvent, and collect; a record
 * that fails goes to the dead-letter sink with its reason (or stops the
 * consumer under the `fail` policy). Then the batch's labels go to the label
 * join in one pipelined call.
 *
 * It keeps no state of its own: the join is idempotent (a replayed label is
 * a duplicate), so its consumer commits after each batch and a crash merely
 * replays labels that then count as duplicates. While Redis or the schema
 * registry is down it waits and retries the batch rather than skip labels.
 */
export class GroundTruthProcessor {
  constructor(private readonly ctx: GroundTruthContext) {}

  /** Processes one batch of one partition; resolves when its labels are joined (or waiting) and its bad records dead-lettered. */
  async process(topic: string, partition: number, records: readonly SourceMessage[], control: BatchControl): Promise<JoinOutcome | undefined> {
    const labels: LabelRecord[] = [];
    const dead: DeadLetter[] = [];
    for (const r of records) {
      const undecodable = undecodableBatchOf(r);
      if (undecodable !== undefined) {
        if (undecodable.first) {
          const message = describeUndecodableBatch(topic, partition, undecodable);
          this.ctx.logger.warn({ topic, partition, from: undecodable.firstOffset, to: undecodable.lastOffset }, message);
          this.reject(dead, topic, partition, r, UNDECODABLE_BATCH_REASON, message);
        }
        continue;
      }
      let value: unknown;
      try {
        const cached = this.ctx.decoder.decodeCached(r.value);
        value = cached ? cached.value : (await this.retry(() => this.ctx.decoder.decode(r.value), control, 'schema registry')).value;
        const event = toGroundTruthEvent(value);
        if (this.ctx.acceptsModel && !this.ctx.acceptsModel(event.modelId)) {
          this.reject(dead, topic, partition, r, 'unknown_model', `model ${JSON.stringify(event.modelId)} is not declared and auto-registration is off`);
          continue;
        }
        labels.push(toLabelRecord(event));
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        this.reject(dead, topic, partition, r, err.reason, err.message);
      }
    }
    if (dead.length > 0) {
      await this.retry(() => this.ctx.deadLetters.send(dead), control, 'dead-letter topic');
      for (const l of dead) {
        this.ctx.metrics.eventsInvalid.inc({ reason: l.reason });
        this.ctx.metrics.dlqRecords.inc({ topic: l.record.topic, reason: l.reason });
      }
    }
    if (labels.length === 0) return undefined;
    const outcome = await this.retry(() => this.ctx.join.recordLabels(labels), control, 'label join');
    for (const [model, n] of Object.entries(outcome.joinedByModel)) this.ctx.metrics.labelsJoined.inc({ model: this.ctx.metrics.modelLabel(model) }, n);
    if (outcome.duplicates > 0) this.ctx.metrics.labelsUnmatched.inc({ reason: 'duplicate' }, outcome.duplicates);
    return outcome;
  }

  private reject(dead: DeadLetter[], topic: string, partition: number, r: SourceMessage, reason: string, message: string): void {
    const letter: DeadLetter = {
      record: { topic, partition, offset: r.offset, key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp },
      reason,
      message,
    };
    if (this.ctx.policy === 'fail') throw new ProcessingFailedError(letter);
    dead.push(letter);
  }

  // Retriable failures (a dependency down) are waited out while the consumer runs; anything else propagates.
  private async retry<T>(fn: () => Promise<T>, control: BatchControl, what: string): Promise<T> {
    const { initial, max } = this.ctx.retryDelayMs ?? { initial: 200, max: 5000 };
    let delay = initial;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof UnavailableError || isRetriable(err)) || !control.isRunning()) throw err;
        this.ctx.logger.warn({ err: (err as Error).message, retryInMs: delay }, `${what} unavailable; retrying the label batch`);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(max, delay * 2);
        await control.heartbeat();
      }
    }
  }
}
