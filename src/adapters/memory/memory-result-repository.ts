import type { DriftAlert } from '../../core/events.js';
import type { Evaluation } from '../../core/drift/types.js';
import type { AlertQuery, ResultRepository, WindowQuery } from '../../stream/ports.js';

function alertKey(a: DriftAlert): string {
  return `${a.alertId}|${a.status}|${a.severity}`;
}

/** Drift history in process memory, bounded per model and window. */
export class MemoryResultRepository implements ResultRepository {
  private readonly evaluations = new Map<string, Evaluation>();
  private readonly alerts = new Map<string, DriftAlert>();

  constructor(private readonly maxEvaluations = 100_000) {}

  async saveEvaluations(evaluations: readonly Evaluation[]): Promise<void> {
    for (const e of evaluations) {
      this.evaluations.set(e.evaluationId, structuredClone(e));
      if (this.evaluations.size > this.maxEvaluations) {
        const oldest = this.evaluations.keys().next().value;
        if (oldest !== undefined) this.evaluations.delete(oldest);
      }
    }
  }

  async saveAlerts(alerts: readonly DriftAlert[]): Promise<void> {
    for (const a of alerts) {
      const key = alertKey(a);
      if (!this.alerts.has(key)) this.alerts.set(key, structuredClone(a));
    }
  }

  async latestEvaluation(modelId: string, windowName: string): Promise<Evaluation | undefined> {
    let best: Evaluation | undefined;
    for (const e of this.evaluations.values()) {
      if (e.modelId === modelId && e.windowName === windowName && (!best || e.windowEnd > best.windowEnd)) best = e;
    }
    return best && structuredClone(best);
  }

  async listEvaluations(q: WindowQuery): Promise<Evaluation[]> {
    const out = [...this.evaluations.values()].filter(
      (e) =>
        e.modelId === q.modelId &&
        (q.windowName === undefined || e.windowName === q.windowName) &&
        (q.from === undefined || e.windowEnd > q.from) &&
        (q.to === undefined || e.windowStart < q.to),
    );
    out.sort((a, b) => b.windowEnd - a.windowEnd || a.windowName.localeCompare(b.windowName));
    return out.slice(0, q.limit ?? 100).map((e) => structuredClone(e));
  }

  async listAlerts(q: AlertQuery): Promise<{ alerts: DriftAlert[]; nextCursor?: string }> {
    const limit = q.limit ?? 100;
    const offset = q.cursor ? Number(Buffer.from(q.cursor, 'base64url').toString()) || 0 : 0;
    const all = [...this.alerts.values()]
      .filter(
        (a) =>
          (q.status === undefined || a.status === q.status) &&
          (q.modelId === undefined || a.modelId === q.modelId) &&
          (q.since === undefined || a.detectedAt >= q.since),
      )
      .sort((a, b) => b.detectedAt - a.detectedAt || alertKey(a).localeCompare(alertKey(b)));
    const page = all.slice(offset, offset + limit);
    const next = offset + limit < all.length ? Buffer.from(String(offset + limit)).toString('base64url') : undefined;
    return { alerts: page.map((a) => structuredClone(a)), nextCursor: next };
  }
}
