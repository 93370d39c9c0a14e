import type { ModelConfig } from '../core/model/model-config.js';
import type { PaneParams, PartitionWindowsJSON } from '../core/windows/partition-windows.js';
import type { IngestResolution } from '../stream/partition-ingest.js';
import type { StreamLimits } from '../stream/stream-limits.js';
import type { DedupStateJSON } from '../stream/event-deduplicator.js';
import type { EventCodecOptions } from '../adapters/registry/event-codec.js';

/** What an ingest worker is started with. */
export interface IngestWorkerData {
  /** The decoding configuration of the detector's own codec (`EventCodec.options`). */
  readonly codec: EventCodecOptions;
  readonly limits: StreamLimits;
  readonly dedup: { windowMs: number; capacity: number } | undefined;
}

/**
 * A model as the main thread hands it to a worker: its configuration and
 * pane parameters, and the reference its new panes use (the profile text
 * only the first time the worker gets that reference). `gone`: the model has
 * no layout any more (deleted, or bootstrapping a new reference); its events
 * go back to the main thread. `layoutOnly`: a reference a restored pane
 * needs, not the model's current one.
 */
export interface ModelSync {
  readonly modelId: string;
  readonly gone?: true;
  readonly layoutOnly?: true;
  readonly config?: ModelConfig;
  readonly params?: PaneParams;
  readonly referenceId?: string;
  readonly profile?: string;
}

/** A batch's records in one buffer: values back to back (length -1: no value), offsets and timestamps. */
export interface PackedRecords {
  readonly bytes: Uint8Array;
  readonly lengths: Int32Array;
  readonly offsets: Float64Array;
  readonly timestamps: Float64Array;
  /** Undecodable-batch stand-ins: index and dead-letter message ('' for the ones skipped). */
  readonly standIns: readonly (readonly [number, string])[];
}

/** Requests to a worker, each about one opening of a partition (`key`, topic/partition#n). */
export type IngestRequest =
  | { readonly op: 'run'; readonly key: string; readonly models: ModelSync[]; readonly records?: PackedRecords; readonly resolution?: IngestResolution; readonly now: number; readonly failFast: boolean }
  | { readonly op: 'fetchSchema'; readonly key: string; readonly index: number }
  | { readonly op: 'close'; readonly key: string; readonly idle: boolean; readonly now: number; readonly idleTimeoutMs: number }
  | { readonly op: 'snapshot'; readonly key: string }
  | { readonly op: 'restore'; readonly key: string; readonly models: ModelSync[]; readonly windows: PartitionWindowsJSON; readonly dedup: DedupStateJSON | undefined; readonly next: number; readonly savedAt: number; readonly now: number }
  | { readonly op: 'release'; readonly key: string }
  /** The references the worker holds (`[modelId, referenceId]` pairs), for tests and diagnostics. */
  | { readonly op: 'references' };

/** A worker's answer to request `id`. */
export type IngestReply = { readonly id: number; readonly result: unknown } | { readonly id: number; readonly error: { readonly message: string; readonly unavailable?: boolean } };
