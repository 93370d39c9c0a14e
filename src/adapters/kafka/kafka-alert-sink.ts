import type { CompressionTypes, Producer } from 'kafkajs';
import type { EventCodec } from '../registry/event-codec.js';
import type { DriftAlert } from '../../core/events.js';
import type { Evaluation } from '../../core/drift/types.js';
import { UnavailableError } from '../../errors.js';
import type { AlertSink } from '../../stream/ports.js';

export interface KafkaAlertSinkOptions {
  alertsTopic: string;
  metricsTopic: string;
  /** Codec of the produced batches; default none. */
  compression?: CompressionTypes;
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

  constructor(
    private readonly producer: Producer,
    private readonly codec: EventCodec,
    private readonly options: KafkaAlertSinkOptions,
  ) {}

  /** Registers the DriftAlert schema; call once before publishing. */
  async init(): Promise<void> {
    this.alertSchemaId = await this.codec.register(`${this.options.alertsTopic}-value`, 'DriftAlert');
  }

  async publishAlerts(alerts: readonly DriftAlert[]): Promise<void> {
    if (alerts.length === 0) return;
    if (this.alertSchemaId === undefined) await this.init();
    const id = this.alertSchemaId!;
    await this.send(
      this.options.alertsTopic,
      alerts.map((a) => ({
        key: a.modelId,
        value: this.codec.encode(id, a),
        headers: { 'driftstream-alert-id': a.alertId, 'driftstream-status': a.status, 'driftstream-severity': a.severity },
      })),
    );
  }

  async publishEvaluations(evaluations: readonly Evaluation[]): Promise<void> {
    if (evaluations.length === 0) return;
    await this.send(
      this.options.metricsTopic,
      evaluations.map((e) => ({ key: e.modelId, value: JSON.stringify(e), headers: { 'driftstream-evaluation-id': e.evaluationId } })),
    );
  }

  private async send(topic: string, messages: { key: string; value: Buffer | string; headers: Record<string, string> }[]): Promise<void> {
    try {
      await this.producer.send({ topic, messages, compression: this.options.compression });
    } catch (err) {
      throw new UnavailableError('kafka', `could not publish ${messages.length} record(s) to ${topic}: ${(err as Error).message}`, { cause: err });
    }
  }
}
