import type { CompressionTypes, Producer } from 'kafkajs';
import type { EventCodec } from '../registry/event-codec.js';
import type { DriftAlert } from '../../core/events.js';
import type { Evaluation } from '../../core/drift/types.js';
import type { Logger } from 'pino';
import { DriftstreamError, UnavailableError } from '../../errors.js';
import type { Metrics } from '../../observability/metrics.js';
import type { AlertSink } from '../../ports/alert-sink.js';
import type { DependencyRefusal } from '../../ports/stream-progress.js';
import { chunkByBytes, permanentRejectionOf, recordBytes } from './record-rejection.js';

export interface KafkaAlertSinkOptions {
  alertsTopic: string;
  metricsTopic: string;
  /**
   * Largest evaluation record published. A larger one is published without its per-feature detail
   * (the features in drift are kept while they fit) and marked `truncated`. Default 512 KiB.
   */
  maxEvaluationBytes?: number;
  /** Codec of the produced batches; default none. */
  compression?: CompressionTypes;
  metrics?: Metrics;
  logger?: Logger;
  /** Backoff of the retried registration of a refused DriftAlert schema; default 1 s doubling to 15 s. */
  registrationRetryMs?: { initial: number; max: number };
}

interface Outgoing {
  key: string;
  value: Buffer | string;
  headers: Record<string, string>;
  /** What to publish instead when the broker refuses this record for good (a smaller form); undefined: nothing. */
  fallback?: () => Outgoing | undefined;
  /** Model and window, for the log line of a refused record. */
  about: Record<string, unknown>;
}

/** What a truncated evaluation says it left out. */
export interface EvaluationTruncation {
  features: number;
  bytes: number;
}

const DEFAULT_MAX_EVALUATION_BYTES = 512 * 1024;

/**
 * The evaluation cut to fit `maxBytes`: the data-quality detail goes, then the features not in drift,
 * then every feature; `truncated` says how many features and bytes the full record had.
 */
export function truncateEvaluation(e: Evaluation, maxBytes: number): { value: string; truncated: boolean } {
  const full = JSON.stringify(e);
  if (Buffer.byteLength(full) <= maxBytes) return { value: full, truncated: false };
  const truncated: EvaluationTruncation = { features: Object.keys(e.features).length, bytes: Buffer.byteLength(full) };
  const drifting = Object.fromEntries(Object.entries(e.features).filter(([, r]) => r.severity !== 'NONE'));
  const attempts = [
    { ...e, dataQuality: undefined, features: drifting, truncated },
    { ...e, dataQuality: undefined, features: {}, prediction: undefined, proxy: undefined, truncated },
  ];
  for (const a of attempts) {
    const text = JSON.stringify(a);
    if (Buffer.byteLength(text) <= maxBytes) return { value: text, truncated: true };
  }
  return { value: JSON.stringify(attempts[attempts.length - 1]), truncated: true };
}

/**
 * Publishes alerts and evaluations to Kafka through an idempotent producer
 * (docs/events.md): DriftAlert records in Avro (Confluent wire format, schema
 * registered under `<alerts topic>-value`) on the alerts topic, every
 * evaluation as JSON on the metrics topic; both keyed by modelId so one
 * model's records stay in order.
 */
export class KafkaAlertSink implements AlertSink {
  private alertSchemaId: number | undefined;
  private refused: DriftstreamError | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly producer: Producer,
    private readonly codec: EventCodec,
    private readonly options: KafkaAlertSinkOptions,
  ) {}

  /**
   * Registers the DriftAlert schema; call once before publishing. A registry that refuses it
   * (`SCHEMA_INCOMPATIBLE`: the subject holds a schema this one is not compatible with) does not
   * stop the detector: the refusal is reported ({@link refusals}, for /readyz), registration is
   * retried in the background with backoff, and alerts wait (publishing fails retriable) until an
   * operator fixes the subject. An unreachable registry still fails here, as any outage at start.
   */
  async init(): Promise<void> {
    try {
      await this.register();
    } catch (err) {
      if (!this.refused) throw err;
      this.retryRegistration(this.options.registrationRetryMs?.initial ?? 1000);
    }
  }

  private async register(): Promise<void> {
    const subject = `${this.options.alertsTopic}-value`;
    try {
      this.alertSchemaId = await this.codec.register(subject, 'DriftAlert');
    } catch (err) {
      if (err instanceof DriftstreamError && err.code === 'SCHEMA_INCOMPATIBLE') {
        if (!this.refused) this.options.logger?.error({ code: err.code, subject, err: err.message }, 'the schema registry refuses the DriftAlert schema: alerts wait until the subject accepts it (retrying)');
        this.refused = err;
      }
      throw err;
    }
    if (this.refused) this.options.logger?.info({ subject }, 'the DriftAlert schema is registered; alerts are published again');
    this.refused = undefined;
  }

  private retryRegistration(delay: number): void {
    if (this.closed || this.retryTimer) return;
    const max = this.options.registrationRetryMs?.max ?? 15_000;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.register().catch(() => this.retryRegistration(Math.min(max, delay * 2)));
    }, delay);
    this.retryTimer.unref();
  }

  /** What keeps alerts from being published until an operator acts: a refused DriftAlert schema. */
  refusals(): DependencyRefusal[] {
    return this.refused ? [{ dependency: 'schema-registry', code: this.refused.code, message: this.refused.message }] : [];
  }

  /** Stops retrying a refused registration. */
  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
  }

  private get maxEvaluationBytes(): number {
    return this.options.maxEvaluationBytes ?? DEFAULT_MAX_EVALUATION_BYTES;
  }

  async publishAlerts(alerts: readonly DriftAlert[]): Promise<void> {
    if (alerts.length === 0) return;
    if (this.alertSchemaId === undefined) {
      // Retriable: the evaluation waits (and /readyz says why) rather than dropping its alerts.
      if (this.refused) throw new UnavailableError('schema-registry', `alerts wait for the DriftAlert schema: ${this.refused.message}`);
      await this.init();
    }
    const id = this.alertSchemaId!;
    await this.send(
      this.options.alertsTopic,
      alerts.map((a) => ({
        key: a.modelId,
        value: this.codec.encode(id, a),
        headers: { 'driftstream-alert-id': a.alertId, 'driftstream-status': a.status, 'driftstream-severity': a.severity },
        about: { modelId: a.modelId, window: a.windowName, windowStart: a.windowStart, alertId: a.alertId },
      })),
    );
  }

  async publishEvaluations(evaluations: readonly Evaluation[]): Promise<void> {
    if (evaluations.length === 0) return;
    const max = this.maxEvaluationBytes;
    await this.send(
      this.options.metricsTopic,
      evaluations.map((e) => {
        const { value, truncated } = truncateEvaluation(e, max);
        const about = { modelId: e.modelId, window: e.windowName, windowStart: e.windowStart };
        if (truncated) {
          this.options.metrics?.evaluationsTruncated.inc();
          this.options.logger?.warn({ ...about, limit: max }, 'evaluation larger than the evaluation size limit; published without its per-feature detail');
        }
        const headers = { 'driftstream-evaluation-id': e.evaluationId };
        // A topic with a smaller record limit still gets the summary: no per-feature detail at all.
        const fallback = () => ({ key: e.modelId, value: truncateEvaluation(e, 0).value, headers, about });
        return { key: e.modelId, value, headers, about, fallback };
      }),
    );
  }

  private async send(topic: string, messages: Outgoing[]): Promise<void> {
    for (const chunk of chunkByBytes(messages, recordBytes, this.maxEvaluationBytes)) await this.sendChunk(topic, chunk);
  }

  /**
   * Publishes a chunk; a broker that is unreachable fails it (retriable), a broker that refuses a
   * record for what it is (too large, invalid) does not: that record is published in its smaller
   * form when it has one, else counted and logged with its model and window, and the rest go on.
   */
  private async sendChunk(topic: string, chunk: Outgoing[]): Promise<void> {
    try {
      await this.producer.send({ topic, messages: chunk.map(({ key, value, headers }) => ({ key, value, headers })), compression: this.options.compression });
      return;
    } catch (err) {
      const rejection = permanentRejectionOf(err);
      if (!rejection) throw new UnavailableError('kafka', `could not publish ${chunk.length} record(s) to ${topic}: ${(err as Error).message}`, { cause: err });
      if (chunk.length > 1) {
        for (const m of chunk) await this.sendChunk(topic, [m]);
        return;
      }
      const smaller = chunk[0].fallback?.();
      if (smaller) {
        await this.sendChunk(topic, [smaller]);
        return;
      }
      this.options.metrics?.publishRejected.inc({ topic, reason: rejection });
      this.options.logger?.error({ topic, reason: rejection, ...chunk[0].about }, 'the broker refused a record for good; skipped (it is in the history)');
    }
  }
}
