import type { AlertStateStore } from '../ports/alert-state-store.js';
import type { CheckpointStore } from '../ports/checkpoint-store.js';
import type { HealthCheck } from '../ports/health-check.js';
import type { ModelRepository } from '../ports/model-repository.js';
import type { PaneCoordinator } from '../ports/pane-coordinator.js';
import type { ResultRepository } from '../ports/result-repository.js';
import type { LabelJoin } from '../ports/label-join.js';
import type { AnalysisRepository } from '../ports/analysis-repository.js';
import type { HistoryBackpressure } from '../ports/history-backpressure.js';
import type { ChannelRepository, NotificationLog } from '../ports/notification-log.js';
import type { MigrationStatus } from '../adapters/postgres/migrate.js';
import type { RateLimitStore } from '../http/deps.js';

// The shapes shared by create-adapters.ts and the adapters it imports only when configured.

/** Every port implementation the detector and the HTTP service need, chosen by configuration. */
export interface Adapters {
  readonly kind: { readonly state: 'redis' | 'memory'; readonly history: 'postgres' | 'memory' };
  readonly models: ModelRepository;
  /** History; with PostgreSQL, a {@link BufferedResultWriter} in front of it. */
  readonly results: ResultRepository;
  readonly history: HistoryBackpressure;
  readonly checkpoints: CheckpointStore;
  readonly paneCoordinator: PaneCoordinator;
  readonly alertState: AlertStateStore;
  readonly labelJoin: LabelJoin;
  /** Backfill analyses and their windows. */
  readonly analyses: AnalysisRepository;
  /** The notifications' delivery log and channels (PostgreSQL with the history). */
  readonly notifications: NotificationLog;
  readonly channels: ChannelRepository;
  readonly healthChecks: readonly HealthCheck[];
  /** The shared Redis the HTTP write rate limit counts in, when state is in Redis. */
  readonly rateLimitStore?: RateLimitStore;
  /** Writes what is buffered (bounded by `timeoutMs`), then closes the connections. */
  close(timeoutMs?: number): Promise<void>;
}

export interface CreateAdaptersOptions {
  /** Apply pending migrations at start (the detector does; `serve` may too). Default true. */
  migrate?: boolean;
  /** How long to keep retrying an unreachable PostgreSQL at start. Default 60 s. */
  startupTimeoutMs?: number;
}

/** What each half of the composition adds to the whole: health checks and how to close. */
export interface Opened {
  readonly healthChecks: HealthCheck[];
  readonly closers: (() => Promise<unknown>)[];
}

/** The schema migrations of one PostgreSQL database (what `driftstream migrate` lists and applies). */
export interface DatabaseMigrations {
  status(): Promise<MigrationStatus[]>;
  /** Applies the pending migrations; returns the versions applied. */
  apply(): Promise<number[]>;
  close(): Promise<void>;
}
