import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Metrics } from '../observability/metrics.js';
import type { HealthCheck } from '../ports/health-check.js';
import type { StreamProgress } from '../ports/stream-progress.js';
import type { ModelConfigJson, ModelRepository } from '../ports/model-repository.js';
import type { ResultRepository } from '../ports/result-repository.js';
import type { DetectorStateReader } from '../ports/detector-state-reader.js';
import type { PerformanceReader } from '../ports/performance-reader.js';
import type { ReferenceBuilder } from '../ports/reference-builder.js';
import type { AnalysisRepository } from '../ports/analysis-repository.js';
import type { ChannelRepository, NotificationLog } from '../ports/notification-log.js';

export type HttpConfig = Config['http'];

/** Everything {@link buildApp} needs; nothing here talks to Kafka. */
export interface HttpDeps {
  config: HttpConfig;
  models: ModelRepository;
  results: ResultRepository;
  state?: DetectorStateReader;
  healthChecks: readonly HealthCheck[];
  /** The stream's progress (stalled partitions, dependencies waited out); /readyz fails while there are any. */
  streamProgress?: StreamProgress;
  metrics: Metrics;
  logger: Logger;
  referenceBuilder?: ReferenceBuilder;
  performance?: PerformanceReader;
  /** The notifications' delivery log (GET /api/v1/notifications); absent: the routes answer 404. */
  notifications?: NotificationLog;
  /** Notification channels (GET/PUT/DELETE /api/v1/channels). */
  channels?: ChannelRepository;
  /** Validates and normalizes a model configuration from PUT; throws a DriftstreamError when invalid. */
  parseModelConfig?: (value: unknown) => ModelConfigJson;
  /** Clock for created-at stamps; tests pass a fixed one. */
  now?: () => number;
  /** Timeout of each readiness check. Default 2000 ms. */
  healthTimeoutMs?: number;
  /**
   * How long a model configuration or a window's latest evaluation read by
   * one request is reused by later ones (other processes' writes show after
   * at most this long). Default 1000 ms; 0 disables.
   */
  readCacheMs?: number;
  /** Backfill analyses; their routes are served only when given. */
  analyses?: AnalysisRepository;
  /** Told when an analysis is queued, so a runner takes it at once. */
  analysisQueue?: { wake(): void };
  /** The topic a topic-range analysis reads when it names none (the inference topic). */
  analysisTopic?: string;
  /** Where the write rate limit counts, so every replica shares one budget per client; absent: in this process. */
  rateLimitStore?: RateLimitStore;
}

/** A Redis the write rate limit counts in: an ioredis client (standalone or cluster) and the prefix of its keys. */
export interface RateLimitStore {
  readonly redis: unknown;
  readonly keyPrefix: string;
}
