import type { DriftAlert } from '../core/events.js';
import type { Evaluation } from '../core/drift/types.js';
import type { EvaluationRollup, RollupResolution } from '../core/history/rollup.js';

export type { EvaluationRollup, RollupResolution };

/** A query over the alert history: newest first, in pages. */
export interface AlertQuery {
  status?: 'FIRING' | 'RESOLVED';
  modelId?: string;
  /** Records detected at or after this time (epoch ms). */
  since?: number;
  /** Records of incidents that first fired in a window starting in [firedFrom, firedTo) (epoch ms). */
  firedFrom?: number;
  firedTo?: number;
  limit?: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

export interface WindowQuery {
  modelId: string;
  windowName?: string;
  from?: number;
  to?: number;
  limit?: number;
}

/** Roll-ups of one (model, window) over [from, to): the buckets that overlap it. */
export interface RollupQuery {
  modelId: string;
  windowName: string;
  resolution: RollupResolution;
  from: number;
  to: number;
  /**
   * Features (and score / prediction) to include with their statistics; unset, every feature with
   * its window counts and severity only.
   */
  features?: readonly string[];
}

/**
 * Drift results, performance and alert history. Writes are idempotent upserts on deterministic keys.
 *
 * An evaluation is keyed by (model, window name, window start), which determines its evaluationId; a
 * re-evaluation with at least as many samples replaces it. An adapter may keep a window that did not
 * drift compactly: its statistics (to float precision, about 7 significant digits) without histograms
 * and verdict evidence. The newest evaluation of each (model, window) and every window that drifted
 * are served whole.
 */
export interface ResultRepository {
  saveEvaluations(evaluations: readonly Evaluation[]): Promise<void>;
  saveAlerts(alerts: readonly DriftAlert[]): Promise<void>;
  latestEvaluation(modelId: string, windowName: string): Promise<Evaluation | undefined>;
  listEvaluations(query: WindowQuery): Promise<Evaluation[]>;
  /** Hourly or daily roll-ups of the stored windows, oldest first; a window counts in the bucket of its start. */
  listRollups(query: RollupQuery): Promise<EvaluationRollup[]>;
  listAlerts(query: AlertQuery): Promise<{ alerts: DriftAlert[]; nextCursor?: string }>;
}
