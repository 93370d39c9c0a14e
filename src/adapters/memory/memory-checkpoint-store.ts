import type { CheckpointStore, PartitionCheckpoint } from '../../ports/checkpoint-store.js';

/** Checkpoints in process memory: state survives rebalances inside one process, not a restart. */
export class MemoryCheckpointStore implements CheckpointStore {
  private readonly checkpoints = new Map<string, string>();

  async saveCheckpoint(groupId: string, cp: PartitionCheckpoint): Promise<void> {
    this.checkpoints.set(`${groupId}/${cp.topic}/${cp.partition}`, JSON.stringify(cp));
  }

  async loadCheckpoint(groupId: string, topic: string, partition: number): Promise<PartitionCheckpoint | undefined> {
    const raw = this.checkpoints.get(`${groupId}/${topic}/${partition}`);
    return raw === undefined ? undefined : (JSON.parse(raw) as PartitionCheckpoint);
  }
}
