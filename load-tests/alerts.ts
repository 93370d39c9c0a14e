/**
 * Reads the alerts topic during a load test: every DriftAlert with the time
 * its record appeared on the topic (the record's timestamp, set when the
 * detector produced it) and the time this reader received it.
 */
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { EventCodec } from '../src/adapters/registry/event-codec.js';
import type { DriftAlert } from '../src/core/events.js';

export interface ReceivedAlert {
  readonly alert: DriftAlert;
  /** Record timestamp on the alerts topic (epoch ms). */
  readonly appearedAt: number;
  readonly receivedAt: number;
}

export class AlertReader {
  readonly alerts: ReceivedAlert[] = [];
  private consumer: Consumer | undefined;
  private readonly codec: EventCodec;

  constructor(
    private readonly brokers: readonly string[],
    registryUrl: string,
    private readonly topic: string,
  ) {
    this.codec = new EventCodec({ registryUrl });
  }

  async start(): Promise<void> {
    const kafka = new Kafka({ clientId: 'driftstream-load-alerts', brokers: [...this.brokers], logLevel: logLevel.ERROR });
    const admin = kafka.admin();
    await admin.connect();
    try {
      if (!(await admin.listTopics()).includes(this.topic)) {
        await admin.createTopics({ topics: [{ topic: this.topic, numPartitions: 1 }], waitForLeaders: true });
      }
    } finally {
      await admin.disconnect();
    }
    const consumer = kafka.consumer({ groupId: `load-alerts-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`, maxWaitTimeInMs: 50 });
    this.consumer = consumer;
    let joined: () => void = () => {};
    const ready = new Promise<void>((r) => (joined = r));
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const receivedAt = Date.now();
        const { value } = await this.codec.decode(message.value);
        const a = value as DriftAlert;
        this.alerts.push({
          alert: { ...a, windowStart: Number(a.windowStart), windowEnd: Number(a.windowEnd), detectedAt: Number(a.detectedAt) },
          appearedAt: Number(message.timestamp),
          receivedAt,
        });
      },
    });
    await ready;
  }

  firing(): ReceivedAlert[] {
    return this.alerts.filter((a) => a.alert.status === 'FIRING');
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
  }
}
