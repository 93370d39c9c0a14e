import { EventCodec } from '../../../src/adapters/registry/event-codec.js';
import {
  MemoryAlertStateStore,
  MemoryCheckpointStore,
  MemoryModelRepository,
  MemoryPaneCoordinator,
  MemoryResultRepository,
} from '../../../src/adapters/memory/index.js';
import type { DriftAlert, InferenceEvent } from '../../../src/core/events.js';
import type { Evaluation } from '../../../src/core/drift/types.js';
import type { ModelConfig } from '../../../src/core/model/model-config.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { DetectorState } from '../../../src/stream/detector-state.js';
import { InferenceProcessor, type ProcessorContext } from '../../../src/stream/inference-processor.js';
import { ModelCatalog } from '../../../src/stream/model-catalog.js';
import type { DeadLetter, SourceMessage } from '../../../src/ports/dead-letter-sink.js';
import type { ProcessingErrorPolicy } from '../../../src/stream/processing-error-policy.js';
import { WindowEvaluator } from '../../../src/stream/window-evaluator.js';
import { IngestWorkers } from '../../../src/app/ingest-workers.js';
import { DEFAULT_STREAM_LIMITS } from '../../../src/stream/stream-limits.js';
import { afterAll } from 'vitest';

// `DRIFTSTREAM_WORKERS=2 npx vitest run tests/unit/stream/inference-processor.test.ts` runs the
// processors' per-event work on ingest worker threads (the default limits; no registry, JSON only).
const WORKERS = Number(process.env.DRIFTSTREAM_WORKERS ?? 0);
const pools: IngestWorkers[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

/** A detector without Kafka: memory ports, a settable clock, captured outputs. */
export class Harness {
  now = T0;
  readonly logger = createLogger('silent');
  readonly metrics = createMetrics({ defaultMetrics: false });
  readonly repo = new MemoryModelRepository();
  readonly results = new MemoryResultRepository();
  readonly checkpoints = new MemoryCheckpointStore();
  readonly coordinator = new MemoryPaneCoordinator(3_600_000);
  readonly alertState = new MemoryAlertStateStore();
  readonly published: { alerts: DriftAlert[]; evaluations: Evaluation[] } = { alerts: [], evaluations: [] };
  readonly dead: DeadLetter[] = [];
  readonly catalog: ModelCatalog;
  readonly state: DetectorState;
  readonly evaluator: WindowEvaluator;
  readonly ctx: ProcessorContext;
  private offsets = new Map<number, number>();

  constructor(options: { autoRegister?: boolean; policy?: ProcessingErrorPolicy; idleTimeoutMs?: number } = {}) {
    const now = () => this.now;
    this.catalog = new ModelCatalog({ repository: this.repo, logger: this.logger, autoRegister: options.autoRegister ?? true, now });
    this.state = new DetectorState(this.catalog);
    const sink = {
      publishAlerts: async (a: readonly DriftAlert[]) => void this.published.alerts.push(...a),
      publishEvaluations: async (e: readonly Evaluation[]) => void this.published.evaluations.push(...e),
    };
    this.evaluator = new WindowEvaluator({ catalog: this.catalog, coordinator: this.coordinator, alertState: this.alertState, sink, results: this.results, state: this.state, metrics: this.metrics, logger: this.logger, now });
    this.ctx = {
      groupId: 'g',
      catalog: this.catalog,
      decoder: new EventCodec({ registryUrl: 'http://127.0.0.1:9/none' }),
      coordinator: this.coordinator,
      evaluator: this.evaluator,
      checkpoints: this.checkpoints,
      deadLetters: { send: async (l) => void this.dead.push(...l) },
      state: this.state,
      metrics: this.metrics,
      logger: this.logger,
      policy: options.policy ?? 'dlq',
      idleTimeoutMs: options.idleTimeoutMs ?? 5000,
      now,
    };
    if (WORKERS > 0) {
      const pool = new IngestWorkers(WORKERS, { codec: { registryUrl: 'http://127.0.0.1:9/none' }, limits: DEFAULT_STREAM_LIMITS, dedup: undefined }, this.catalog, this.logger);
      pools.push(pool);
      this.ctx = { ...this.ctx, ingestBackend: (topic, partition) => pool.backend(topic, partition) };
    }
  }

  async init(models: ModelConfig[] = []): Promise<this> {
    await this.catalog.init(models);
    return this;
  }

  processor(partition = 0, partitionCount = 1): InferenceProcessor {
    return new InferenceProcessor('t', partition, partitionCount, this.ctx);
  }

  /** JSON records with consecutive offsets per partition. */
  messages(partition: number, values: readonly (InferenceEvent | Buffer | string | null)[]): SourceMessage[] {
    let o = this.offsets.get(partition) ?? 0;
    const out = values.map((v) => ({
      offset: String(o++),
      key: null,
      value: v === null ? null : Buffer.isBuffer(v) ? v : Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)),
      timestamp: String(this.now),
    }));
    this.offsets.set(partition, o);
    return out;
  }
}

export const control = { heartbeat: async () => {}, isRunning: () => true };
