/** Per-partition checkpoints: serialized open state plus the next offset, written atomically. */
export interface PartitionCheckpoint {
  topic: string;
  partition: number;
  /** The offset of the first record not yet in `state`. */
  nextOffset: string;
  watermark: number;
  state: unknown;
  savedAt: number;
}

/**
 * Where a partition's checkpoint lives between runs (Redis in production). A
 * save replaces the partition's previous checkpoint as a whole, atomically: a
 * load never sees half of one. The detector commits the Kafka offset only after
 * the save resolved, so a crash replays onto the saved state exactly once.
 */
export interface CheckpointStore {
  saveCheckpoint(groupId: string, checkpoint: PartitionCheckpoint): Promise<void>;
  loadCheckpoint(groupId: string, topic: string, partition: number): Promise<PartitionCheckpoint | undefined>;
}
