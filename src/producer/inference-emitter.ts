import { randomUUID } from 'node:crypto';
import { Kafka, Partitioners, logLevel, type CompressionTypes, type KafkaConfig, type Message, type Producer } from 'kafkajs';
import { registerCompressionCodecs } from '../adapters/kafka/compression-codecs.js';
import { EventCodec } from '../adapters/registry/event-codec.js';
import type { SchemaName } from '../adapters/registry/schemas.js';
import {
  toGroundTruthEvent,
  toInferenceEvent,
  type FeatureValue,
  type GroundTruthEvent,
  type InferenceEvent,
} from '../core/events.js';
import { DecodeError, DriftstreamError, UnavailableError, ValidationError } from '../errors.js';

/** Options of {@link createInferenceEmitter}. */
export interface InferenceEmitterOptions {
  /** Kafka bootstrap servers: an array or a comma-separated string. */
  readonly brokers: readonly string[] | string;
  /** Confluent-compatible schema registry base URL; required for the Avro format. */
  readonly registryUrl?: string;
  /** Basic auth of the schema registry. */
  readonly registryAuth?: { readonly username: string; readonly password: string };
  /** Topic of inference events (default `inference-events`). */
  readonly topic?: string;
  /** Topic of ground-truth events (default `ground-truth-events`). */
  readonly groundTruthTopic?: string;
  /** Wire format of record values (default `avro`: Confluent wire format, schema registered under `<topic>-value`). */
  readonly format?: 'avro' | 'json';
  /** Events per produce request; a full batch is sent at once (default 500). */
  readonly batchSize?: number;
  /** How long a partly filled batch waits for more events before it is sent (default 20 ms). */
  readonly lingerMs?: number;
  /** Events buffered or in flight before `emit` waits for deliveries (default 20 x batchSize). */
  readonly maxBufferedEvents?: number;
  /** Acknowledgements each request waits for: -1 all in-sync replicas (default), 1 the leader, 0 none. */
  readonly acks?: -1 | 0 | 1;
  /** Record batch compression: kafkajs `CompressionTypes` None, GZIP, Snappy, LZ4 or ZSTD (default none). */
  readonly compression?: CompressionTypes;
  /** Extra kafkajs client configuration: clientId, ssl, sasl, retry, logLevel, ... */
  readonly kafka?: Omit<KafkaConfig, 'brokers'>;
  /**
   * Called once for every batch Kafka did not accept after the client's
   * retries, with the number of events it held. The same failures also make
   * the next {@link InferenceEmitter.flush} reject.
   */
  readonly onError?: (error: DriftstreamError, events: number) => void;
}

/** An inference event as a producer writes it: `eventId` and `timestamp` may be left to the emitter. */
export interface InferenceInput {
  /** Unique per prediction; a random UUID when omitted. Ground-truth events refer to it. */
  readonly eventId?: string;
  readonly modelId: string;
  readonly modelVersion?: string | null;
  /** Event time: epoch milliseconds or a Date (default: now). */
  readonly timestamp?: number | Date;
  readonly features: Readonly<Record<string, FeatureValue>>;
  readonly prediction?: number | string | null;
  /** Probability of the positive class. */
  readonly score?: number | null;
  readonly attributes?: Readonly<Record<string, string>>;
}

/** A ground-truth event as a producer writes it. */
export interface GroundTruthInput {
  /** The `eventId` of the inference this labels. */
  readonly eventId: string;
  readonly modelId: string;
  /** When the outcome became known (default: now). */
  readonly timestamp?: number | Date;
  readonly label: number | string | boolean;
}

/** Counters of one emitter since it was created. */
export interface EmitterStats {
  /** Events accepted by emit/emitGroundTruth. */
  readonly emitted: number;
  /** Events acknowledged by Kafka. */
  readonly delivered: number;
  /** Events in batches Kafka did not accept. */
  readonly failed: number;
  /** Produce requests sent. */
  readonly batches: number;
}

/** A batching producer of driftstream events; see {@link createInferenceEmitter}. */
export interface InferenceEmitter {
  /**
   * Validates and buffers one inference event, keyed by its `modelId`, and
   * resolves with its `eventId` once it is buffered (it waits only when
   * `maxBufferedEvents` are pending). Delivery failures surface in `flush()`,
   * `close()` and `onError`. Rejects with a {@link ValidationError} for an
   * invalid event, before anything is sent.
   */
  emit(event: InferenceInput): Promise<string>;
  /** The same for a ground-truth event, on the ground-truth topic. */
  emitGroundTruth(event: GroundTruthInput): Promise<string>;
  /** Sends everything buffered and waits for Kafka's acknowledgements; rejects if any batch since the last flush failed. */
  flush(): Promise<void>;
  /** Flushes, then disconnects. The emitter cannot be used afterwards. */
  close(): Promise<void>;
  readonly stats: EmitterStats;
}

interface Pending {
  readonly topic: string;
  readonly message: Message;
}

type Kind = 'inference' | 'groundTruth';

const SCHEMA: Record<Kind, SchemaName> = { inference: 'InferenceEvent', groundTruth: 'GroundTruthEvent' };

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new ValidationError(`${name} must be a positive integer, got ${String(value)}`, { code: 'EMITTER_OPTIONS_INVALID' });
  return value;
}

function toMillis(t: number | Date | undefined): number {
  if (t === undefined) return Date.now();
  return t instanceof Date ? t.getTime() : t;
}

function invalid(err: unknown): never {
  if (err instanceof DecodeError) throw new ValidationError(err.message, { code: 'EVENT_INVALID', cause: err });
  throw err;
}

class KafkaInferenceEmitter implements InferenceEmitter {
  private readonly producer: Producer;
  private readonly codec?: EventCodec;
  private readonly topics: Record<Kind, string>;
  private readonly format: 'avro' | 'json';
  private readonly batchSize: number;
  private readonly lingerMs: number;
  private readonly maxBuffered: number;
  private readonly acks: -1 | 0 | 1;
  private readonly compression?: CompressionTypes;
  private readonly onError?: InferenceEmitterOptions['onError'];

  private connecting?: Promise<void>;
  private readonly schemaIds = new Map<Kind, Promise<number>>();
  private buffer: Pending[] = [];
  private timer?: NodeJS.Timeout;
  private readonly inFlight = new Set<Promise<void>>();
  private inFlightEvents = 0;
  private drained: (() => void)[] = [];
  private errors: DriftstreamError[] = [];
  private closed = false;
  private counters = { emitted: 0, delivered: 0, failed: 0, batches: 0 };

  constructor(options: InferenceEmitterOptions) {
    const brokers = typeof options.brokers === 'string' ? options.brokers.split(',').map((b) => b.trim()).filter(Boolean) : [...options.brokers];
    if (brokers.length === 0) throw new ValidationError('brokers must name at least one Kafka bootstrap server', { code: 'EMITTER_OPTIONS_INVALID' });
    this.format = options.format ?? 'avro';
    if (this.format !== 'avro' && this.format !== 'json') {
      throw new ValidationError(`format must be 'avro' or 'json', got ${String(this.format)}`, { code: 'EMITTER_OPTIONS_INVALID' });
    }
    if (this.format === 'avro') {
      if (!options.registryUrl) throw new ValidationError('registryUrl is required for the avro format', { code: 'EMITTER_OPTIONS_INVALID' });
      this.codec = new EventCodec({ registryUrl: options.registryUrl, auth: options.registryAuth });
    }
    this.topics = { inference: options.topic ?? 'inference-events', groundTruth: options.groundTruthTopic ?? 'ground-truth-events' };
    this.batchSize = positiveInt('batchSize', options.batchSize, 500);
    this.lingerMs = options.lingerMs ?? 20;
    if (!(this.lingerMs >= 0)) throw new ValidationError('lingerMs must be >= 0', { code: 'EMITTER_OPTIONS_INVALID' });
    this.maxBuffered = positiveInt('maxBufferedEvents', options.maxBufferedEvents, this.batchSize * 20);
    this.acks = options.acks ?? -1;
    this.compression = options.compression;
    this.onError = options.onError;
    const kafka = new Kafka({ clientId: 'driftstream-emitter', logLevel: logLevel.ERROR, ...options.kafka, brokers });
    // The Java client's murmur2 partitioner: a modelId lands on the same
    // partition whichever language produced it.
    registerCompressionCodecs();
    this.producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  }

  get stats(): EmitterStats {
    return { ...this.counters };
  }

  async emit(input: InferenceInput): Promise<string> {
    let event: InferenceEvent;
    try {
      event = toInferenceEvent({ ...input, eventId: input.eventId ?? randomUUID(), timestamp: toMillis(input.timestamp) });
    } catch (err) {
      invalid(err);
    }
    await this.enqueue('inference', event.modelId, event);
    return event.eventId;
  }

  async emitGroundTruth(input: GroundTruthInput): Promise<string> {
    let event: GroundTruthEvent;
    try {
      event = toGroundTruthEvent({ ...input, timestamp: toMillis(input.timestamp) });
    } catch (err) {
      invalid(err);
    }
    await this.enqueue('groundTruth', event.modelId, event);
    return event.eventId;
  }

  async flush(): Promise<void> {
    this.sendBuffered(true);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    if (this.errors.length > 0) {
      const errors = this.errors;
      this.errors = [];
      const events = errors.reduce((n, e) => n + Number((e as DriftstreamError & { events?: number }).events ?? 0), 0);
      throw new DriftstreamError('EMIT_FAILED', `${errors.length} batch(es) with ${events} event(s) were not delivered: ${errors[0].message}`, {
        retriable: errors.every((e) => e.retriable),
        cause: errors.length === 1 ? errors[0] : new AggregateError(errors),
      });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.flush();
    } finally {
      if (this.connecting) await this.producer.disconnect().catch(() => undefined);
      for (const wake of this.drained.splice(0)) wake();
    }
  }

  private async enqueue(kind: Kind, key: string, event: InferenceEvent | GroundTruthEvent): Promise<void> {
    if (this.closed) throw new DriftstreamError('EMITTER_CLOSED', 'the emitter is closed');
    await this.connect();
    const value = this.codec ? this.codec.encode(await this.schemaId(kind), event) : EventCodec.encodeJson(event);
    // Backpressure: a producer faster than Kafka waits here instead of growing the buffer without bound.
    while (this.buffer.length + this.inFlightEvents >= this.maxBuffered && !this.closed) {
      await new Promise<void>((resolve) => this.drained.push(resolve));
    }
    if (this.closed) throw new DriftstreamError('EMITTER_CLOSED', 'the emitter is closed');
    this.buffer.push({ topic: this.topics[kind], message: { key, value } });
    this.counters.emitted++;
    if (this.buffer.length >= this.batchSize) this.sendBuffered(false);
    else this.timer ??= setTimeout(() => this.sendBuffered(true), this.lingerMs);
  }

  private connect(): Promise<void> {
    this.connecting ??= this.producer.connect().catch((err: unknown) => {
      this.connecting = undefined;
      throw new UnavailableError('kafka', `cannot connect to Kafka: ${(err as Error).message}`, { cause: err });
    });
    return this.connecting;
  }

  private schemaId(kind: Kind): Promise<number> {
    let id = this.schemaIds.get(kind);
    if (!id) {
      id = this.codec!.register(`${this.topics[kind]}-value`, SCHEMA[kind]);
      // A failed registration is retried by the next emit, not remembered.
      id.catch(() => this.schemaIds.delete(kind));
      this.schemaIds.set(kind, id);
    }
    return id;
  }

  /** Sends full batches, and the partial rest too when `all` (linger expired or flush). */
  private sendBuffered(all: boolean): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.buffer.length >= this.batchSize || (all && this.buffer.length > 0)) {
      this.send(this.buffer.splice(0, this.batchSize));
    }
    if (this.buffer.length > 0) this.timer = setTimeout(() => this.sendBuffered(true), this.lingerMs);
  }

  private send(batch: Pending[]): void {
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) {
      let list = byTopic.get(p.topic);
      if (!list) byTopic.set(p.topic, (list = []));
      list.push(p.message);
    }
    this.counters.batches++;
    this.inFlightEvents += batch.length;
    const request = this.producer
      .sendBatch({
        acks: this.acks,
        compression: this.compression,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      })
      .then(
        () => {
          this.counters.delivered += batch.length;
        },
        (err: unknown) => {
          this.counters.failed += batch.length;
          const retriable = (err as { retriable?: boolean }).retriable !== false;
          const error = Object.assign(
            new DriftstreamError('EMIT_FAILED', `Kafka did not accept ${batch.length} event(s): ${(err as Error).message}`, { retriable, cause: err }),
            { events: batch.length },
          );
          this.errors.push(error);
          try {
            this.onError?.(error, batch.length);
          } catch {
            // a throwing callback must not break the delivery bookkeeping
          }
        },
      )
      .finally(() => {
        this.inFlightEvents -= batch.length;
        this.inFlight.delete(request);
        for (const wake of this.drained.splice(0)) wake();
      });
    this.inFlight.add(request);
  }
}

/**
 * Creates a batching producer of driftstream events for prediction services.
 * Events are validated as the detector validates them, encoded as Avro in the
 * Confluent wire format (schemas registered under `<topic>-value` on first use)
 * or as JSON, keyed by `modelId`, and sent in batches of `batchSize` or every
 * `lingerMs`, whichever comes first.
 *
 * ```ts
 * const emitter = createInferenceEmitter({ brokers: 'kafka:9092', registryUrl: 'http://registry:8081/apis/ccompat/v7' });
 * const eventId = await emitter.emit({ modelId: 'credit-risk', features: { age: 42, region: 'north' }, score: 0.81, prediction: '1' });
 * await emitter.emitGroundTruth({ eventId, modelId: 'credit-risk', label: '1' });
 * await emitter.close();
 * ```
 */
export function createInferenceEmitter(options: InferenceEmitterOptions): InferenceEmitter {
  return new KafkaInferenceEmitter(options);
}
