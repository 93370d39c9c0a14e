import type { Redis } from 'ioredis';
import { DriftstreamError } from '../../errors.js';
import type { DriftAlert } from '../../core/events.js';
import type { AlertStateStore } from '../../ports/alert-state-store.js';
import { keyOf, redisCall } from './redis-connection.js';

export interface RedisAlertStateStoreOptions {
  prefix?: string;
  /** How long a claimed (alertId, status, severity) is remembered; default 30 days. */
  claimTtlMs?: number;
}

/**
 * Hysteresis trackers and published-alert claims, shared by every evaluator of
 * the consumer group. A claim is `SET NX`: of any number of evaluators (or
 * replays) racing to publish the same alert record, exactly one wins.
 */
export class RedisAlertStateStore implements AlertStateStore {
  private readonly prefix: string;
  private readonly claimTtlMs: number;

  constructor(
    private readonly client: Redis,
    options: RedisAlertStateStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'driftstream:';
    this.claimTtlMs = options.claimTtlMs ?? 30 * 24 * 3_600_000;
  }

  async loadTracker(modelId: string, windowName: string): Promise<unknown | undefined> {
    const raw = await redisCall('tracker load', () => this.client.get(keyOf(this.prefix, 'tracker', modelId, windowName)));
    if (raw === null) return undefined;
    try {
      return JSON.parse(raw) as unknown;
    } catch (err) {
      throw new DriftstreamError('TRACKER_CORRUPT', `alert tracker of ${modelId}/${windowName} is not valid JSON`, { cause: err });
    }
  }

  async saveTracker(modelId: string, windowName: string, state: unknown): Promise<void> {
    const raw = JSON.stringify(state);
    await redisCall('tracker save', () => this.client.set(keyOf(this.prefix, 'tracker', modelId, windowName), raw));
  }

  async claimAlert(alert: DriftAlert): Promise<boolean> {
    const key = keyOf(this.prefix, 'alert', alert.alertId, alert.status, alert.severity);
    const res = await redisCall('alert claim', () => this.client.set(key, String(alert.detectedAt), 'PX', this.claimTtlMs, 'NX'));
    return res === 'OK';
  }
}
