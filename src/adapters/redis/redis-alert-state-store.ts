import { DriftstreamError } from '../../errors.js';
import type { DriftAlert } from '../../core/events.js';
import type { AlertStateStore } from '../../ports/alert-state-store.js';
import { redisCall, taggedKey, type RedisClient } from './redis-connection.js';
import type { ReplicaBarrier } from './replica-barrier.js';

export interface RedisAlertStateStoreOptions {
  prefix?: string;
  /** How long a claimed (alertId, status, severity) is remembered; default 30 days. */
  claimTtlMs?: number;
  /** Waits for replicas after a claim, so a failover cannot forget an alert already published. */
  barrier?: ReplicaBarrier;
}

/**
 * Hysteresis trackers and published-alert claims, shared by every evaluator of
 * the consumer group. A claim is `SET NX`: of any number of evaluators (or
 * replays) racing to publish the same alert record, exactly one wins.
 * Trackers are tagged by model, claims by alert: single-key commands, spread
 * over a cluster's masters.
 */
export class RedisAlertStateStore implements AlertStateStore {
  private readonly prefix: string;
  private readonly claimTtlMs: number;
  private readonly barrier: ReplicaBarrier | undefined;

  constructor(
    private readonly client: RedisClient,
    options: RedisAlertStateStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'driftstream:';
    this.claimTtlMs = options.claimTtlMs ?? 30 * 24 * 3_600_000;
    this.barrier = options.barrier;
  }

  async loadTracker(modelId: string, windowName: string): Promise<unknown | undefined> {
    const raw = await redisCall('tracker load', () => this.client.get(taggedKey(this.prefix, ['model', modelId], 'tracker', windowName)));
    if (raw === null) return undefined;
    try {
      return JSON.parse(raw) as unknown;
    } catch (err) {
      throw new DriftstreamError('TRACKER_CORRUPT', `alert tracker of ${modelId}/${windowName} is not valid JSON`, { cause: err });
    }
  }

  async saveTracker(modelId: string, windowName: string, state: unknown): Promise<void> {
    const raw = JSON.stringify(state);
    await redisCall('tracker save', () => this.client.set(taggedKey(this.prefix, ['model', modelId], 'tracker', windowName), raw));
  }

  async claimAlert(alert: DriftAlert): Promise<boolean> {
    const key = taggedKey(this.prefix, ['alert', alert.alertId], alert.status, alert.severity);
    const res = await redisCall('alert claim', () => this.client.set(key, String(alert.detectedAt), 'PX', this.claimTtlMs, 'NX'));
    if (res !== 'OK') return false;
    try {
      await this.barrier?.wait();
    } catch (err) {
      // Not durable: give the claim back so the retry can take it, rather than never publishing the alert.
      await this.client.del(key).catch(() => undefined);
      throw err;
    }
    return true;
  }
}
