import { describe, expect, it } from 'vitest';
import { MemoryAnalysisRepository } from '../../../src/adapters/memory/memory-analysis-repository.js';
import { MemoryModelRepository } from '../../../src/adapters/memory/memory-model-repository.js';
import type { InferenceEvent } from '../../../src/core/events.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { AnalysisEventSource } from '../../../src/ports/analysis-event-source.js';
import { AnalysisRunner } from '../../../src/stream/analysis-runner.js';
import { UnavailableError } from '../../../src/errors.js';
import type { AnalysisProgress, AnalysisWindow } from '../../../src/core/analysis/analysis.js';
import { textSink } from '../../support/text-sink.js';
import { testReference } from '../core/windows/fixtures.js';

/** A topic that answers only when released: runs wait inside their first step. */
class GatedSource implements AnalysisEventSource {
  readonly reading = new Set<string>();
  private release!: () => void;
  private readonly gate = new Promise<void>((r) => (this.release = r));
  open(): void {
    this.release();
  }
  async *topicRange(topic: string): AsyncIterable<InferenceEvent[]> {
    this.reading.add(topic);
    await this.gate;
    yield [];
  }
}

describe('AnalysisRunner', () => {
  it('runs at most `concurrency` analyses at once and takes the queued ones as slots free up', async () => {
    const analyses = new MemoryAnalysisRepository();
    const models = new MemoryModelRepository();
    await models.putModel({ modelId: 'm1', features: { x: 'numeric', y: 'numeric', region: 'categorical' } });
    await models.addReference('m1', 'ref-1', testReference());
    for (let i = 0; i < 4; i++) await analyses.create(`an-${i}`, { modelId: 'm1', source: { kind: 'topic', topic: `t${i}`, from: 0, to: 10_000 }, windowMs: 10_000, tags: [] }, i);
    const source = new GatedSource();
    const outcomes: string[] = [];
    const runner = new AnalysisRunner({ analyses, models, source, logger: createLogger('silent', textSink()), concurrency: 2, chunkWindows: 1, pollMs: 60_000, onOutcome: (id, o) => outcomes.push(`${id}:${o}`) });
    await runner.start();
    while (source.reading.size < 2) await new Promise((r) => setTimeout(r, 5));
    expect(runner.active().sort()).toEqual(['an-0', 'an-1']);
    expect([...source.reading].sort()).toEqual(['t0', 't1']);
    expect((await analyses.list({ state: 'queued' })).analyses.map((a) => a.analysisId).sort()).toEqual(['an-2', 'an-3']);
    source.open();
    while (outcomes.length < 4) await new Promise((r) => setTimeout(r, 10));
    await runner.stop();
    expect(outcomes.sort()).toEqual(['an-0:completed', 'an-1:completed', 'an-2:completed', 'an-3:completed']);
    // An empty range completes with no window.
    expect((await analyses.get('an-3'))!.summary).toMatchObject({ windows: 0, driftWindows: 0 });
  });
});

/** A store whose window writes fail the first `failures` times with `error`. */
class FlakyStore extends MemoryAnalysisRepository {
  constructor(
    private failures: number,
    private readonly error: () => Error,
  ) {
    super();
  }
  override async saveWindows(id: string, windows: readonly AnalysisWindow[], progress: AnalysisProgress, now: number): Promise<boolean> {
    if (this.failures-- > 0) throw this.error();
    return super.saveWindows(id, windows, progress, now);
  }
}

describe('AnalysisRunner and failing dependencies', () => {
  async function run(analyses: MemoryAnalysisRepository) {
    const models = new MemoryModelRepository();
    await models.putModel({ modelId: 'm1', features: { x: 'numeric', y: 'numeric', region: 'categorical' } });
    await models.addReference('m1', 'ref-1', testReference());
    await analyses.create('an-x', { modelId: 'm1', source: { kind: 'topic', topic: 't', from: 0, to: 30_000 }, windowMs: 10_000, tags: [] }, 0);
    const source: AnalysisEventSource = { async *topicRange() { yield []; } };
    let outcome: string | undefined;
    const runner = new AnalysisRunner({ analyses, models, source, logger: createLogger('silent', textSink()), concurrency: 1, chunkWindows: 1, pollMs: 60_000, onOutcome: (_id, o) => (outcome = o) });
    await runner.start();
    while (outcome === undefined) await new Promise((r) => setTimeout(r, 10));
    await runner.stop();
    return { outcome, analysis: (await analyses.get('an-x'))! };
  }

  it('waits out a store that is down and goes on from the stored progress', async () => {
    const { outcome, analysis } = await run(new FlakyStore(2, () => new UnavailableError('postgres', 'connection refused')));
    expect(outcome).toBe('completed');
    expect(analysis.progress).toMatchObject({ fraction: 1, resumeFrom: 30_000 });
  });

  it('fails the analysis with the message of any other error', async () => {
    const { outcome, analysis } = await run(new FlakyStore(1, () => new Error('disk full')));
    expect(outcome).toBe('failed');
    expect(analysis).toMatchObject({ state: 'failed', error: 'disk full' });
  });
});
