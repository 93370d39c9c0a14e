import type { InferenceEvent } from '../core/events.js';
import type { ModelConfig } from '../core/model/model-config.js';

/** Hooks of the consumer a batch runs in. */
export interface BatchControl {
  /** Keeps the consumer's group membership alive during a long batch. */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or the partition was revoked. */
  isRunning(): boolean;
}

/** Receives every valid inference of a known model, per batch (the label join's recorder). */
export interface InferenceSink {
  add(event: InferenceEvent, config: ModelConfig): void;
  /** Resolves once everything added is recorded; called before the batch's panes are reported. */
  flush(control: BatchControl): Promise<void>;
  /** Drops what was added (the partition is let go). */
  clear(): void;
}
