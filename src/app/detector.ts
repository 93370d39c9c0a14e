import { readFile } from 'node:fs/promises';
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { MAX_FEATURES_PER_MODEL, type ModelConfig, type ModelDefaults } from '../core/model/model-config.js';
import { parseModelsFile } from '../config/models-file.js';
import { ConfigError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { EventCodec } from '../adapters/registry/event-codec.js';
import { createKafka, ensureTopics } from '../adapters/kafka/kafka-client.js';
import { compressionTypeOf } from '../adapters/kafka/compression-codecs.js';
import { KafkaAlertSink } from '../adapters/kafka/kafka-alert-sink.js';
import { KafkaDeadLetterWriter } from '../adapters/kafka/kafka-dead-letter-writer.js';
import { KafkaStreamRunner } from '../adapters/kafka/kafka-stream-runner.js';
import { MemoryModelRepository } from '../adapters/memory/memory-model-repository.js';
import { MemoryResultRepository } from '../adapters/memory/memory-result-repository.js';
import { MemoryCheckpointStore } from '../adapters/memory/memory-checkpoint-store.js';
import { MemoryPaneCoordinator } from '../adapters/memory/memory-pane-coordinator.js';
import { MemoryAlertStateStore } from '../adapters/memory/memory-alert-state-store.js';
import { MemoryLabelJoin } from '../adapters/memory/memory-label-join.js';
import { KafkaGroundTruthRunner } from '../adapters/kafka/kafka-ground-truth-runner.js';
import { GroundTruthProcessor } from '../stream/ground-truth-processor.js';
import { InferenceLabelRecorder, LabelJoinBudget } from '../stream/inference-label-recorder.js';
import type { LabelJoin } from '../ports/label-join.js';
import { PerformanceEvaluator, windowPerformanceOf } from '../stream/performance-evaluator.js';
import { LabelJoinPerformanceReader } from '../stream/performance-reader.js';
import { ModelCatalog } from '../stream/model-catalog.js';
import { DetectorState } from '../stream/detector-state.js';
import { WindowEvaluator } from '../stream/window-evaluator.js';
import { Topology } from '../stream/topology.js';
import type { InferenceSink } from '../ports/inference-sink.js';
import type { ProcessorContext } from '../stream/inference-processor.js';
import type { ValueDecoder } from '../ports/value-decoder.js';
import type { DeadLetterSink } from '../ports/dead-letter-sink.js';
import type { ProcessingErrorPolicy } from '../stream/processing-error-policy.js';
import type { AlertSink } from '../ports/alert-sink.js';
import type { AlertStateStore } from '../ports/alert-state-store.js';
import type { CheckpointStore } from '../ports/checkpoint-store.js';
import type { ModelRepository } from '../ports/model-repository.js';
import type { PaneCoordinator } from '../ports/pane-coordinator.js';
import type { ResultRepository } from '../ports/result-repository.js';
import type { StreamProgress } from '../ports/stream-progress.js';

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

export interface DetectorOptions {
  /** Declared models (a models file); they are stored in the model repository at start. */
  models?: readonly ModelConfig[];
  /** What happens to a record that cannot be processed. Default `dlq`. */
  policy?: ProcessingErrorPolicy;
  /** Where partitions without a committed offset start. Default earliest. */
  startFrom?: 'earliest' | 'latest';
  /** Partitions of the inference topic when the detector has to create it. Default 3. */
  inferencePartitions?: number;
  punctuateIntervalMs?: number;
  modelRefreshIntervalMs?: number;
  partitionsConsumedConcurrently?: number;
  sessionTimeoutMs?: number;
  /** How often windows whose performance counters changed are re-evaluated. Default 5000 ms. */
  performanceIntervalMs?: number;
}

/** A running detector. */
export interface DetectorHandle {
  readonly state: DetectorState;
  readonly catalog: ModelCatalog;
  readonly metrics: Metrics;
  readonly models: ModelRepository;
  readonly results: ResultRepository;
  readonly logger: Logger;
  /** Resolves when the consumer first joined its group and got partitions. */
  readonly joined: Promise<void>;
  /** Rejects when the detector stops on an unrecoverable error; resolves after {@link stop}. */
  readonly done: Promise<void>;
  /** The label join the detector records inferences and labels in. */
  readonly labelJoin: LabelJoin;
  /** Latest window performance, read from the label join (for the HTTP service). */
  readonly performance: LabelJoinPerformanceReader;
  /** Stalled partitions and dependencies being waited out, for /readyz. */
  readonly progress: StreamProgress;
  /** Checkpoints, commits, drains evaluations and disconnects. Idempotent. */
  stop(): Promise<void>;
}

/** Environment defaults a model configuration takes from {@link Config}. */
export function modelDefaultsOf(config: Config): ModelDefaults {
  return {
    allowedLatenessMs: config.detector.allowedLatenessMs,
    bootstrapEvents: config.detector.bootstrapEvents,
    bootstrapDurationMs: config.detector.bootstrapDurationMs,
    resolveAfter: config.detector.resolveAfter,
  };
}

/** Reads and validates a models file (YAML or JSON, `{"models": [...]}`). */
export async function loadModelsFile(path: string, defaults: ModelDefaults): Promise<ModelConfig[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`models file ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  return parseModelsFile(text, path, defaults);
}

/**
 * The composition root of the streaming detector: wires the configuration,
 * the adapters and the stream, starts consuming, and returns a handle. Used by
 * `driftstream run`, `driftstream demo`, the integration tests and the load tests.
 */
export async function startDetector(config: Config, deps: DetectorDeps = {}, options: DetectorOptions = {}): Promise<DetectorHandle> {
  const logger = deps.logger ?? createLogger(config.logLevel);
  const metrics = deps.metrics ?? createMetrics({ maxModelSeries: config.detector.metricsMaxModels });
  const now = deps.now ?? Date.now;
  const kafka = deps.kafka ?? createKafka(config.kafka, logger);
  const codec =
    deps.codec ?? new EventCodec({ registryUrl: config.registry.url, auth: config.registry.auth, maxBytes: config.detector.maxMessageBytes });
  const topics = config.topics;

  await ensureTopics(kafka, [
    { topic: topics.inference, numPartitions: options.inferencePartitions ?? 3 },
    { topic: topics.alerts },
    { topic: topics.metrics },
    { topic: topics.dlq, numPartitions: options.inferencePartitions ?? 3 },
    { topic: topics.groundTruth, numPartitions: options.inferencePartitions ?? 3 },
  ]);

  let producer: Producer | undefined;
  const compression = compressionTypeOf(config.kafka.compression);
  if (!deps.alertSink || !deps.deadLetters) {
    // Idempotence needs unlimited retries (kafkajs warns otherwise); a send waits out a broker outage.
    producer = kafka.producer({
      // Keyed records (alerts and evaluations by modelId) land on the partition Java clients choose too.
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5000 },
    });
    await producer.connect();
  }
  let alertSink = deps.alertSink;
  if (!alertSink) {
    const sink = new KafkaAlertSink(producer!, codec, {
      alertsTopic: topics.alerts,
      metricsTopic: topics.metrics,
      maxEvaluationBytes: config.detector.maxEvaluationBytes,
      metrics,
      logger,
      compression,
    });
    await sink.init();
    alertSink = sink;
  }
  const deadLetters = deps.deadLetters ?? new KafkaDeadLetterWriter(producer!, topics.dlq, { maxRecordBytes: config.detector.dlqMaxRecordBytes, metrics, logger, compression });

  const models = deps.models ?? new MemoryModelRepository();
  const results = deps.results ?? new MemoryResultRepository();
  const checkpoints = deps.checkpoints ?? new MemoryCheckpointStore();
  const alertState = deps.alertState ?? new MemoryAlertStateStore();
  const labelJoin = deps.labelJoin ?? new MemoryLabelJoin({ horizonMs: config.detector.labelHorizonMs, capacity: config.detector.memoryLabelCapacity });

  const catalog = new ModelCatalog({
    repository: models,
    logger,
    defaults: modelDefaultsOf(config),
    autoRegister: config.detector.autoRegister,
    maxModels: config.detector.maxModels,
    maxAutoRegistered: config.detector.maxAutoRegisteredModels,
    now,
  });
  await catalog.init(options.models ?? []);
  // Complete panes are kept for the longest window (auto-registered models get the default 1h window).
  const coordinator = deps.coordinator ?? new MemoryPaneCoordinator(Math.max(catalog.longestWindowMs, 3_600_000));
  const state = new DetectorState(catalog);
  const performanceModel = (modelId: string) => {
    const rt = catalog.get(modelId);
    return rt && { config: rt.config, referenceId: rt.layout?.referenceId, referencePerformance: rt.layout?.profile.performance };
  };
  const evaluator = new WindowEvaluator({
    catalog,
    coordinator,
    alertState,
    sink: alertSink,
    results,
    state,
    metrics,
    logger,
    now,
    durable: deps.durable,
    performanceOf: windowPerformanceOf(labelJoin, performanceModel),
  });
  const decoder: ValueDecoder = codec;
  const labelBudget = new LabelJoinBudget(config.detector.labelJoinMaxPerModel, config.detector.labelHorizonMs);
  const context: ProcessorContext = {
    groupId: config.groupId,
    catalog,
    decoder,
    coordinator,
    evaluator,
    checkpoints,
    deadLetters,
    state,
    metrics,
    logger,
    policy: options.policy ?? 'dlq',
    idleTimeoutMs: config.detector.idleTimeoutMs,
    now,
    inferenceSink: deps.inferenceSink ?? (() => new InferenceLabelRecorder(labelJoin, metrics, logger, undefined, labelBudget)),
    limits: {
      maxFutureSkewMs: config.detector.maxFutureSkewMs,
      maxStringBytes: config.detector.maxStringBytes,
      maxAutoFeatures: Math.min(config.detector.maxAutoFeatures, MAX_FEATURES_PER_MODEL),
    },
    dedup: { windowMs: config.detector.dedupWindowMs, capacity: config.detector.dedupCapacity },
  };
  const topology = new Topology(context, {
    sourceTopic: topics.inference,
    checkpointIntervalMs: config.detector.checkpointIntervalMs,
    punctuateIntervalMs: options.punctuateIntervalMs ?? Math.min(1000, Math.max(100, Math.floor(config.detector.idleTimeoutMs / 4))),
  });

  let rejectDone: (err: Error) => void = () => {};
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  // A rejection nobody awaits yet must not crash the process before stop() reports it.
  done.catch(() => {});

  let stopping: Promise<void> | undefined;
  // The first unrecoverable error: stop() rejects `done` with it, so `driftstream run` exits non-zero.
  let fatalError: Error | undefined;
  const runner = new KafkaStreamRunner(
    kafka,
    topology,
    {
      groupId: config.groupId,
      startFrom: options.startFrom,
      idleTimeoutMs: config.detector.idleTimeoutMs,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
      sessionTimeoutMs: options.sessionTimeoutMs ?? config.kafka.sessionTimeoutMs,
      backpressure: deps.backpressure,
      stallTimeoutMs: config.detector.stallTimeoutMs,
      onFatal: (err) => {
        fatalError ??= err;
        void handle.stop();
      },
    },
    logger,
    metrics,
  );

  // Labels: their own consumer group (docs/performance.md), the same decoder and DLQ policy.
  const performanceEvaluator = new PerformanceEvaluator({
    join: labelJoin,
    model: performanceModel,
    alertState,
    sink: alertSink,
    results,
    metrics,
    logger,
    horizonMs: config.detector.labelHorizonMs,
    now,
  });
  const labels = new KafkaGroundTruthRunner(
    kafka,
    new GroundTruthProcessor({
      decoder,
      join: labelJoin,
      deadLetters,
      policy: options.policy ?? 'dlq',
      metrics,
      logger,
      // With auto-registration on, a label may come before its model's first inference.
      acceptsModel: (modelId) => config.detector.autoRegister || catalog.get(modelId) !== undefined,
    }),
    {
      topic: topics.groundTruth,
      groupId: config.groupId,
      startFrom: options.startFrom,
      sessionTimeoutMs: options.sessionTimeoutMs ?? config.kafka.sessionTimeoutMs,
      punctuator: performanceEvaluator,
      punctuateIntervalMs: options.performanceIntervalMs ?? 5000,
      onFatal: (err) => {
        fatalError ??= err;
        void handle.stop();
      },
    },
    logger,
    metrics,
  );

  const refreshTimer = setInterval(() => {
    catalog.refresh().catch((err) => logger.warn({ err: (err as Error).message }, 'model refresh failed'));
  }, options.modelRefreshIntervalMs ?? 10_000);
  refreshTimer.unref();

  const handle: DetectorHandle = {
    state,
    catalog,
    metrics,
    models,
    results,
    logger,
    joined: runner.joined,
    done,
    labelJoin,
    performance: new LabelJoinPerformanceReader(labelJoin, models),
    progress: {
      stalledPartitions: () => runner.stalledPartitions(),
      waitingFor: () => evaluator.waitingFor(),
    },
    stop() {
      stopping ??= (async () => {
        clearInterval(refreshTimer);
        // Evaluations waiting out an outage give up first: the final checkpoints must not wait behind them.
        evaluator.stop();
        await labels.stop();
        await runner.stop();
        await evaluator.drain();
        await catalog.flush();
        if (producer) await producer.disconnect().catch(() => {});
        logger.info(state.counters, 'detector stopped');
        if (fatalError) rejectDone(fatalError);
        else resolveDone();
      })();
      return stopping;
    },
  };

  try {
    await runner.start();
    await labels.start();
  } catch (err) {
    clearInterval(refreshTimer);
    await runner.stop().catch(() => {});
    if (producer) await producer.disconnect().catch(() => {});
    throw err;
  }
  logger.info({ groupId: config.groupId, topic: topics.inference, models: state.modelIds() }, 'detector started');
  return handle;
}
