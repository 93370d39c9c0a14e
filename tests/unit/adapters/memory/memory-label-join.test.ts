import { describe, expect, it } from 'vitest';
import { MemoryLabelJoin } from '../../../../src/adapters/memory/memory-label-join.js';
import { toInferenceRecord, toLabelRecord, type PerformanceSpec } from '../../../../src/core/performance/records.js';

const SPEC: PerformanceSpec = { kind: 'score', positiveClass: '1', decisionThreshold: 0.5 };
const T0 = 1_700_000_040_000;
const inference = (i: number, model = 'm') => toInferenceRecord({ eventId: `e${i}`, modelId: model, timestamp: T0 + i, prediction: null, score: 0.7 }, SPEC, [60_000]);
const label = (i: number, model = 'm') => toLabelRecord({ eventId: `e${i}`, modelId: model, timestamp: T0 + i + 1000, label: 1 });

describe('memory label join capacity', () => {
  it('evicts the oldest pending inferences when full and counts them per model', async () => {
    const j = new MemoryLabelJoin({ capacity: 3, clock: () => T0 });
    const out = await j.recordInferences([inference(1, 'a'), inference(2, 'b'), inference(3, 'b'), inference(4, 'b'), inference(5, 'b')], T0);
    expect(out).toMatchObject({ stored: 5, evictedByModel: { a: 1, b: 1 } });
    expect(await j.stats('a')).toMatchObject({ inferences: 1, evicted: 1 });
    expect(await j.stats('b')).toMatchObject({ inferences: 4, evicted: 1 });
    // Evicted: the label waits. Kept: it joins. Predictions of evicted inferences still count.
    expect(await j.recordLabels([label(2, 'b'), label(3, 'b')], T0)).toMatchObject({ joined: 1, stored: 1 });
    const c = await j.readCounters('b', 60_000, T0 - 60_000, T0 + 60_000);
    expect(c.get('pn')).toBe(4);
    expect(c.get('n')).toBe(1);
  });

  it('skips inferences already joined when it evicts, and evicts in insertion order over many rounds', async () => {
    const j = new MemoryLabelJoin({ capacity: 100, clock: () => T0 });
    await j.recordInferences(Array.from({ length: 100 }, (_, i) => inference(i)), T0);
    expect(await j.recordLabels([label(0), label(1)], T0)).toMatchObject({ joined: 2 });
    // Two free places, then 5,000 more: every eviction takes the oldest still pending.
    const out = await j.recordInferences(Array.from({ length: 5_000 }, (_, i) => inference(100 + i)), T0);
    expect(out.evictedByModel).toEqual({ m: 4_998 });
    expect(await j.recordLabels([label(2), label(5_001), label(5_099)], T0)).toMatchObject({ joined: 2, stored: 1 });
    expect(await j.stats('m')).toMatchObject({ evicted: 4_998, joined: 4 });
  });

  it('evicts the oldest waiting labels when full and reports them as expired', async () => {
    const j = new MemoryLabelJoin({ capacity: 2, clock: () => T0 });
    await j.recordLabels([label(1), label(2), label(3)], T0);
    expect(await j.stats('m')).toMatchObject({ waited: 3, expired: 1 });
    expect(await j.expireWaitingLabels(T0)).toEqual({ m: 1 });
    expect(await j.expireWaitingLabels(T0)).toEqual({});
    expect(await j.recordInferences([inference(1), inference(2), inference(3)], T0)).toMatchObject({ joined: 2, stored: 1 });
  });

  it('keeps counting into the right pane when consecutive inferences cross a pane boundary and back', async () => {
    const j = new MemoryLabelJoin({ clock: () => T0 });
    const at = (i: number, ts: number) => toInferenceRecord({ eventId: `x${i}`, modelId: 'm', timestamp: ts, prediction: null, score: 0.2 }, SPEC, [60_000]);
    await j.recordInferences([at(1, T0), at(2, T0 + 60_000), at(3, T0 + 1), at(4, T0 + 60_001), at(5, T0 + 2)], T0);
    expect((await j.readCounters('m', 60_000, T0, T0 + 60_000)).get('pn')).toBe(3);
    expect((await j.readCounters('m', 60_000, T0 + 60_000, T0 + 120_000)).get('pn')).toBe(2);
    expect((await j.paneStarts('m', 60_000))).toEqual([T0, T0 + 60_000]);
  });
});
