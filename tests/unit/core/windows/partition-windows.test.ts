import { describe, expect, it } from 'vitest';
import { PartitionWindows, type ClosedPane } from '../../../../src/core/windows/partition-windows.js';
import { paneStartOf, windowsEndingAt } from '../../../../src/core/windows/window-spec.js';
import { Pane } from '../../../../src/core/windows/pane.js';
import { paneLengthOf } from '../../../../src/core/windows/window-spec.js';
import { row, rng, testLayout, testModel } from './fixtures.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0); // on a minute boundary
const layout = testLayout();
const params = { paneMs: 10_000, latenessMs: 2_000 };

function add(w: PartitionWindows, ts: number, now = 0): Pane | undefined {
  w.observe(ts, now);
  const pane = w.paneFor(layout, params, ts);
  const e = row(rng(ts));
  pane?.accept(e.features, e.score, e.prediction, 'v1');
  return pane;
}

describe('window alignment', () => {
  it('aligns panes to the epoch', () => {
    expect(paneStartOf(T0 + 12_345, 10_000)).toBe(T0 + 10_000);
    expect(paneStartOf(T0, 10_000)).toBe(T0);
    expect(paneStartOf(T0 + 299_999, 300_000)).toBe(T0);
    expect(paneStartOf(-1, 1000)).toBe(-1000);
  });

  it('uses the gcd of the slides as the pane length and lists the windows ending at a pane end', () => {
    const m = testModel({ windows: [{ name: 'a', size: '1m' }, { name: 'b', size: '1h', slide: '5m' }] });
    expect(paneLengthOf(m.windows)).toBe(60_000);
    expect(windowsEndingAt(m.windows, T0 + 60_000).map((w) => w.window.name)).toEqual(['a']);
    const five = windowsEndingAt(m.windows, T0 + 300_000);
    expect(five.map((w) => [w.window.name, w.start, w.end])).toEqual([
      ['a', T0 + 240_000, T0 + 300_000],
      ['b', T0 + 300_000 - 3_600_000, T0 + 300_000],
    ]);
  });
});

describe('PartitionWindows', () => {
  it('keeps a pane open until the watermark (clock - lateness) passes its end', () => {
    const w = new PartitionWindows(0);
    add(w, T0 + 1000);
    add(w, T0 + 9_999);
    expect(w.closeDue()).toEqual([]);
    add(w, T0 + 11_999); // watermark T0 + 9_999
    expect(w.closeDue()).toEqual([]);
    add(w, T0 + 12_000); // watermark T0 + 10_000 = pane end
    const closed = w.closeDue();
    expect(closed.map((c: ClosedPane) => [c.pane.paneStart, c.pane.paneEnd, c.pane.count])).toEqual([[T0, T0 + 10_000, 2]]);
    expect(w.openPanes).toBe(1);
  });

  it('puts events within the allowed lateness into their pane and counts later ones as late', () => {
    const w = new PartitionWindows(0);
    add(w, T0 + 5000);
    add(w, T0 + 11_000);
    expect(add(w, T0 + 9_000)?.paneStart).toBe(T0); // 2s behind the clock: still on time
    add(w, T0 + 12_500);
    const closed = w.closeDue();
    expect(closed[0].pane.count).toBe(2);
    expect(add(w, T0 + 9_500)).toBeUndefined();
    expect(add(w, T0 + 1)).toBeUndefined();
    expect(w.lateCount('m1')).toBe(2);
    expect(add(w, T0 + 10_001)?.paneStart).toBe(T0 + 10_000);
  });

  it('closes several panes at once, oldest first, when the clock jumps', () => {
    const w = new PartitionWindows(0);
    add(w, T0 + 1);
    add(w, T0 + 10_001);
    add(w, T0 + 20_001);
    add(w, T0 + 100_000);
    expect(w.closeDue().map((c) => c.pane.paneStart)).toEqual([T0, T0 + 10_000, T0 + 20_000]);
  });

  it('closes due panes after the idle timeout, assuming event time advances with the wall clock', () => {
    const w = new PartitionWindows(0);
    add(w, T0 + 4_000, 1_000);
    expect(w.closeIdle(20_000, 30_000)).toBeUndefined();
    expect(w.idle).toBe(false);
    // Idle for 7 s: the clock is estimated at T0 + 11_000, past the first pane's end.
    const closed = w.closeIdle(8_000, 5_000)!;
    expect(closed.map((c) => c.pane.paneStart)).toEqual([T0]);
    expect(w.idle).toBe(true);
    expect(w.estimatedClock(8_000)).toBe(T0 + 11_000);
    add(w, T0 + 12_000, 9_000);
    expect(w.idle).toBe(false);
    expect(add(w, T0 + 3_000, 9_000)).toBeUndefined();
  });

  it('waives only the lateness of an idle partition that replays the past', () => {
    const w = new PartitionWindows(0);
    const wall = T0 + 3_600_000; // the events are an hour old
    add(w, T0 + 4_000, wall);
    add(w, T0 + 10_500, wall);
    expect(w.closeDue()).toEqual([]); // watermark T0 + 8.5 s
    const closed = w.closeIdle(wall + 6_000, 5_000)!;
    expect(closed.map((c) => c.pane.paneStart)).toEqual([T0]); // the pane holding the clock stays open
    expect(w.estimatedClock(wall + 6_000)).toBe(T0 + 10_500);
    expect(add(w, T0 + 11_000, wall + 61_000)?.paneStart).toBe(T0 + 10_000);
    // Silent for three idle timeouts: the replay has stopped, its last pane closes.
    expect(w.closeIdle(wall + 61_000 + 10_000, 5_000)).toEqual([]);
    expect(w.closeIdle(wall + 61_000 + 15_000, 5_000)!.map((c) => c.pane.paneStart)).toEqual([T0 + 10_000]);
    expect(add(w, T0 + 19_000, wall + 80_000)).toBeUndefined();
    expect(add(w, T0 + 20_000, wall + 80_000)?.paneStart).toBe(T0 + 20_000);
  });

  it('round-trips its open panes, clock and late counts through JSON', () => {
    const w = new PartitionWindows(0);
    for (let i = 0; i < 200; i++) add(w, T0 + i * 70);
    add(w, T0 + 12_100);
    w.closeDue();
    add(w, T0 + 1);
    const json = JSON.parse(JSON.stringify(w.toJSON()));
    const { windows: back, dropped } = PartitionWindows.fromJSON(json, (m, r) => (m === layout.modelId && r === layout.referenceId ? layout : undefined), 0);
    expect(dropped).toEqual([]);
    expect(back.clock).toBe(w.clock);
    expect(back.lateCount('m1')).toBe(1);
    expect(back.openPanesOf('m1').map((p) => p.toJSON())).toEqual(w.openPanesOf('m1').map((p) => p.toJSON()));
    expect(add(back, T0 + 500)).toBeUndefined();
    expect(back.lateCount('m1')).toBe(2);
    const gone = PartitionWindows.fromJSON(json, () => undefined, 0);
    expect(gone.dropped.length).toBe(1);
  });
});

describe('Pane', () => {
  it('merges partials into the same result as one pane over all events', () => {
    const r = rng(7);
    const whole = new Pane(layout, T0, T0 + 10_000);
    const a = new Pane(layout, T0, T0 + 10_000);
    const b = new Pane(layout, T0, T0 + 10_000);
    for (let i = 0; i < 2000; i++) {
      const e = row(r, { shift: 0.3 });
      whole.accept(e.features, e.score, e.prediction, null);
      (i % 3 === 0 ? a : b).accept(e.features, e.score, e.prediction, null);
    }
    a.sources.add('t/0');
    b.sources.add('t/1');
    const merged = Pane.empty(layout, T0, T0 + 10_000).merge(a).merge(b);
    expect(merged.count).toBe(2000);
    expect(Array.from(merged.numeric[0].counts)).toEqual(Array.from(whole.numeric[0].counts));
    expect(merged.numeric[0].mean).toBeCloseTo(whole.numeric[0].mean, 9);
    expect(Object.fromEntries(merged.categorical[0].counts())).toEqual(Object.fromEntries(whole.categorical[0].counts()));
    expect(merged.score!.count).toBe(2000);
    expect([...merged.sources]).toEqual(['t/0', 't/1']);
    expect(Math.abs(merged.numeric[0].quantile(0.5) - whole.numeric[0].quantile(0.5))).toBeLessThan(0.02);
  });

  it('finds features whose type contradicts the model and counts values outside the reference range', () => {
    const p = new Pane(layout, T0, T0 + 10_000);
    expect(p.typeMismatch({ x: 1, y: null, region: 'north' })).toBeUndefined();
    expect(p.typeMismatch({ x: '1', y: 2, region: 'north' })).toBe('x');
    expect(p.typeMismatch({ x: 1, y: true })).toBe('y');
    expect(p.typeMismatch({ x: 1, region: 3 })).toBeUndefined();
    p.accept({ x: 1e9, y: 10, region: 'mars' }, 0.5, '1', null);
    expect(p.outOfRange[0]).toBe(1);
    expect(p.outOfRange[1]).toBe(0);
    const back = Pane.fromJSON(JSON.parse(JSON.stringify(p.toJSON())), layout);
    expect(back.toJSON()).toEqual(p.toJSON());
  });
});
