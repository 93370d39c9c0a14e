import type { Analysis, AnalysisProgress, AnalysisRequest, AnalysisState, AnalysisSummary, AnalysisWindow } from '../core/analysis/analysis.js';

/** A page of the analyses list: newest first, optionally only those with every given tag. */
export interface AnalysisQuery {
  modelId?: string;
  tags?: readonly string[];
  state?: AnalysisState;
  limit?: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

/**
 * Backfill analyses and their windows. Every state change is a
 * compare-and-set on the current state, so two runners never both take one
 * analysis and a cancelled one is never completed; windows are upserts on
 * (analysis, window start), so a resumed run may write a window again.
 */
export interface AnalysisRepository {
  /** Stores a new analysis in state `queued`; `upload` holds an uploaded file's bytes. */
  create(analysisId: string, request: AnalysisRequest, now: number, upload?: Uint8Array): Promise<Analysis>;
  get(analysisId: string): Promise<Analysis | undefined>;
  /** The uploaded file of an analysis, if it has one. */
  upload(analysisId: string): Promise<Uint8Array | undefined>;
  list(query: AnalysisQuery): Promise<{ analyses: Analysis[]; nextCursor?: string }>;
  /** Moves the oldest queued analysis (or the one named, if queued) to `running` and returns it (atomic: one taker). */
  claimNext(now: number, analysisId?: string): Promise<Analysis | undefined>;
  /** Running analyses back to `queued` (after a restart, their runner is gone); returns how many. */
  requeueRunning(now: number): Promise<number>;
  /** Stores windows and the progress after them; false when the analysis is no longer running (cancelled). */
  saveWindows(analysisId: string, windows: readonly AnalysisWindow[], progress: AnalysisProgress, now: number): Promise<boolean>;
  /** Ends a running analysis; false when it was not running. */
  finish(analysisId: string, state: 'completed' | 'failed' | 'cancelled', now: number, outcome: { summary?: AnalysisSummary; error?: string }): Promise<boolean>;
  /** Cancels a queued analysis at once, or asks a running one to stop; returns the analysis after it (undefined when unknown). */
  cancel(analysisId: string, now: number): Promise<Analysis | undefined>;
  /** The windows of an analysis in time order, in pages. */
  windows(analysisId: string, options?: { from?: number; limit?: number }): Promise<AnalysisWindow[]>;
}
