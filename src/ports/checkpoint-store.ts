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
 * A save never moves a partition's checkpoint back: when the stored one has a
 * larger `nextOffset` (a new owner went on while this one had not yet heard of
 * the rebalance), it rejects with `CheckpointSupersededError` (src/errors.ts) and leaves
 * the stored one; one at the same offset replaces it.
 */
export interface CheckpointStore {
  saveCheckpoint(groupId: string, checkpoint: PartitionCheckpoint): Promise<void>;
  loadCheckpoint(groupId: string, topic: string, partition: number): Promise<PartitionCheckpoint | undefined>;
}

/** True when a checkpoint at `stored` is further along its partition than one at `next` (offsets as decimal strings). */
export function isFurther(stored: string, next: string): boolean {
  return stored.length !== next.length ? stored.length > next.length : stored > next;
}
