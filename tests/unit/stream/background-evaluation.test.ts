import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../../src/core/model/model-config.js';
import type { InferenceEvent } from '../../../src/core/events.js';
import { InferenceProcessor, type ProcessorContext } from '../../../src/stream/inference-processor.js';
import { buildReference } from '../../../src/stream/reference-bootstrap.js';
import { WindowEvaluator } from '../../../src/stream/window-evaluator.js';
import type { Evaluation } from '../../../src/core/drift/types.js';
import { row, rng } from '../core/windows/fixtures.js';
import { Harness, T0, control } from './harness.js';

const model = parseModelConfig({
  modelId: 'm1',
  features: { x: 'numeric', y: 'numeric', region: 'categorical' },
  windows: [{ name: '10s', size: '10s' }, { name: '30s', size: '30s', slide: '10s' }],
  allowedLateness: '1s',
});

async function harness(): Promise<Harness> {
  const h = new Harness({ autoRegister: false });
  const r = rng(1);
  const profile = buildReference(model, { ...model.features }, Array.from({ length: 2000 }, () => row(r)), { hasScore: true, predictionType: 'categorical' }, { createdAt: 0, id: 'ref-1' });
  await h.repo.putModel({ modelId: 'm1' });
  await h.repo.addReference('m1', 'ref-1', profile);
  return h.init([model]);
}

// 60 s of event time, 100 events a second: six 10 s panes close within the batches.
function events(): InferenceEvent[] {
  const r = rng(2);
  return Array.from({ length: 6100 }, (_, i) => {
    const e = row(r);
    return { eventId: `e${i}`, modelId: 'm1', modelVersion: 'v1', timestamp: T0 + i * 10, features: e.features, prediction: e.prediction, score: e.score, attributes: {} };
  });
}

async function run(extra: Partial<ProcessorContext>, drain: boolean): Promise<{ h: Harness; afterBatches: number; results: unknown[] }> {
  const h = await harness();
  const p = new InferenceProcessor('t', 0, 1, { ...h.ctx, ...extra });
  const all = h.messages(0, events());
  for (let i = 0; i < all.length; i += 500) await p.process(all.slice(i, i + 500), control);
  const afterBatches = h.published.evaluations.length;
  if (drain) await h.evaluator.drain();
  const results = h.published.evaluations.map((e) => ({ w: e.windowName, s: e.windowStart, n: e.sampleSize, f: e.features }));
  return { h, afterBatches, results };
}

describe('evaluation in the background', () => {
  it('gives the same evaluations as inline evaluation once drained', async () => {
    const inline = await run({}, false);
    const background = await run({ evaluation: { mode: 'background', maxPending: 100 } }, true);
    expect(inline.results.length).toBeGreaterThanOrEqual(10);
    expect(background.results).toEqual(inline.results);
    expect(background.h.state.counters.consumed).toBe(6100);
  });

  it('lets the batches go on while panes wait for evaluation, and waits once more than maxPending are queued', async () => {
    const h = await harness();
    // A sink that holds every evaluation until the gate opens, so queued panes pile up.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const published: Evaluation[] = [];
    const sink = { publishAlerts: async () => {}, publishEvaluations: async (e: readonly Evaluation[]) => void (await gate, published.push(...e)) };
    const { catalog, coordinator, alertState, results, state, metrics, logger } = h;
    const evaluator = new WindowEvaluator({ catalog, coordinator, alertState, sink, results, state, metrics, logger, now: () => h.now });
    const p = new InferenceProcessor('t', 0, 1, { ...h.ctx, evaluator, evaluation: { mode: 'background', maxPending: 2 } });
    const all = h.messages(0, events());
    let finished = false;
    const feeding = (async () => {
      for (let i = 0; i < all.length; i += 500) await p.process(all.slice(i, i + 500), control);
      finished = true;
    })();
    await new Promise((r) => setTimeout(r, 200));
    // The first panes are queued behind the gate; ingest went on until more than two waited.
    expect(h.state.counters.consumed).toBeGreaterThan(2500);
    expect(evaluator.pending).toBe(3);
    expect(finished).toBe(false);
    expect(published).toHaveLength(0);
    open();
    await feeding;
    await evaluator.drain();
    expect(evaluator.pending).toBe(0);
    expect(h.state.counters.consumed).toBe(6100);
    // Panes up to 50 s closed (the watermark stays 1 s behind the last event at 61 s).
    expect(published.filter((e) => e.windowName === '10s').map((e) => e.sampleSize)).toEqual([1000, 1000, 1000, 1000, 1000]);
  });

  it('hands the event loop back within a long batch', async () => {
    for (const [yieldAfterMs, expected] of [
      [0, true],
      [Infinity, false],
    ] as const) {
      const h = await harness();
      const p = new InferenceProcessor('t', 0, 1, { ...h.ctx, yieldAfterMs });
      let ran = false;
      setImmediate(() => (ran = true));
      await p.process(h.messages(0, events().slice(0, 1000)), control);
      expect(ran).toBe(expected);
      await new Promise((r) => setImmediate(r));
    }
  });
});
