import { describe, expect, it } from 'vitest';
import { Pane, type PaneJSON } from '../../../../src/core/windows/pane.js';
import { ModelWindowCache } from '../../../../src/core/windows/window-cache.js';
import { row, rng, testLayout, testModel } from './fixtures.js';

const model = testModel({ windows: [{ name: 'p', size: '2s' }, { name: 's', size: '8s', slide: '4s' }], allowedLateness: '1s' });
const layout = testLayout(model);
const T0 = Date.UTC(2026, 0, 1);

function partial(start: number, source: string, n: number, seed: number): PaneJSON {
  const r = rng(seed);
  const p = new Pane(layout, start, start + 2000);
  for (let i = 0; i < n; i++) {
    const e = row(r);
    p.accept(e.features, e.score, e.prediction, null);
  }
  p.sources.add(source);
  return p.toJSON();
}

function brute(parts: PaneJSON[], from: number, to: number): Pane {
  const out = Pane.empty(layout, from, to);
  for (const p of parts) if (p.s >= from && p.s < to) out.merge(Pane.fromJSON(p, layout));
  return out;
}

describe('ModelWindowCache', () => {
  it('rolls panes into slide blocks that add up to the sliding window, counting each partial once', () => {
    const cache = new ModelWindowCache(model, layout, 3000);
    expect(cache.paneMs).toBe(2000);
    const all: PaneJSON[] = [];
    for (let k = 0; k < 10; k++) {
      const start = T0 + k * 2000;
      const parts = [partial(start, 't/0', 50 + k, k), partial(start, 't/1', 30, 100 + k)];
      all.push(...parts);
      expect(cache.add(start, start + 2000, parts).changed).toBe(true);
      cache.markEvaluated(start);
      // Replays change nothing.
      expect(cache.add(start, start + 2000, parts).changed).toBe(false);
      expect(cache.add(start, start + 2000, [parts[1]]).changed).toBe(false);
      const end = start + 2000;
      expect(cache.window(model.windows[0], end).toJSON()).toEqual(brute(all, start, end).toJSON());
      if (end % 4000 === 0 && k >= 3) {
        expect(cache.window(model.windows[1], end).count).toBe(brute(all, end - 8000, end).count);
        expect(Array.from(cache.window(model.windows[1], end).numeric[0].counts)).toEqual(Array.from(brute(all, end - 8000, end).numeric[0].counts));
      }
    }
    // Only what the windows still need is kept.
    expect(cache.size.blocks).toBeLessThanOrEqual(4);
    expect(cache.size.panes).toBeLessThanOrEqual(4);
    // Evaluated panes and the blocks the windows moved past are packed; the block still filling is not.
    expect(cache.size.packed).toBe(cache.size.panes + cache.size.blocks - 1);
  });

  it('merges a late partial into its pane and block, once', () => {
    const cache = new ModelWindowCache(model, layout, 3000);
    const a = partial(T0, 't/0', 100, 1);
    const b = partial(T0 + 2000, 't/0', 100, 2);
    cache.add(T0, T0 + 2000, [a]);
    cache.markEvaluated(T0);
    cache.add(T0 + 2000, T0 + 4000, [b]);
    cache.markEvaluated(T0 + 2000);
    const late = partial(T0, 't/1', 40, 3);
    // The coordinator hands out the whole pane again, with the late partial.
    const again = cache.add(T0, T0 + 2000, [a, late]);
    expect(again).toMatchObject({ changed: true, stale: false });
    expect(again.pane.count).toBe(140);
    expect(cache.window(model.windows[1], T0 + 4000).count).toBe(240);
  });

  it('lists the panes it never saw so they can be fetched, once', () => {
    const cache = new ModelWindowCache(model, layout, 3000);
    cache.add(T0 + 6000, T0 + 8000, [partial(T0 + 6000, 't/0', 10, 1)]);
    expect(cache.missing(model.windows[1], T0 + 8000)).toEqual([[T0, T0 + 6000]]);
    expect(cache.missing(model.windows[0], T0 + 8000)).toEqual([]);
    cache.addHistorical(T0 + 2000, [partial(T0 + 2000, 't/0', 10, 2)]);
    cache.markQueried([[T0, T0 + 6000]]);
    expect(cache.missing(model.windows[1], T0 + 8000)).toEqual([]);
    expect(cache.window(model.windows[1], T0 + 8000).count).toBe(20);
  });

  it('does not re-evaluate a pane-long window from a lone very late partial', () => {
    const cache = new ModelWindowCache(model, layout, 3000);
    for (let k = 0; k < 6; k++) cache.add(T0 + k * 2000, T0 + (k + 1) * 2000, [partial(T0 + k * 2000, 't/0', 10, k)]);
    const r = cache.add(T0, T0 + 2000, [partial(T0, 't/1', 5, 9)]);
    expect(r.stale).toBe(true);
  });
});
