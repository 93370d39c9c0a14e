import { DriftstreamError, ReplicationUnconfirmedError } from '../../errors.js';
import type { CheckpointStore, PartitionCheckpoint } from '../../ports/checkpoint-store.js';
import { redisCall, taggedKey, type RedisClient } from './redis-connection.js';
import type { ReplicaBarrier } from './replica-barrier.js';

export interface RedisFeatureStateStoreOptions {
  /** Key prefix, e.g. `driftstream:`; tests use a unique one per run. */
  prefix?: string;
  /** Waits for replicas after each checkpoint, so a failover cannot lose one whose offset is committed. */
  barrier?: ReplicaBarrier;
}

/**
 * Partition checkpoints in Redis. A checkpoint (open panes, watermark and the
 * next offset) is one serialized blob written with a single SET, so a reader
 * sees either the previous checkpoint or the new one, never a mix: the state
 * and its offset always belong together, which is what makes replay after a
 * crash count every event exactly once. Each partition's key is its own hash
 * tag, so a cluster spreads checkpoints over its masters. With a
 * {@link ReplicaBarrier}, a save resolves only once replicas hold it (and
 * every write this client made before it), and is written only once replicas
 * hold every write this client made before it ({@link ReplicationUnconfirmedError}
 * otherwise).
 */
export class RedisCheckpointStore implements CheckpointStore {
  private readonly prefix: string;
  private readonly barrier: ReplicaBarrier | undefined;

  constructor(
    private readonly client: RedisClient,
    options: RedisFeatureStateStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'driftstream:';
    this.barrier = options.barrier;
  }

  private key(groupId: string, topic: string, partition: number): string {
    return taggedKey(this.prefix, ['ckpt', groupId, topic, partition]);
  }

  async saveCheckpoint(groupId: string, checkpoint: PartitionCheckpoint): Promise<void> {
    const blob = JSON.stringify(checkpoint);
    // What the checkpoint relies on (the partials of the panes it no longer holds, written to the
    // coordinator since the last one) must be on the replicas before it is written: a failover in
    // between would otherwise keep the checkpoint and lose the partials, and their events for good.
    if (this.barrier) {
      try {
        await this.barrier.wait();
      } catch (err) {
        throw new ReplicationUnconfirmedError('redis', `writes before the checkpoint of ${checkpoint.topic}/${checkpoint.partition} not confirmed by replicas: ${(err as Error).message}`, { cause: err });
      }
    }
    await redisCall('checkpoint save', () => this.client.set(this.key(groupId, checkpoint.topic, checkpoint.partition), blob));
    await this.barrier?.wait();
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
