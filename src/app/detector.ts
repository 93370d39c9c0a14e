import { readFile } from 'node:fs/promises';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { MAX_FEATURES_PER_MODEL, type ModelConfig, type ModelDefaults } from '../core/model/model-config.js';
import { parseModelsFile } from '../config/models-file.js';
import { ConfigError } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import { ensureTopics } from '../adapters/kafka/kafka-client.js';
import { KafkaStreamRunner } from '../adapters/kafka/kafka-stream-runner.js';
import { KafkaGroundTruthRunner } from '../adapters/kafka/kafka-ground-truth-runner.js';
import { GroundTruthProcessor } from '../stream/ground-truth-processor.js';
import { InferenceLabelRecorder, LabelJoinBudget } from '../stream/inference-label-recorder.js';
import { LabelActivity } from '../stream/label-activity.js';
import type { LabelJoin } from '../ports/label-join.js';
import { PerformanceEvaluator, windowPerformanceOf } from '../stream/performance-evaluator.js';
import { LabelJoinPerformanceReader } from '../stream/performance-reader.js';
import { ModelCatalog } from '../stream/model-catalog.js';
import { DetectorState } from '../stream/detector-state.js';
import { WindowEvaluator } from '../stream/window-evaluator.js';
import { TurnBudget } from '../stream/turn-budget.js';
import { Topology } from '../stream/topology.js';
import { IngestWorkers, ingestWorkerCount } from './ingest-workers.js';
import type { StreamLimits } from '../stream/stream-limits.js';
import type { ProcessorContext } from '../stream/inference-processor.js';
import type { ProcessingErrorPolicy } from '../stream/processing-error-policy.js';
import type { ModelRepository } from '../ports/model-repository.js';
import type { PaneCoordinator } from '../ports/pane-coordinator.js';
import type { ResultRepository } from '../ports/result-repository.js';
import type { StreamProgress } from '../ports/stream-progress.js';
import {
  defaultPaneCoordinator,
  openKafkaSinks,
  withDetectorDefaults,
  type DetectorDeps,
  type KafkaSinks,
  type ResolvedDetectorDeps,
} from './detector-deps.js';

export type { DetectorDeps } from './detector-deps.js';

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
  /** Ingest worker threads running (0: the per-event work is on the main thread). */
  readonly ingestWorkers: number;
  /** Checkpoints, commits, drains evaluations and disconnects. Idempotent. */
  stop(): Promise<void>;
}

/** Closed panes queued for evaluation before a partition waits for them (each holds its merged partials). */
const EVALUATIONS_QUEUED_MAX = 64;

/**
 * How long the detector's own work (every partition's batches, label-join flushes, window
 * evaluations together) holds the event loop before the poll phase runs again: what an HTTP request
 * or a fetch response waits for beside ingest at full speed (see src/stream/turn-budget.ts).
 */
export const TURN_BUDGET_MS = 5;

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

/** The catalog of models: the repository's, plus the declared ones stored at start. */
async function openCatalog(config: Config, deps: ResolvedDetectorDeps, declared: readonly ModelConfig[]): Promise<ModelCatalog> {
  const catalog = new ModelCatalog({
    repository: deps.models,
    logger: deps.logger,
    defaults: modelDefaultsOf(config),
    autoRegister: config.detector.autoRegister,
    maxModels: config.detector.maxModels,
    maxAutoRegistered: config.detector.maxAutoRegisteredModels,
    now: deps.now,
  });
  await catalog.init(declared);
  return catalog;
}

function ensureDetectorTopics(kafka: Kafka, topics: Config['topics'], partitions: number): Promise<void> {
  return ensureTopics(kafka, [
    { topic: topics.inference, numPartitions: partitions },
    { topic: topics.alerts },
    { topic: topics.metrics },
    { topic: topics.dlq, numPartitions: partitions },
    { topic: topics.groundTruth, numPartitions: partitions },
  ]);
}

/** The parts of a detector the inference stream and the label stream share. */
interface DetectorParts {
  readonly catalog: ModelCatalog;
  readonly coordinator: PaneCoordinator;
  readonly state: DetectorState;
  readonly sinks: KafkaSinks;
  readonly evaluator: WindowEvaluator;
  readonly performanceModel: PerformanceModelOf;
  /** The share of each event-loop turn the detector's work may hold (batches, flushes, evaluations). */
  readonly turns: TurnBudget;
}

type PerformanceModelOf = ConstructorParameters<typeof PerformanceEvaluator>[0]['model'];

function performanceModelOf(catalog: ModelCatalog): PerformanceModelOf {
  return (modelId: string) => {
    const rt = catalog.get(modelId);
    return rt && { config: rt.config, referenceId: rt.layout?.referenceId, referencePerformance: rt.layout?.profile.performance };
  };
}

function createWindowEvaluator(deps: ResolvedDetectorDeps, parts: Omit<DetectorParts, 'evaluator'>): WindowEvaluator {
  return new WindowEvaluator({
    catalog: parts.catalog,
    coordinator: parts.coordinator,
    alertState: deps.alertState,
    sink: parts.sinks.alertSink,
    results: deps.results,
    state: parts.state,
    metrics: deps.metrics,
    logger: deps.logger,
    now: deps.now,
    durable: deps.durable,
    performanceOf: windowPerformanceOf(deps.labelJoin, parts.performanceModel),
    turns: parts.turns,
  });
}

/** The ingest workers `DRIFTSTREAM_WORKERS` asks for; undefined when the main thread does the per-event work. */
function createIngestWorkers(config: Config, deps: ResolvedDetectorDeps, catalog: ModelCatalog): IngestWorkers | undefined {
  const count = ingestWorkerCount(config.detector.workers);
  if (count === 0) return undefined;
  deps.logger.info({ workers: count }, 'ingest runs on worker threads');
  // The workers decode as the detector's own codec does (which a caller may have passed in), not from the configuration.
  return new IngestWorkers(count, { codec: deps.codec.options, limits: streamLimitsOf(config), dedup: dedupOf(config) }, catalog, deps.logger);
}

function streamLimitsOf(config: Config): StreamLimits {
  return {
    maxFutureSkewMs: config.detector.maxFutureSkewMs,
    maxStringBytes: config.detector.maxStringBytes,
    maxAutoFeatures: Math.min(config.detector.maxAutoFeatures, MAX_FEATURES_PER_MODEL),
  };
}

function dedupOf(config: Config): { windowMs: number; capacity: number } {
  return { windowMs: config.detector.dedupWindowMs, capacity: config.detector.dedupCapacity };
}

function createTopology(config: Config, deps: ResolvedDetectorDeps, options: DetectorOptions, parts: DetectorParts, workers: IngestWorkers | undefined): Topology {
  const { metrics, logger, labelJoin } = deps;
  const labelBudget = new LabelJoinBudget(config.detector.labelJoinMaxPerModel, config.detector.labelHorizonMs);
  const labelActivity = new LabelActivity(labelJoin, config.detector.labelHorizonMs, metrics, logger);
  const context: ProcessorContext = {
    groupId: config.groupId,
    catalog: parts.catalog,
    decoder: deps.codec,
    coordinator: parts.coordinator,
    evaluator: parts.evaluator,
    checkpoints: deps.checkpoints,
    deadLetters: parts.sinks.deadLetters,
    state: parts.state,
    metrics,
    logger,
    policy: options.policy ?? 'dlq',
    idleTimeoutMs: config.detector.idleTimeoutMs,
    now: deps.now,
    inferenceSink: deps.inferenceSink ?? (() => new InferenceLabelRecorder(labelJoin, metrics, logger, undefined, labelBudget, labelActivity, parts.turns)),
    limits: streamLimitsOf(config),
    dedup: dedupOf(config),
    // A closed pane's evaluation does not hold the partition's next batch back.
    evaluation: { mode: 'background', maxPending: EVALUATIONS_QUEUED_MAX },
    turns: parts.turns,
    ...(workers ? { ingestBackend: (topic: string, partition: number) => workers.backend(topic, partition) } : {}),
  };
  return new Topology(context, {
    sourceTopic: config.topics.inference,
    checkpointIntervalMs: config.detector.checkpointIntervalMs,
    punctuateIntervalMs: options.punctuateIntervalMs ?? Math.min(1000, Math.max(100, Math.floor(config.detector.idleTimeoutMs / 4))),
  });
}

function createInferenceRunner(
  config: Config,
  deps: ResolvedDetectorDeps,
  options: DetectorOptions,
  topology: Topology,
  onFatal: (err: Error) => void,
): KafkaStreamRunner {
  return new KafkaStreamRunner(
    deps.kafka,
    topology,
    {
      groupId: config.groupId,
      startFrom: options.startFrom,
      idleTimeoutMs: config.detector.idleTimeoutMs,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
      sessionTimeoutMs: options.sessionTimeoutMs ?? config.kafka.sessionTimeoutMs,
      backpressure: deps.backpressure,
      stallTimeoutMs: config.detector.stallTimeoutMs,
      onFatal,
    },
    deps.logger,
    deps.metrics,
  );
}

/** Labels: their own consumer group (docs/performance.md), the same decoder and DLQ policy. */
function createLabelRunner(
  config: Config,
  deps: ResolvedDetectorDeps,
  options: DetectorOptions,
  parts: DetectorParts,
  onFatal: (err: Error) => void,
): KafkaGroundTruthRunner {
  const { metrics, logger, labelJoin } = deps;
  const performanceEvaluator = new PerformanceEvaluator({
    join: labelJoin,
    model: parts.performanceModel,
    alertState: deps.alertState,
    sink: parts.sinks.alertSink,
    results: deps.results,
    metrics,
    logger,
    horizonMs: config.detector.labelHorizonMs,
    now: deps.now,
  });
  const processor = new GroundTruthProcessor({
    decoder: deps.codec,
    join: labelJoin,
    deadLetters: parts.sinks.deadLetters,
    policy: options.policy ?? 'dlq',
    metrics,
    logger,
    // With auto-registration on, a label may come before its model's first inference.
    acceptsModel: (modelId) => config.detector.autoRegister || parts.catalog.get(modelId) !== undefined,
  });
  return new KafkaGroundTruthRunner(
    deps.kafka,
    processor,
    {
      topic: config.topics.groundTruth,
      groupId: config.groupId,
      startFrom: options.startFrom,
      sessionTimeoutMs: options.sessionTimeoutMs ?? config.kafka.sessionTimeoutMs,
      punctuator: performanceEvaluator,
      punctuateIntervalMs: options.performanceIntervalMs ?? 5000,
      onFatal,
    },
    logger,
    metrics,
  );
}

/**
 * How a detector ends: `done` resolves after stop(), or rejects with the first
 * unrecoverable error a runner reported (so `driftstream run` exits non-zero).
 */
function detectorLifecycle() {
  let rejectDone: (err: Error) => void = () => {};
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  // A rejection nobody awaits yet must not crash the process before stop() reports it.
  done.catch(() => {});
  let fatalError: Error | undefined;
  let stop: () => Promise<void> = async () => {};
  return {
    done,
    onFatal: (err: Error) => {
      fatalError ??= err;
      void stop();
    },
    stopWith(fn: () => Promise<void>) {
      stop = fn;
    },
    settle() {
      if (fatalError) rejectDone(fatalError);
      else resolveDone();
    },
  };
}

function startModelRefresh(catalog: ModelCatalog, logger: Logger, intervalMs: number): NodeJS.Timeout {
  const timer = setInterval(() => {
    catalog.refresh().catch((err) => logger.warn({ err: (err as Error).message }, 'model refresh failed'));
  }, intervalMs);
  timer.unref();
  return timer;
}

/**
 * Starts the streaming detector over the given dependencies (what `deps`
 * leaves out is filled by {@link withDetectorDefaults}), starts consuming, and
 * returns a handle. Used by `driftstream run`, `driftstream demo`, the
 * integration tests and the load tests.
 */
export async function startDetector(config: Config, given: DetectorDeps = {}, options: DetectorOptions = {}): Promise<DetectorHandle> {
  const deps = withDetectorDefaults(config, given);
  const { logger, metrics } = deps;
  await ensureDetectorTopics(deps.kafka, config.topics, options.inferencePartitions ?? 3);
  const sinks = await openKafkaSinks(config, deps);
  const catalog = await openCatalog(config, deps, options.models ?? []).catch(async (err: unknown) => {
    await sinks.close();
    throw err;
  });
  const shared = { catalog, coordinator: deps.coordinator ?? defaultPaneCoordinator(catalog), state: new DetectorState(catalog), sinks, performanceModel: performanceModelOf(catalog), turns: new TurnBudget(TURN_BUDGET_MS) };
  const parts: DetectorParts = { ...shared, evaluator: createWindowEvaluator(deps, shared) };
  const { state, evaluator } = parts;
  const lifecycle = detectorLifecycle();
  let workers: IngestWorkers | undefined;
  try {
    workers = createIngestWorkers(config, deps, catalog);
  } catch (err) {
    await sinks.close();
    throw err;
  }
  const runner = createInferenceRunner(config, deps, options, createTopology(config, deps, options, parts, workers), lifecycle.onFatal);
  const labels = createLabelRunner(config, deps, options, parts, lifecycle.onFatal);
  const refreshTimer = startModelRefresh(catalog, logger, options.modelRefreshIntervalMs ?? 10_000);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      clearInterval(refreshTimer);
      // Evaluations waiting out an outage give up first: the final checkpoints must not wait behind them.
      evaluator.stop();
      await labels.stop();
      await runner.stop();
      await workers?.close();
      await evaluator.drain();
      await catalog.flush();
      await sinks.close();
      logger.info(state.counters, 'detector stopped');
      lifecycle.settle();
    })());
  lifecycle.stopWith(stop);
  try {
    await runner.start();
    await labels.start();
  } catch (err) {
    clearInterval(refreshTimer);
    await runner.stop().catch(() => {});
    await workers?.close();
    await sinks.close();
    throw err;
  }
  logger.info({ groupId: config.groupId, topic: config.topics.inference, models: state.modelIds() }, 'detector started');
  return {
    state,
    catalog,
    metrics,
    models: deps.models,
    results: deps.results,
    logger,
    joined: runner.joined,
    done: lifecycle.done,
    labelJoin: deps.labelJoin,
    performance: new LabelJoinPerformanceReader(deps.labelJoin, deps.models),
    progress: { stalledPartitions: () => runner.stalledPartitions(), waitingFor: () => evaluator.waitingFor(), refusals: () => sinks.refusals() },
    ingestWorkers: workers?.size ?? 0,
    stop,
  };
}
