import { CheckpointSupersededError } from '../../errors.js';
import { isFurther, type CheckpointStore, type PartitionCheckpoint } from '../../ports/checkpoint-store.js';

/** Checkpoints in process memory: state survives rebalances inside one process, not a restart. */
export class MemoryCheckpointStore implements CheckpointStore {
  private readonly checkpoints = new Map<string, { offset: string; blob: string }>();

  async saveCheckpoint(groupId: string, cp: PartitionCheckpoint): Promise<void> {
    const key = `${groupId}/${cp.topic}/${cp.partition}`;
    const stored = this.checkpoints.get(key)?.offset;
    if (stored !== undefined && isFurther(stored, cp.nextOffset)) throw new CheckpointSupersededError(cp.topic, cp.partition, cp.nextOffset, stored);
    this.checkpoints.set(key, { offset: cp.nextOffset, blob: JSON.stringify(cp) });
  }

  async loadCheckpoint(groupId: string, topic: string, partition: number): Promise<PartitionCheckpoint | undefined> {
    const raw = this.checkpoints.get(`${groupId}/${topic}/${partition}`)?.blob;
    return raw === undefined ? undefined : (JSON.parse(raw) as PartitionCheckpoint);
  }
}

