import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../../src/core/model/model-config.js';
import { Pane, type PaneJSON } from '../../../src/core/windows/pane.js';
import type { PaneLayout } from '../../../src/core/windows/pane-layout.js';
import { buildReference } from '../../../src/stream/reference-bootstrap.js';
import { row, rng } from '../core/windows/fixtures.js';
import { Harness, T0 } from './harness.js';

const model = parseModelConfig({
  modelId: 'm1',
  features: { x: 'numeric', y: 'numeric', region: 'categorical' },
  windows: [{ name: '10s', size: '10s' }, { name: '30s', size: '30s', slide: '10s' }],
  allowedLateness: '1s',
});
const PANE = 10_000;

async function harness(): Promise<{ h: Harness; layout: PaneLayout }> {
  const h = new Harness({ autoRegister: false });
  const r = rng(1);
  const profile = buildReference(model, { ...model.features }, Array.from({ length: 2000 }, () => row(r)), { hasScore: true, predictionType: 'categorical' }, { createdAt: 0, id: 'ref-1' });
  await h.repo.putModel({ modelId: 'm1' });
  await h.repo.addReference('m1', 'ref-1', profile);
  await h.init([model]);
  return { h, layout: (await h.catalog.ensureReference('m1', 'ref-1'))! };
}

function partial(layout: PaneLayout, k: number, source: string, n: number): PaneJSON {
  const r = rng(100 + k);
  const p = new Pane(layout, T0 + k * PANE, T0 + (k + 1) * PANE);
  for (let i = 0; i < n; i++) {
    const e = row(r);
    p.accept(e.features, e.score, e.prediction, null);
  }
  p.sources.add(source);
  return p.toJSON();
}

const tumbling = (h: Harness, k: number) => h.published.evaluations.filter((e) => e.windowName === '10s' && e.windowStart === T0 + k * PANE);

describe('a complete pane delivered after later panes', () => {
  it('is evaluated whole when its pane-long window was never stored (its election was lost)', async () => {
    const { h, layout } = await harness();
    for (let k = 1; k <= 6; k++) await h.evaluator.evaluate([{ modelId: 'm1', paneStart: T0 + k * PANE, paneEnd: T0 + (k + 1) * PANE, partials: [partial(layout, k, 't/0', 300), partial(layout, k, 't/1', 200)] }]);
    // Pane 0 comes only now, as when the reply of its election was lost and its claim ran out.
    await h.evaluator.evaluate([{ modelId: 'm1', paneStart: T0, paneEnd: T0 + PANE, partials: [partial(layout, 0, 't/0', 300), partial(layout, 0, 't/1', 200)] }]);
    expect(tumbling(h, 0).map((e) => e.sampleSize)).toEqual([500]);
    expect((await h.results.listEvaluations({ modelId: 'm1', windowName: '10s', from: T0, to: T0 + PANE })).map((e) => e.sampleSize)).toEqual([500]);
  });

  it('does not evaluate a published pane-long window again from a very late partial', async () => {
    const { h, layout } = await harness();
    for (let k = 0; k <= 6; k++) await h.evaluator.evaluate([{ modelId: 'm1', paneStart: T0 + k * PANE, paneEnd: T0 + (k + 1) * PANE, partials: [partial(layout, k, 't/0', 300)] }]);
    expect(tumbling(h, 0).map((e) => e.sampleSize)).toEqual([300]);
    // A partition's partial of pane 0 arrives long after: the pane's record in the coordinator holds only it.
    await h.evaluator.evaluate([{ modelId: 'm1', paneStart: T0, paneEnd: T0 + PANE, partials: [partial(layout, 0, 't/2', 40)] }]);
    expect(tumbling(h, 0).map((e) => e.sampleSize)).toEqual([300]);
  });
});
