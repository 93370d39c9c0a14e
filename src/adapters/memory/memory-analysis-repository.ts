import type { Analysis, AnalysisProgress, AnalysisRequest, AnalysisSummary, AnalysisWindow } from '../../core/analysis/analysis.js';
import { INITIAL_PROGRESS } from '../../core/analysis/analysis.js';
import type { AnalysisQuery, AnalysisRepository } from '../../ports/analysis-repository.js';
import { decodeAnalysisCursor, encodeAnalysisCursor } from '../analysis-cursor.js';

/** Analyses in process memory: tests, and `driftstream analyze` without a database. */
export class MemoryAnalysisRepository implements AnalysisRepository {
  private readonly analyses = new Map<string, Analysis>();
  private readonly uploads = new Map<string, Uint8Array>();
  private readonly windowsOf = new Map<string, Map<number, AnalysisWindow>>();

  private update(id: string, change: Partial<Analysis>): Analysis {
    const next = { ...this.analyses.get(id)!, ...change };
    this.analyses.set(id, next);
    return next;
  }

  async create(analysisId: string, request: AnalysisRequest, now: number, upload?: Uint8Array): Promise<Analysis> {
    const a: Analysis = { analysisId, modelId: request.modelId, state: 'queued', request, progress: INITIAL_PROGRESS, cancelRequested: false, createdAt: now, updatedAt: now };
    this.analyses.set(analysisId, a);
    if (upload) this.uploads.set(analysisId, upload);
    return structuredClone(a);
  }

  async get(analysisId: string): Promise<Analysis | undefined> {
    const a = this.analyses.get(analysisId);
    return a && structuredClone(a);
  }

  async upload(analysisId: string): Promise<Uint8Array | undefined> {
    return this.uploads.get(analysisId);
  }

  async list(q: AnalysisQuery): Promise<{ analyses: Analysis[]; nextCursor?: string }> {
    const limit = q.limit ?? 50;
    const after = q.cursor ? decodeAnalysisCursor(q.cursor) : undefined;
    const all = [...this.analyses.values()]
      .filter((a) => (q.modelId === undefined || a.modelId === q.modelId) && (q.state === undefined || a.state === q.state))
      .filter((a) => (q.tags ?? []).every((t) => a.request.tags.includes(t)))
      .sort((a, b) => b.createdAt - a.createdAt || (b.analysisId < a.analysisId ? -1 : b.analysisId > a.analysisId ? 1 : 0))
      .filter((a) => !after || a.createdAt < after.createdAt || (a.createdAt === after.createdAt && a.analysisId < after.analysisId));
    const analyses = all.slice(0, limit).map((a) => structuredClone(a));
    const last = analyses[analyses.length - 1];
    return all.length > limit && last ? { analyses, nextCursor: encodeAnalysisCursor(last) } : { analyses };
  }

  async claimNext(now: number, analysisId?: string): Promise<Analysis | undefined> {
    const next = [...this.analyses.values()].filter((a) => a.state === 'queued' && (analysisId === undefined || a.analysisId === analysisId)).sort((a, b) => a.createdAt - b.createdAt || a.analysisId.localeCompare(b.analysisId))[0];
    if (!next) return undefined;
    return structuredClone(this.update(next.analysisId, { state: 'running', updatedAt: now, startedAt: next.startedAt ?? now }));
  }

  async requeueRunning(now: number): Promise<number> {
    let n = 0;
    for (const a of this.analyses.values()) {
      if (a.state !== 'running') continue;
      this.update(a.analysisId, { state: 'queued', updatedAt: now });
      n++;
    }
    return n;
  }

  async saveWindows(analysisId: string, windows: readonly AnalysisWindow[], progress: AnalysisProgress, now: number): Promise<boolean> {
    const a = this.analyses.get(analysisId);
    if (!a || a.state !== 'running' || a.cancelRequested) return false;
    let m = this.windowsOf.get(analysisId);
    if (!m) this.windowsOf.set(analysisId, (m = new Map()));
    for (const w of windows) m.set(w.windowStart, structuredClone(w));
    this.update(analysisId, { progress, updatedAt: now });
    return true;
  }

  async finish(analysisId: string, state: 'completed' | 'failed' | 'cancelled', now: number, outcome: { summary?: AnalysisSummary; error?: string }): Promise<boolean> {
    const a = this.analyses.get(analysisId);
    if (!a || a.state !== 'running') return false;
    this.update(analysisId, { state, updatedAt: now, finishedAt: now, ...(outcome.summary ? { summary: outcome.summary } : {}), ...(outcome.error !== undefined ? { error: outcome.error } : {}) });
    return true;
  }

  async cancel(analysisId: string, now: number): Promise<Analysis | undefined> {
    const a = this.analyses.get(analysisId);
    if (!a) return undefined;
    if (a.state === 'queued') this.update(analysisId, { state: 'cancelled', cancelRequested: true, updatedAt: now, finishedAt: now });
    else if (a.state === 'running') this.update(analysisId, { cancelRequested: true, updatedAt: now });
    return this.get(analysisId);
  }

  async windows(analysisId: string, options: { from?: number; limit?: number } = {}): Promise<AnalysisWindow[]> {
    const all = [...(this.windowsOf.get(analysisId)?.values() ?? [])].filter((w) => options.from === undefined || w.windowStart >= options.from);
    return all.sort((a, b) => a.windowStart - b.windowStart).slice(0, options.limit ?? 1000).map((w) => structuredClone(w));
  }
}
