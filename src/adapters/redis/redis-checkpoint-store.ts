import type { Redis } from 'ioredis';
import { DriftstreamError } from '../../errors.js';
import type { CheckpointStore, PartitionCheckpoint } from '../../ports/checkpoint-store.js';
import { keyOf, redisCall } from './redis-connection.js';

export interface RedisFeatureStateStoreOptions {
  /** Key prefix, e.g. `driftstream:`; tests use a unique one per run. */
  prefix?: string;
}

/**
 * Partition checkpoints in Redis. A checkpoint (open panes, watermark and the
 * next offset) is one serialized blob written with a single SET, so a reader
 * sees either the previous checkpoint or the new one, never a mix: the state
 * and its offset always belong together, which is what makes replay after a
 * crash count every event exactly once.
 */
export class RedisCheckpointStore implements CheckpointStore {
  private readonly prefix: string;

  constructor(
    private readonly client: Redis,
    options: RedisFeatureStateStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'driftstream:';
  }

  private key(groupId: string, topic: string, partition: number): string {
    return keyOf(this.prefix, 'ckpt', groupId, topic, partition);
  }

  async saveCheckpoint(groupId: string, checkpoint: PartitionCheckpoint): Promise<void> {
    const blob = JSON.stringify(checkpoint);
    await redisCall('checkpoint save', () => this.client.set(this.key(groupId, checkpoint.topic, checkpoint.partition), blob));
  }

  async loadCheckpoint(groupId: string, topic: string, partition: number): Promise<PartitionCheckpoint | undefined> {
    const blob = await redisCall('checkpoint load', () => this.client.get(this.key(groupId, topic, partition)));
    if (blob === null) return undefined;
    try {
      return JSON.parse(blob) as PartitionCheckpoint;
    } catch (err) {
      // Never start from an empty state silently: that would skip or double-count a partition's events.
      throw new DriftstreamError('CHECKPOINT_CORRUPT', `checkpoint of ${groupId}/${topic}/${partition} is not valid JSON`, { cause: err });
    }
  }
}
