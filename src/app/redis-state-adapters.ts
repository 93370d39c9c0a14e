import type { Config } from '../config/config.js';
import { redactUrl } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { createRedisConnection, redisHealthCheck, type RedisClient } from '../adapters/redis/redis-connection.js';
import { ReplicaBarrier } from '../adapters/redis/replica-barrier.js';
import { RedisCheckpointStore } from '../adapters/redis/redis-checkpoint-store.js';
import { RedisPaneCoordinator } from '../adapters/redis/redis-pane-coordinator.js';
import { RedisAlertStateStore } from '../adapters/redis/redis-alert-state-store.js';
import { RedisLabelJoin } from '../adapters/redis/redis-label-join.js';
import type { Adapters, Opened } from './adapters.js';

/**
 * Checkpoints, pane coordinator, alert state and label join in Redis. A module
 * of its own, imported only when DRIFTSTREAM_REDIS_URL is set, so a detector
 * with state in memory does not load the Redis client.
 */
export function createRedisStateAdapters(
  config: Config & { redisUrl: string },
  logger: Logger,
  metrics: Metrics,
  opened: Opened,
): Pick<Adapters, 'checkpoints' | 'paneCoordinator' | 'alertState' | 'labelJoin'> & { redis: RedisClient } {
  const prefix = config.redisKeyPrefix;
  const client = createRedisConnection(config.redisUrl, config.redis, { logger, metrics, name: `driftstream:${config.groupId}` });
  opened.healthChecks.push(redisHealthCheck(client));
  opened.closers.push(() => client.quit().catch(() => client.disconnect()));
  logger.info({ redis: redactUrl(config.redisUrl), mode: config.redis.mode }, 'state in redis');
  // Checkpoints and alert claims wait for a replica where there is one: a failover must not undo them.
  const barrier = new ReplicaBarrier(client, { replicas: config.redis.checkpointReplicas, timeoutMs: config.redis.replicaTimeoutMs });
  return {
    redis: client,
    checkpoints: new RedisCheckpointStore(client, { prefix, barrier }),
    paneCoordinator: new RedisPaneCoordinator(client, {
      prefix,
      groupId: config.groupId,
      leaseMs: config.detector.paneLeaseMs,
      retentionMs: config.detector.paneRetentionMs,
      logger,
    }),
    alertState: new RedisAlertStateStore(client, { prefix, barrier }),
    labelJoin: new RedisLabelJoin(client, { keyPrefix: `${prefix}labels:`, horizonMs: config.detector.labelHorizonMs }),
  };
}
