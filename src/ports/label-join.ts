import type { PerformanceCounters } from '../core/performance/counters.js';
import type { InferenceRecord, LabelRecord } from '../core/performance/records.js';

/**
 * The label join, by role: inferences leave a compact record, labels take it
 * and add to the performance counters of the inference's panes, atomically.
 *
 * Guarantees every adapter keeps (the conformance suite in
 * tests/conformance/label-join.conformance.ts checks them against every adapter):
 * - an inference counts once as a prediction, however often it is replayed
 *   within the label horizon;
 * - a label joins at most once: a replayed label, or a second label for a
 *   joined or waiting eventId, counts as a duplicate and changes no counter;
 * - a label that comes before its inference waits (same horizon) and joins
 *   when the inference arrives;
 * - a label whose inference never arrives within the horizon is counted as
 *   expired by {@link LabelJoin.expireWaitingLabels}, never lost silently;
 * - an inference is kept at least the horizon, and may be kept up to 1.25
 *   times it where entries expire in groups (the Redis join expires them by
 *   bucket): a label that late may still join.
 *
 * Counters are kept per pane (model, pane length, pane start) of the
 * inference's event time; a window's counters are the sum of its panes.
 */
export interface LabelJoin {
  /** Records a batch of inferences; joins the labels already waiting for them. */
  recordInferences(records: readonly InferenceRecord[], now?: number): Promise<JoinOutcome>;
  /** Joins a batch of labels to their inferences, or leaves them waiting. */
  recordLabels(labels: readonly LabelRecord[], now?: number): Promise<JoinOutcome>;
  /** The merged counters of a model's panes of length `paneMs` starting in [from, to). */
  readCounters(modelId: string, paneMs: number, from: number, to: number): Promise<PerformanceCounters>;
  /** The counters of each of a model's panes of length `paneMs` starting in [from, to), by pane start. */
  readPanes(modelId: string, paneMs: number, from: number, to: number): Promise<Map<number, PerformanceCounters>>;
  /** Starts of the model's panes of length `paneMs` that hold counters, ascending, in [from, to). */
  paneStarts(modelId: string, paneMs: number, from?: number, to?: number): Promise<number[]>;
  /**
   * Takes up to `max` panes whose counters changed since they were last
   * taken. Each change is handed out once, across processes sharing the store.
   */
  takeDirtyPanes(max: number): Promise<PaneRef[]>;
  /** Puts panes back to be taken again (a window that is still open). */
  markDirty(panes: readonly PaneRef[]): Promise<void>;
  /**
   * Counts and drops the labels that waited the whole horizon for an
   * inference. Returns the number expired per model.
   */
  expireWaitingLabels(now?: number, max?: number): Promise<Record<string, number>>;
  /** Join counts of a model since the store was created. */
  stats(modelId: string): Promise<LabelJoinStats>;
  close(): Promise<void>;
}

/** What one batch did. */
export interface JoinOutcome {
  /** Inferences stored, or labels left waiting. */
  stored: number;
  /** Pairs joined (and counted) by this batch. */
  joined: number;
  /** Replays: records that changed nothing. */
  duplicates: number;
  /** Joined pairs per model, for `driftstream_labels_joined_total`. */
  joinedByModel: Record<string, number>;
  /**
   * Pending inferences a bounded store dropped before their horizon to make
   * room, per model (their labels can no longer join). Absent when none.
   */
  evictedByModel?: Record<string, number>;
}

export interface LabelJoinStats {
  inferences: number;
  inferenceDuplicates: number;
  labels: number;
  joined: number;
  labelDuplicates: number;
  /** Labels that ever had to wait for their inference. */
  waited: number;
  /** Labels whose inference never came within the horizon. */
  expired: number;
  /** Pending inferences dropped before their horizon because a bounded store was full (in-memory join). */
  evicted?: number;
  /** When the first inference of the model was recorded (processing time, ms), or null. */
  firstInferenceAt?: number | null;
  /** When the last label of the model arrived (processing time, ms), or null. */
  lastLabelAt?: number | null;
}

/** One pane of counters. */
export interface PaneRef {
  modelId: string;
  paneMs: number;
  paneStart: number;
}

/** The label-horizon settings of a join store. */
export interface LabelJoinOptions {
  /** How long an inference waits for its label, and a label for its inference (ms). Default 7 days. */
  horizonMs?: number;
  /**
   * How long pane counters live after their last change (ms). Every inference
   * refreshes its pane, so counters outlive the last label that can still
   * join; default the horizon plus one hour.
   */
  counterTtlMs?: number;
}

export const DEFAULT_LABEL_HORIZON_MS = 7 * 86_400_000;

/** Adds `b` into `a`. */
export function addOutcome(a: JoinOutcome, b: JoinOutcome): JoinOutcome {
  a.stored += b.stored;
  a.joined += b.joined;
  a.duplicates += b.duplicates;
  for (const [m, n] of Object.entries(b.joinedByModel)) a.joinedByModel[m] = (a.joinedByModel[m] ?? 0) + n;
  return a;
}

export function emptyOutcome(): JoinOutcome {
  return { stored: 0, joined: 0, duplicates: 0, joinedByModel: {} };
}
