import { CheckpointSupersededError, DriftstreamError, ReplicationUnconfirmedError } from '../../errors.js';
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
 * Writes a checkpoint (KEYS[1], ARGV[1]) and its next offset (KEYS[2],
 * ARGV[2]) unless the stored offset is further; returns the stored offset
 * then, nil when written. Offsets are decimal strings compared by length,
 * then by their digits (Lua numbers lose offsets beyond 2^53).
 */
const SAVE_SCRIPT = `
local stored = redis.call('GET', KEYS[2])
local next = ARGV[2]
if stored and (#stored > #next or (#stored == #next and stored > next)) then return stored end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], next)
return false
`;

interface CheckpointCommands {
  driftstreamCheckpointSave(blobKey: string, offsetKey: string, blob: string, offset: string): Promise<string | null>;
}

/**
 * Partition checkpoints in Redis. A checkpoint (open panes, watermark and the
 * next offset) is one serialized blob written by one script call, so a reader
 * sees either the previous checkpoint or the new one, never a mix: the state
 * and its offset always belong together, which is what makes replay after a
 * crash count every event exactly once. Each partition's key is its own hash
 * tag, so a cluster spreads checkpoints over its masters. A save behind the
 * stored checkpoint (a stale owner) is refused by a script that compares the
 * offsets on the server. With a
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
    client.defineCommand('driftstreamCheckpointSave', { numberOfKeys: 2, lua: SAVE_SCRIPT });
  }

  private key(groupId: string, topic: string, partition: number, ...parts: string[]): string {
    return taggedKey(this.prefix, ['ckpt', groupId, topic, partition], ...parts);
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
    const { topic, partition, nextOffset } = checkpoint;
    const commands = this.client as unknown as CheckpointCommands;
    // The offset has its own key beside the blob (same hash tag), so the script never parses the state.
    const stored = await redisCall('checkpoint save', () => commands.driftstreamCheckpointSave(this.key(groupId, topic, partition), this.key(groupId, topic, partition, 'offset'), blob, nextOffset));
    if (stored !== null) throw new CheckpointSupersededError(topic, partition, nextOffset, stored);
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
