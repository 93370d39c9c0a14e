import { describe, expect, it } from 'vitest';
import type { AnalysisRequest, AnalysisWindow } from '../../src/core/analysis/analysis.js';
import type { AnalysisRepository } from '../../src/ports/analysis-repository.js';
import { makeEvaluation, T0 } from '../support/fixtures.js';

const request = (tags: string[] = [], modelId = 'credit-risk'): AnalysisRequest => ({ modelId, source: { kind: 'topic', topic: 'inference-events', from: T0, to: T0 + 600_000 }, windowMs: 60_000, tags });
const window = (i: number, drift = false): AnalysisWindow => ({ windowStart: T0 + i * 60_000, windowEnd: T0 + (i + 1) * 60_000, drift, evaluation: makeEvaluation({ windowStart: T0 + i * 60_000 }) });
const progress = (windows: number) => ({ events: windows * 10, windows, skipped: 0, fraction: windows / 10, resumeFrom: T0 + windows * 60_000 });

/** What every AnalysisRepository must do. `make` returns a fresh, empty repository. */
export function analysisRepositoryConformance(name: string, make: () => Promise<AnalysisRepository>): void {
  describe(`AnalysisRepository conformance: ${name}`, () => {
    it('moves an analysis queued -> running -> completed, storing windows and progress on the way', async () => {
      const repo = await make();
      const created = await repo.create('an-1', request(['a']), T0, new Uint8Array([1, 2, 3]));
      expect(created).toMatchObject({ analysisId: 'an-1', modelId: 'credit-risk', state: 'queued', cancelRequested: false, createdAt: T0 });
      expect(Array.from((await repo.upload('an-1'))!)).toEqual([1, 2, 3]);
      expect(await repo.saveWindows('an-1', [window(0)], progress(1), T0)).toBe(false);
      const running = (await repo.claimNext(T0 + 1))!;
      expect(running).toMatchObject({ analysisId: 'an-1', state: 'running', startedAt: T0 + 1 });
      expect(await repo.claimNext(T0 + 2)).toBeUndefined();
      expect(await repo.saveWindows('an-1', [window(1, true), window(0)], progress(2), T0 + 3)).toBe(true);
      // A window written again (a resumed step) replaces the first.
      expect(await repo.saveWindows('an-1', [window(1, false)], progress(2), T0 + 4)).toBe(true);
      expect((await repo.windows('an-1')).map((w) => [w.windowStart - T0, w.drift])).toEqual([[0, false], [60_000, false]]);
      expect((await repo.windows('an-1', { from: T0 + 60_000 })).length).toBe(1);
      expect((await repo.get('an-1'))!.progress).toEqual(progress(2));
      const summary = { windows: 2, driftWindows: 0, referenceId: 'r', driftingFeatures: {} };
      expect(await repo.finish('an-1', 'completed', T0 + 5, { summary })).toBe(true);
      expect(await repo.finish('an-1', 'failed', T0 + 6, { error: 'late' })).toBe(false);
      expect(await repo.get('an-1')).toMatchObject({ state: 'completed', summary, finishedAt: T0 + 5 });
      expect(await repo.get('missing')).toBeUndefined();
    });

    it('claims the oldest queued first (or the one named), and queues running ones again', async () => {
      const repo = await make();
      await repo.create('an-b', request(), T0 + 2);
      await repo.create('an-a', request(), T0 + 1);
      await repo.create('an-c', request(), T0 + 3);
      expect((await repo.claimNext(T0 + 10, 'an-c'))!.analysisId).toBe('an-c');
      expect((await repo.claimNext(T0 + 10))!.analysisId).toBe('an-a');
      expect(await repo.requeueRunning(T0 + 11)).toBe(2);
      expect((await repo.list({ state: 'queued' })).analyses.map((a) => a.analysisId).sort()).toEqual(['an-a', 'an-b', 'an-c']);
      // A requeued analysis keeps when it first started.
      expect((await repo.claimNext(T0 + 12))!).toMatchObject({ analysisId: 'an-a', startedAt: T0 + 10 });
    });

    it('cancels a queued analysis at once and a running one at its next step', async () => {
      const repo = await make();
      await repo.create('an-q', request(), T0);
      expect(await repo.cancel('an-q', T0 + 1)).toMatchObject({ state: 'cancelled', cancelRequested: true, finishedAt: T0 + 1 });
      await repo.create('an-r', request(), T0 + 2);
      await repo.claimNext(T0 + 3);
      expect(await repo.cancel('an-r', T0 + 4)).toMatchObject({ state: 'running', cancelRequested: true });
      expect(await repo.saveWindows('an-r', [window(0)], progress(1), T0 + 5)).toBe(false);
      expect(await repo.windows('an-r')).toEqual([]);
      expect(await repo.finish('an-r', 'cancelled', T0 + 6, {})).toBe(true);
      expect(await repo.cancel('an-r', T0 + 7)).toMatchObject({ state: 'cancelled' });
      expect(await repo.cancel('missing', T0)).toBeUndefined();
    });

    it('lists newest first, by model, state and every given tag, in pages', async () => {
      const repo = await make();
      for (let i = 0; i < 5; i++) await repo.create(`an-${i}`, request(i % 2 === 0 ? ['nightly', 'v2'] : ['adhoc']), T0 + i);
      await repo.create('an-other', request(['nightly'], 'other-model'), T0 + 9);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await repo.list({ modelId: 'credit-risk', tags: ['nightly'], limit: 2, ...(cursor ? { cursor } : {}) });
        seen.push(...page.analyses.map((a) => a.analysisId));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(['an-4', 'an-2', 'an-0']);
      expect((await repo.list({ tags: ['nightly', 'v2'] })).analyses.map((a) => a.analysisId)).toEqual(['an-4', 'an-2', 'an-0']);
      expect((await repo.list({ tags: ['nightly'] })).analyses[0].analysisId).toBe('an-other');
      expect((await repo.list({ modelId: 'credit-risk', limit: 10 })).nextCursor).toBeUndefined();
      await expect(repo.list({ cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: 'INVALID_CURSOR' });
    });
  });
}
