import type { InferenceEvent } from '../core/events.js';

/** Reads past inference events for a backfill analysis. */
export interface AnalysisEventSource {
  /**
   * The model's events among the records of `topic` written in [from, to)
   * (record timestamps; the first offsets come from offsets-for-times), in
   * batches. Undecodable records are counted in `stats.skipped`, never stop the read.
   */
  topicRange(topic: string, from: number, to: number, modelId: string, stats: { skipped: number }): AsyncIterable<InferenceEvent[]>;
}
