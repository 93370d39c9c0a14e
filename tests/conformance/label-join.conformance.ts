import { describe, expect, it } from 'vitest';
import { PerformanceCounters } from '../../src/core/performance/counters.js';
import { summarizePerformance } from '../../src/core/performance/metrics.js';
import { toInferenceRecord, toLabelRecord, type InferenceRecord, type LabelRecord, type PerformanceSpec } from '../../src/core/performance/records.js';
import type { LabelJoin, LabelJoinOptions } from '../../src/ports/label-join.js';
import { mulberry32 as rng } from '../../src/core/random.js';

/** Makes a fresh, empty store (its own key space) for one test. */
export type LabelJoinFactory = (options: LabelJoinOptions & { chunkSize?: number }) => Promise<LabelJoin>;

const SPEC: PerformanceSpec = { kind: 'score', positiveClass: '1', decisionThreshold: 0.5 };
const T0 = 1_700_000_040_000; // on a 1-minute boundary, not on a 5-minute one
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function inference(i: number, model = 'm', ts = T0 + i * 100, score = ((i * 37) % 100) / 100): InferenceRecord {
  return toInferenceRecord({ eventId: `e${i}`, modelId: model, timestamp: ts, prediction: null, score }, SPEC, [60_000, 300_000]);
}

function label(i: number, value: number | string | boolean, model = 'm', ts = T0 + i * 100 + 5_000): LabelRecord {
  return toLabelRecord({ eventId: `e${i}`, modelId: model, timestamp: ts, label: value });
}

function expectSameCounters(got: PerformanceCounters, want: PerformanceCounters): void {
  const g = got.toJSON();
  const w = want.toJSON();
  expect(Object.keys(g).sort()).toEqual(Object.keys(w).sort());
  for (const k of Object.keys(w)) expect(g[k], k).toBeCloseTo(w[k], 9);
}

/**
 * The behaviour every LabelJoin adapter shares (DESIGN.md section 5): run
 * against the memory adapter in the unit tests and against Redis in the
 * integration tests.
 */
export function labelJoinConformance(name: string, factory: LabelJoinFactory): void {
  describe(`${name} label join`, () => {
    it('joins a label that comes after its inference', async () => {
      const j = await factory({});
      const r = inference(1);
      expect(await j.recordInferences([r])).toMatchObject({ stored: 1, joined: 0, duplicates: 0 });
      expect(await j.recordLabels([label(1, 1)])).toMatchObject({ stored: 0, joined: 1, duplicates: 0, joinedByModel: { m: 1 } });
      const want = new PerformanceCounters().acceptPrediction(r).acceptLabel(r, label(1, 1));
      expectSameCounters(await j.readCounters('m', 60_000, T0, T0 + 60_000), want);
      expectSameCounters(await j.readCounters('m', 300_000, T0 - 300_000, T0 + 300_000), want);
      await j.close();
    });

    it('joins a label that comes before its inference', async () => {
      const j = await factory({});
      expect(await j.recordLabels([label(2, 0)])).toMatchObject({ stored: 1, joined: 0 });
      expect(await j.recordInferences([inference(2)])).toMatchObject({ stored: 0, joined: 1, joinedByModel: { m: 1 } });
      const c = await j.readCounters('m', 60_000, T0, T0 + 60_000);
      expect(c.get('n')).toBe(1);
      expect(c.get('pn')).toBe(1);
      expect(await j.stats('m')).toMatchObject({ inferences: 1, labels: 1, joined: 1, waited: 1, expired: 0 });
      await j.close();
    });

    it('counts replays of either side once', async () => {
      const j = await factory({});
      await j.recordInferences([inference(3), inference(3)]);
      expect(await j.recordInferences([inference(3)])).toMatchObject({ stored: 0, duplicates: 1 });
      await j.recordLabels([label(3, 1)]);
      expect(await j.recordLabels([label(3, 1), label(3, 0)])).toMatchObject({ joined: 0, duplicates: 2 });
      // A replayed inference after its join changes nothing either.
      expect(await j.recordInferences([inference(3)])).toMatchObject({ stored: 0, joined: 0, duplicates: 1 });
      // Two labels waiting for the same inference: the first wins.
      await j.recordLabels([label(4, 1), label(4, 0)]);
      await j.recordInferences([inference(4), inference(4)]);
      const c = await j.readCounters('m', 60_000, T0, T0 + 60_000);
      expect(c.get('pn')).toBe(2);
      expect(c.get('n')).toBe(2);
      expect(c.get('tp') + c.get('fn')).toBe(2);
      expect(await j.stats('m')).toMatchObject({ inferences: 2, inferenceDuplicates: 4, labels: 5, joined: 2, labelDuplicates: 3 });
      await j.close();
    });

    it('counts labels whose inference never comes within the horizon', async () => {
      const j = await factory({ horizonMs: 300 });
      await j.recordInferences([inference(5)]);
      await j.recordLabels([label(6, 1)]);
      await sleep(450);
      // The inference's record expired: its late label waits, then expires too.
      expect(await j.recordLabels([label(5, 1)])).toMatchObject({ stored: 1, joined: 0 });
      expect(await j.expireWaitingLabels()).toEqual({ m: 1 });
      await sleep(450);
      expect(await j.expireWaitingLabels()).toEqual({ m: 1 });
      expect(await j.expireWaitingLabels()).toEqual({});
      expect(await j.stats('m')).toMatchObject({ joined: 0, expired: 2 });
      await j.close();
    });

    it('hands out changed panes once, and again after a change', async () => {
      const j = await factory({});
      await j.recordInferences([inference(7), inference(8, 'other')]);
      const dirty = await j.takeDirtyPanes(100);
      const keys = dirty.map((p) => `${p.modelId}/${p.paneMs}/${p.paneStart}`).sort();
      expect(keys).toEqual([`m/300000/${T0 - 240_000}`, `m/60000/${T0}`, `other/300000/${T0 - 240_000}`, `other/60000/${T0}`]);
      expect(await j.takeDirtyPanes(100)).toEqual([]);
      await j.recordLabels([label(7, 1)]);
      expect((await j.takeDirtyPanes(100)).length).toBe(2);
      await j.markDirty([{ modelId: 'm', paneMs: 60_000, paneStart: T0 }]);
      expect(await j.takeDirtyPanes(1)).toEqual([{ modelId: 'm', paneMs: 60_000, paneStart: T0 }]);
      expect(await j.paneStarts('m', 60_000)).toEqual([T0]);
      expect(await j.paneStarts('m', 60_000, T0 + 1)).toEqual([]);
      await j.close();
    });

    it('keeps models apart, whatever their ids hold', async () => {
      const j = await factory({});
      await j.recordInferences([inference(9, 'a:b'), inference(9, 'a')]);
      await j.recordLabels([toLabelRecord({ eventId: 'b:e9', modelId: 'a', timestamp: T0, label: 1 })]);
      expect((await j.stats('a')).joined).toBe(0);
      await j.recordLabels([label(9, 1, 'a:b')]);
      expect((await j.readCounters('a:b', 60_000, T0, T0 + 60_000)).get('n')).toBe(1);
      expect((await j.readCounters('a', 60_000, T0, T0 + 60_000)).get('n')).toBe(0);
      await j.close();
    });

    for (const variant of ['class', 'confidence', 'regression'] as const) {
      it(`mirrors the ${variant} counters field for field`, async () => {
        const j = await factory({ chunkSize: 64 });
        const kind = variant === 'regression' ? 'regression' : 'class';
        const modelId = variant;
        const r = rng(variant === 'class' ? 5 : variant === 'confidence' ? 7 : 6);
        // confidence: a multi-class model whose score is the predicted class's confidence.
        const spec: PerformanceSpec = { kind, positiveClass: 'cat', decisionThreshold: 0.5, ...(variant === 'confidence' ? { scoreOf: 'predictedClass' as const } : {}) };
        const classes = ['cat', 'dog', 'bird', 'ünïcode:class'];
        const want = new PerformanceCounters();
        const infs: InferenceRecord[] = [];
        const labs: LabelRecord[] = [];
        for (let i = 0; i < 1000; i++) {
          const truth = kind === 'class' ? classes[Math.floor(r() * 4)] : r() * 100;
          const prediction = kind === 'class' ? (r() < 0.6 ? truth : classes[Math.floor(r() * 4)]) : (truth as number) + (r() - 0.5) * 10;
          const score = kind === 'class' && r() < (variant === 'confidence' ? 0.9 : 0.5) ? r() : null;
          const rec = toInferenceRecord({ eventId: `${variant}${i}`, modelId, timestamp: T0 + i * 10, prediction: r() < 0.05 ? null : prediction, score }, spec, [60_000]);
          const lab = toLabelRecord({ eventId: `${variant}${i}`, modelId, timestamp: T0 + i * 10 + Math.floor(r() * 1e6), label: r() < 0.03 ? true : truth });
          infs.push(rec);
          labs.push(lab);
          want.acceptPrediction(rec).acceptLabel(rec, lab);
        }
        await j.recordLabels(labs.slice(0, 400));
        await j.recordInferences(infs);
        await j.recordLabels(labs.slice(400));
        expectSameCounters(await j.readCounters(modelId, 60_000, T0, T0 + 60_000), want);
        await j.close();
      });
    }

    it('equals counters computed from the pairs, in any order, with replays', async () => {
      const j = await factory({ chunkSize: 37 });
      const r = rng(42);
      const n = 3000;
      const infs: InferenceRecord[] = [];
      const labs: LabelRecord[] = [];
      for (let i = 0; i < n; i++) {
        const y = r() < 0.4 ? 1 : 0;
        const score = Math.min(1, Math.max(0, 0.5 + (y ? 0.2 : -0.2) + (r() - 0.5) * 0.8));
        infs.push(inference(100 + i, 'm', T0 + Math.floor(r() * 600_000), score));
        if (r() < 0.8) labs.push(label(100 + i, y, 'm', T0 + 700_000 + Math.floor(r() * 10_000_000)));
      }
      const want = new PerformanceCounters();
      for (const x of infs) want.acceptPrediction(x);
      const byId = new Map(infs.map((x) => [x.eventId, x]));
      for (const l of labs) want.acceptLabel(byId.get(l.eventId)!, l);
      // Interleave: some labels first, inferences in batches with replays, the rest of the labels, replays.
      const early = labs.filter(() => r() < 0.3);
      const earlySet = new Set(early);
      await j.recordLabels(early);
      for (let i = 0; i < infs.length; i += 250) await j.recordInferences(infs.slice(i, i + 250));
      await j.recordInferences(infs.slice(0, 500));
      await j.recordLabels(labs.filter((l) => !earlySet.has(l)));
      const replay = await j.recordLabels(labs.slice(0, 700));
      expect(replay).toMatchObject({ joined: 0, duplicates: 700 });
      for (const paneMs of [60_000, 300_000]) {
        expectSameCounters(await j.readCounters('m', paneMs, T0 - 300_000, T0 + 1_200_000), want);
      }
      const panes = await j.readPanes('m', 60_000, T0 - 300_000, T0 + 1_200_000);
      expect([...panes.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, k) => T0 + k * 60_000));
      const summed = new PerformanceCounters();
      for (const c of panes.values()) summed.merge(c);
      expectSameCounters(summed, want);
      const got = summarizePerformance(await j.readCounters('m', 300_000, T0 - 300_000, T0 + 1_200_000), 'score');
      expect(got.labelled).toBe(labs.length);
      expect(got.predictions).toBe(n);
      expect(await j.stats('m')).toMatchObject({ inferences: n, joined: labs.length, inferenceDuplicates: 500 });
      await j.close();
    });
  });
}
