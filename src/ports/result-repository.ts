import type { DriftAlert } from '../core/events.js';
import type { Evaluation } from '../core/drift/types.js';

/** A query over the alert history: newest first, in pages. */
export interface AlertQuery {
  status?: 'FIRING' | 'RESOLVED';
  modelId?: string;
  since?: number;
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

/** Drift results, performance and alert history. Writes are idempotent upserts on deterministic keys. */
export interface ResultRepository {
  saveEvaluations(evaluations: readonly Evaluation[]): Promise<void>;
  saveAlerts(alerts: readonly DriftAlert[]): Promise<void>;
  latestEvaluation(modelId: string, windowName: string): Promise<Evaluation | undefined>;
  listEvaluations(query: WindowQuery): Promise<Evaluation[]>;
  listAlerts(query: AlertQuery): Promise<{ alerts: DriftAlert[]; nextCursor?: string }>;
}
