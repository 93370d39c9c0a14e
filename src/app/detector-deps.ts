import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { createLogger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { EventCodec } from '../adapters/registry/event-codec.js';
import { createKafka } from '../adapters/kafka/kafka-client.js';
import { compressionTypeOf } from '../adapters/kafka/compression-codecs.js';
import { KafkaAlertSink } from '../adapters/kafka/kafka-alert-sink.js';
import { KafkaDeadLetterWriter } from '../adapters/kafka/kafka-dead-letter-writer.js';
import {
  MemoryAlertStateStore,
  MemoryCheckpointStore,
  MemoryModelRepository,
  MemoryPaneCoordinator,
  MemoryResultRepository,
} from '../adapters/memory/index.js';
import { MemoryLabelJoin } from '../adapters/memory/memory-label-join.js';
import type { ModelCatalog } from '../stream/model-catalog.js';
import type { InferenceSink } from '../ports/inference-sink.js';
import type { LabelJoin } from '../ports/label-join.js';
import type { DeadLetterSink } from '../ports/dead-letter-sink.js';
import type { AlertSink } from '../ports/alert-sink.js';
import type { DependencyRefusal } from '../ports/stream-progress.js';
import type { AlertStateStore } from '../ports/alert-state-store.js';
import type { CheckpointStore } from '../ports/checkpoint-store.js';
import type { ModelRepository } from '../ports/model-repository.js';
import type { PaneCoordinator } from '../ports/pane-coordinator.js';
import type { ResultRepository } from '../ports/result-repository.js';
import type { Adapters } from './create-adapters.js';

/**
 * Adapters of the detector. Anything left out gets the default: Kafka sinks
 * built from the configuration, and in-memory state (a restart forgets open
 * windows, alert state and history). Tests and load tests pass their own.
 */
export interface DetectorDeps {
  logger?: Logger;
  metrics?: Metrics;
  kafka?: Kafka;
  codec?: EventCodec;
  models?: ModelRepository;
  results?: ResultRepository;
  checkpoints?: CheckpointStore;
  coordinator?: PaneCoordinator;
  alertState?: AlertStateStore;
  alertSink?: AlertSink;
  deadLetters?: DeadLetterSink;
  /** Resolves once saved results are durable (a buffered repository); panes are settled after it. */
  durable?: () => Promise<void>;
  /** Pauses consumption while a downstream buffer is full. */
  backpressure?: { isFull(): boolean; whenWritable(): Promise<void> };
  /** Per-partition receiver of every valid inference (the label join's recorder). */
  inferenceSink?: () => InferenceSink;
  /** The label join (Redis in production); default in memory. Inferences are recorded in it unless `inferenceSink` replaces the recorder. */
  labelJoin?: LabelJoin;
  now?: () => number;
}

/** The detector's dependencies with every default filled in, except the pane coordinator and the Kafka sinks (see {@link defaultPaneCoordinator} and {@link openKafkaSinks}). */
export type ResolvedDetectorDeps = DetectorDeps &
  Required<Pick<DetectorDeps, 'logger' | 'metrics' | 'now' | 'kafka' | 'codec' | 'models' | 'results' | 'checkpoints' | 'alertState' | 'labelJoin'>>;

/** The detector's dependencies taken from the adapters {@link createAdapters} built (what `driftstream run` passes). */
export function detectorDepsFrom(adapters: Adapters, base: { logger: Logger; metrics: Metrics }): DetectorDeps {
  return {
    logger: base.logger,
    metrics: base.metrics,
    models: adapters.models,
    results: adapters.results,
    checkpoints: adapters.checkpoints,
    coordinator: adapters.paneCoordinator,
    alertState: adapters.alertState,
    labelJoin: adapters.labelJoin,
    durable: () => adapters.history.durable(),
    backpressure: adapters.history,
  };
}

/** Fills what `deps` leaves out: a logger and metrics from the configuration, a Kafka client and codec, and in-memory state. */
export function withDetectorDefaults(config: Config, deps: DetectorDeps): ResolvedDetectorDeps {
  const logger = deps.logger ?? createLogger(config.logLevel);
  return {
    ...deps,
    logger,
    metrics: deps.metrics ?? createMetrics({ maxModelSeries: config.detector.metricsMaxModels }),
    now: deps.now ?? Date.now,
    kafka: deps.kafka ?? createKafka(config.kafka, logger),
    codec: deps.codec ?? new EventCodec({ registryUrl: config.registry.url, auth: config.registry.auth, maxBytes: config.detector.maxMessageBytes }),
    models: deps.models ?? new MemoryModelRepository(),
    results: deps.results ?? new MemoryResultRepository(),
    checkpoints: deps.checkpoints ?? new MemoryCheckpointStore(),
    alertState: deps.alertState ?? new MemoryAlertStateStore(),
    labelJoin: deps.labelJoin ?? new MemoryLabelJoin({ horizonMs: config.detector.labelHorizonMs, capacity: config.detector.memoryLabelCapacity }),
  };
}

/** An in-memory pane coordinator keeping complete panes for the longest window (auto-registered models get the default 1h window). */
export function defaultPaneCoordinator(catalog: ModelCatalog): PaneCoordinator {
  return new MemoryPaneCoordinator(Math.max(catalog.longestWindowMs, 3_600_000));
}

export interface KafkaSinks {
  readonly alertSink: AlertSink;
  readonly deadLetters: DeadLetterSink;
  /** What a dependency refuses until an operator acts (a refused DriftAlert schema), for /readyz. */
  refusals(): DependencyRefusal[];
  /** Disconnects the producer the sinks were built on, if any. */
  close(): Promise<void>;
}

function connectSinkProducer(kafka: Kafka): Producer {
  // Idempotence needs unlimited retries (kafkajs warns otherwise); a send waits out a broker outage.
  return kafka.producer({
    // Keyed records (alerts and evaluations by modelId) land on the partition Java clients choose too.
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5000 },
  });
}

/** The alert sink and the dead-letter writer: those `deps` gives, the others on one idempotent Kafka producer. */
export async function openKafkaSinks(config: Config, deps: ResolvedDetectorDeps): Promise<KafkaSinks> {
  const { kafka, codec, metrics, logger } = deps;
  const topics = config.topics;
  const compression = compressionTypeOf(config.kafka.compression);
  let producer: Producer | undefined;
  if (!deps.alertSink || !deps.deadLetters) {
    producer = connectSinkProducer(kafka);
    await producer.connect();
  }
  let alertSink = deps.alertSink;
  let kafkaAlertSink: KafkaAlertSink | undefined;
  if (!alertSink) {
    const sink = new KafkaAlertSink(producer!, codec, {
      alertsTopic: topics.alerts,
      metricsTopic: topics.metrics,
      maxEvaluationBytes: config.detector.maxEvaluationBytes,
      metrics,
      logger,
      compression,
    });
    try {
      await sink.init();
    } catch (err) {
      // A start that fails here (the alert schema refused, the registry away) leaves no connection open.
      sink.close();
      await producer?.disconnect().catch(() => {});
      throw err;
    }
    alertSink = kafkaAlertSink = sink;
  }
  const deadLetters =
    deps.deadLetters ?? new KafkaDeadLetterWriter(producer!, topics.dlq, { maxRecordBytes: config.detector.dlqMaxRecordBytes, metrics, logger, compression });
  return {
    alertSink,
    deadLetters,
    refusals: () => kafkaAlertSink?.refusals() ?? [],
    close: async () => {
      kafkaAlertSink?.close();
      if (producer) await producer.disconnect().catch(() => {});
    },
  };
}
