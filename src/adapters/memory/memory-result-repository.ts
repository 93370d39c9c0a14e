import type { DriftAlert } from '../../core/events.js';
import type { Evaluation } from '../../core/drift/types.js';
import { incidentStartOf } from '../../core/drift/ids.js';
import { packEvaluation, unpackEvaluation, type PackedEvaluation as Packed } from '../../core/drift/packed-evaluation.js';
import { bucketStartOf, onlyFeatures, RESOLUTION_MS, rollup } from '../../core/history/rollup.js';
import type { AlertQuery, EvaluationRollup, ResultRepository, RollupQuery, WindowQuery } from '../../ports/result-repository.js';

function alertKey(a: DriftAlert): string {
  return `${a.alertId}|${a.status}|${a.severity}`;
}

// Model ids may hold any character; a length prefix keeps the pair unambiguous.
function windowKey(modelId: string, windowName: string): string {
  return `${modelId.length}:${modelId}:${windowName}`;
}

/**
 * Evaluations kept per (model, window) by default. An evaluation holds every
 * feature's statistics, verdict and histograms: ~53 KB as objects at 25
 * features, ~9 KB as kept here (see {@link MemoryResultRepository}), so
 * 50 models x 2 windows x 10 is ~9 MB.
 */
export const DEFAULT_EVALUATIONS_PER_WINDOW = 10;

/** Bounds of {@link MemoryResultRepository}. */
export interface MemoryResultRepositoryOptions {
  /** Evaluations kept per (model, window): the newest by window end. Default {@link DEFAULT_EVALUATIONS_PER_WINDOW}. */
  readonly evaluationsPerWindow?: number;
  /** Alert records kept: the newest written. Default 10,000. */
  readonly maxAlerts?: number;
}

/** An evaluation as kept: the fields the repository sorts by, and the whole of it packed. */
interface PackedEvaluation {
  readonly evaluationId: string;
  readonly modelId: string;
  readonly windowName: string;
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly packed: Packed;
}

function pack(e: Evaluation): PackedEvaluation {
  const { evaluationId, modelId, windowName, windowStart, windowEnd } = e;
  return { evaluationId, modelId, windowName, windowStart, windowEnd, packed: packEvaluation(e) };
}

function unpack(p: PackedEvaluation): Evaluation {
  return unpackEvaluation(p.packed);
}

/**
 * Drift history in process memory, for the mode without PostgreSQL: only the
 * recent evaluations of each (model, window) and the newest alerts. Each
 * evaluation is kept packed ({@link packEvaluation}: ~6x smaller than the
 * objects) and read back as a fresh copy. An unbounded history would still grow by ~25 MB an hour at 50
 * models; the full history belongs in PostgreSQL.
 */
export class MemoryResultRepository implements ResultRepository {
  private readonly byWindow = new Map<string, Map<string, PackedEvaluation>>();
  private readonly alerts = new Map<string, DriftAlert>();
  private readonly evaluationsPerWindow: number;
  private readonly maxAlerts: number;

  constructor(options: MemoryResultRepositoryOptions = {}) {
    this.evaluationsPerWindow = Math.max(1, options.evaluationsPerWindow ?? DEFAULT_EVALUATIONS_PER_WINDOW);
    this.maxAlerts = Math.max(1, options.maxAlerts ?? 10_000);
  }

  async saveEvaluations(evaluations: readonly Evaluation[]): Promise<void> {
    for (const e of evaluations) {
      const key = windowKey(e.modelId, e.windowName);
      let kept = this.byWindow.get(key);
      if (!kept) this.byWindow.set(key, (kept = new Map()));
      kept.set(e.evaluationId, pack(e));
      if (kept.size > this.evaluationsPerWindow) {
        // Replays may write an older window late, so the oldest is found by window end, not by insertion.
        let oldest: PackedEvaluation | undefined;
        for (const x of kept.values()) if (!oldest || x.windowEnd < oldest.windowEnd) oldest = x;
        if (oldest) kept.delete(oldest.evaluationId);
      }
    }
  }

  async saveAlerts(alerts: readonly DriftAlert[]): Promise<void> {
    for (const a of alerts) {
      const key = alertKey(a);
      if (this.alerts.has(key)) continue;
      this.alerts.set(key, structuredClone(a));
      if (this.alerts.size > this.maxAlerts) {
        const oldest = this.alerts.keys().next().value;
        if (oldest !== undefined) this.alerts.delete(oldest);
      }
    }
  }

  private evaluationsOf(modelId: string, windowName?: string): PackedEvaluation[] {
    if (windowName !== undefined) return [...(this.byWindow.get(windowKey(modelId, windowName))?.values() ?? [])];
    const out: PackedEvaluation[] = [];
    for (const kept of this.byWindow.values()) for (const e of kept.values()) if (e.modelId === modelId) out.push(e);
    return out;
  }

  async latestEvaluation(modelId: string, windowName: string): Promise<Evaluation | undefined> {
    let best: PackedEvaluation | undefined;
    for (const e of this.evaluationsOf(modelId, windowName)) if (!best || e.windowEnd > best.windowEnd) best = e;
    return best && unpack(best);
  }

  async listEvaluations(q: WindowQuery): Promise<Evaluation[]> {
    const out = this.evaluationsOf(q.modelId, q.windowName).filter((e) => (q.from === undefined || e.windowEnd > q.from) && (q.to === undefined || e.windowStart < q.to));
    out.sort((a, b) => b.windowEnd - a.windowEnd || a.windowName.localeCompare(b.windowName));
    return out.slice(0, q.limit ?? 100).map(unpack);
  }

  async listRollups(q: RollupQuery): Promise<EvaluationRollup[]> {
    // Computed from the kept windows: a window counts in the bucket of its start, and a bucket overlapping [from, to) is whole.
    const first = bucketStartOf(q.from, q.resolution);
    const end = bucketStartOf(q.to - 1, q.resolution) + RESOLUTION_MS[q.resolution];
    const evals = this.evaluationsOf(q.modelId, q.windowName).filter((e) => e.windowStart >= first && e.windowStart < end);
    return rollup(evals.map(unpack), q.resolution).map((r) => onlyFeatures(r, q.features));
  }

  async listAlerts(q: AlertQuery): Promise<{ alerts: DriftAlert[]; nextCursor?: string }> {
    const limit = q.limit ?? 100;
    const offset = q.cursor ? Number(Buffer.from(q.cursor, 'base64url').toString()) || 0 : 0;
    const all = [...this.alerts.values()]
      .filter(
        (a) =>
          (q.status === undefined || a.status === q.status) &&
          (q.modelId === undefined || a.modelId === q.modelId) &&
          (q.since === undefined || a.detectedAt >= q.since) &&
          (q.firedFrom === undefined || incidentStartOf(a) >= q.firedFrom) &&
          (q.firedTo === undefined || incidentStartOf(a) < q.firedTo),
      )
      .sort((a, b) => b.detectedAt - a.detectedAt || alertKey(a).localeCompare(alertKey(b)));
    const page = all.slice(offset, offset + limit);
    const next = offset + limit < all.length ? Buffer.from(String(offset + limit)).toString('base64url') : undefined;
    return { alerts: page.map((a) => structuredClone(a)), nextCursor: next };
  }
}
