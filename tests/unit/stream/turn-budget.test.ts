import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../../src/core/model/model-config.js';
import type { InferenceEvent } from '../../../src/core/events.js';
import { InferenceProcessor } from '../../../src/stream/inference-processor.js';
import { buildReference } from '../../../src/stream/reference-bootstrap.js';
import { TurnBudget } from '../../../src/stream/turn-budget.js';
import { WindowEvaluator } from '../../../src/stream/window-evaluator.js';
import type { Evaluation } from '../../../src/core/drift/types.js';
import { row, rng } from '../core/windows/fixtures.js';
import { Harness, T0, control } from './harness.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const microtasks = async (n = 20) => {
  for (let i = 0; i < n; i++) await Promise.resolve();
};

describe('TurnBudget', () => {
  it('runs slices at once while the turn lasts, later ones in a later turn, in the order they asked', async () => {
    let t = 0;
    const budget = new TurnBudget(10, () => t);
    const order: string[] = [];
    await budget.slice(() => void (t += 4, order.push('a')));
    await budget.slice(() => void (t += 4, order.push('b')));
    // 8 of 10 used: the next slice still starts in this turn, and runs over the budget.
    await budget.slice(() => void (t += 4, order.push('c')));
    const d = budget.slice(() => void (t += 1, order.push('d')));
    const e = budget.slice(() => void (t += 1, order.push('e')));
    await microtasks();
    expect(order).toEqual(['a', 'b', 'c']);
    expect(budget.deferred).toBe(2);
    await Promise.all([d, e]);
    expect(order).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('tells a slice to yield once what is left of the turn is used', async () => {
    let t = 0;
    const budget = new TurnBudget(10, () => t);
    await budget.slice(() => void (t += 6));
    const seen: boolean[] = [];
    await budget.slice((shouldYield) => {
      for (let i = 0; i < 6; i++) {
        seen.push(shouldYield());
        t += 1;
      }
    });
    expect(seen).toEqual([false, false, false, false, true, true]);
    await nextTurn();
    await nextTurn();
    // A new turn: the whole budget again.
    await budget.slice((shouldYield) => void seen.push(shouldYield()));
    expect(seen.at(-1)).toBe(false);
  });
});

const model = parseModelConfig({
  modelId: 'm1',
  features: { x: 'numeric', y: 'numeric', region: 'categorical' },
  windows: [{ name: '10s', size: '10s' }],
  allowedLateness: '1s',
});

function events(partition: number, n: number): InferenceEvent[] {
  const r = rng(3 + partition);
  return Array.from({ length: n }, (_, i) => {
    const e = row(r);
    return { eventId: `p${partition}-${i}`, modelId: 'm1', modelVersion: 'v1', timestamp: T0 + i * 10, features: e.features, prediction: e.prediction, score: e.score, attributes: {} };
  });
}

describe('a turn budget shared by the partitions', () => {
  it('holds the event loop for about one budget per turn while two partitions process large batches', async () => {
    const h = new Harness({ autoRegister: false });
    const profile = buildReference(model, { ...model.features }, Array.from({ length: 2000 }, () => row(rng(1))), { hasScore: true, predictionType: 'categorical' }, { createdAt: 0, id: 'ref-1' });
    await h.repo.putModel({ modelId: 'm1' });
    await h.repo.addReference('m1', 'ref-1', profile);
    await h.init([model]);
    // Time in this test is the number of looks at the clock: every slice start and end, and every
    // look of a batch (once per 128 records). A turn's budget is 4 looks, a few hundred records.
    let looks = 0;
    const turns = new TurnBudget(4, () => ++looks);
    const sink = { publishAlerts: async () => {}, publishEvaluations: async (e: readonly Evaluation[]) => void h.published.evaluations.push(...e) };
    const { catalog, coordinator, alertState, results, state, metrics, logger } = h;
    const evaluator = new WindowEvaluator({ catalog, coordinator, alertState, sink, results, state, metrics, logger, now: () => h.now, turns });
    const ctx = { ...h.ctx, evaluator, turns };
    const processors = [0, 1].map((p) => new InferenceProcessor('t', p, 2, ctx));
    const batches = [0, 1].map((p) => h.messages(p, events(p, 6000)));
    // How many looks at the clock each turn of the event loop held, measured between two runs of an immediate.
    const perTurn: number[] = [];
    let done = false;
    let last = looks;
    const probe = (): void => {
      perTurn.push(looks - last);
      last = looks;
      if (!done) setImmediate(probe);
    };
    setImmediate(probe);
    await Promise.all(processors.map((p, i) => p.process(batches[i], control)));
    done = true;
    await evaluator.drain();
    expect(h.state.counters.consumed).toBe(12_000);
    // The closed panes were evaluated (their merging and evaluation are slices of the same budget).
    expect(h.published.evaluations.length).toBeGreaterThanOrEqual(5);
    // 2 x 6,000 records at a few hundred a turn: many turns, none holding much more than one budget.
    // (With a budget per partition, as before, each turn held both partitions' slices: about twice as
    // many looks a turn, in about half as many turns.)
    expect(perTurn.length).toBeGreaterThan(20);
    expect(Math.max(...perTurn.slice(1))).toBeLessThanOrEqual(8);
    expect(turns.deferred).toBeGreaterThan(20);
  });
});
