import type { Evaluation } from '../drift/types.js';

/** Where an analysis reads its events: a time range of the inference topic (record timestamps), or an uploaded NDJSON file. */
export type AnalysisSource = { readonly kind: 'topic'; readonly topic: string; readonly from: number; readonly to: number } | { readonly kind: 'upload'; readonly bytes: number };

/** What a caller asks for; the repository keeps it as given. */
export interface AnalysisRequest {
  readonly modelId: string;
  readonly source: AnalysisSource;
  /** Tumbling window length (event time), ms. */
  readonly windowMs: number;
  /** The reference to judge against (default: the model's latest). */
  readonly referenceId?: string;
  readonly tags: readonly string[];
}

export type AnalysisState = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/** How far an analysis has got; `resumeFrom` is where a restarted run picks up. */
export interface AnalysisProgress {
  /** Event time (or, for the topic, record time) up to which every window is stored. */
  readonly resumeFrom?: number;
  readonly events: number;
  readonly windows: number;
  /** Events whose event time fell outside the window being read, or that were not the model's: counted, not evaluated. */
  readonly skipped: number;
  /** Share of the range done, 0 to 1. */
  readonly fraction: number;
}

/** What a finished analysis found. */
export interface AnalysisSummary {
  readonly windows: number;
  readonly driftWindows: number;
  readonly referenceId: string;
  /** Features by how many windows they drifted in, most first. */
  readonly driftingFeatures: Readonly<Record<string, number>>;
}

/** A stored analysis. */
export interface Analysis {
  readonly analysisId: string;
  readonly modelId: string;
  readonly state: AnalysisState;
  readonly request: AnalysisRequest;
  readonly progress: AnalysisProgress;
  readonly summary?: AnalysisSummary;
  readonly error?: string;
  readonly cancelRequested: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly startedAt?: number;
  readonly finishedAt?: number;
}

/** One evaluated window of an analysis. */
export interface AnalysisWindow {
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly drift: boolean;
  readonly evaluation: Evaluation;
}

export const INITIAL_PROGRESS: AnalysisProgress = Object.freeze({ events: 0, windows: 0, skipped: 0, fraction: 0 });

/** States an analysis never leaves. */
export function isFinished(state: AnalysisState): boolean {
  return state === 'completed' || state === 'failed' || state === 'cancelled';
}

/** Start of the epoch-aligned window of length `windowMs` that holds `t`. */
export function windowStartOf(t: number, windowMs: number): number {
  return Math.floor(t / windowMs) * windowMs;
}

/** Windows between two instants, aligned: the first holds `from`, the last ends at or after `to`. */
export function windowCount(from: number, to: number, windowMs: number): number {
  if (to <= from) return 0;
  return Math.ceil((to - windowStartOf(from, windowMs)) / windowMs);
}

/** Summary of an analysis's windows. */
export function summarize(windows: readonly AnalysisWindow[], referenceId: string): AnalysisSummary {
  const counts: Record<string, number> = {};
  for (const w of windows) for (const [name, f] of Object.entries(w.evaluation.features)) if (f.drift) counts[name] = (counts[name] ?? 0) + 1;
  const driftingFeatures = Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
  return { windows: windows.length, driftWindows: windows.filter((w) => w.drift).length, referenceId, driftingFeatures };
}
