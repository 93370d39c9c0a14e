import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../../../src/core/model/model-config.js';
import { parseProfile, serializeProfile, type ReferenceProfile } from '../../../../src/core/profile/reference-profile.js';
import { OTHER_SEGMENT } from '../../../../src/core/profile/segment-profiles.js';
import { createPaneLayout, gatherFeatures, type PaneLayout } from '../../../../src/core/windows/pane-layout.js';
import { Pane } from '../../../../src/core/windows/pane.js';
import { evaluateWindow } from '../../../../src/core/drift/evaluate-window.js';
import { segmentConditions } from '../../../../src/core/drift/segment-conditions.js';
import { attributeCategorical } from '../../../../src/core/drift/segment-evaluation.js';
import { buildReferenceFromSamples } from '../../../../src/stream/reference-from-samples.js';
import { regionEvents, type RegionEvent } from './support.js';

const model = parseModelConfig({
  modelId: 'seg',
  features: { f0: 'numeric', f1: 'numeric', c0: 'categorical' },
  windows: [{ name: '1m', size: '1m' }],
  segments: { attributes: ['region'], topK: 10 },
});
const plainModel = parseModelConfig({ ...JSON.parse(JSON.stringify({ modelId: 'seg', features: model.features, windows: [{ name: '1m', size: '1m' }] })) });

let reference: ReferenceProfile;

async function referenceOf(): Promise<ReferenceProfile> {
  reference ??= parseProfile(
    serializeProfile(
      (
        await buildReferenceFromSamples(model, (async function* () {
          yield regionEvents(1, 20_000) as unknown as Record<string, unknown>[];
        })(), { createdAt: 0, id: 'ref' })
      ).profile,
    ),
  );
  return reference;
}

function windowOf(layout: PaneLayout, events: RegionEvent[]): Pane {
  const pane = new Pane(layout, 0, 60_000);
  for (const e of events) {
    // The stream's path: gather once, count in the pane and in its segments.
    expect(gatherFeatures(layout, e.features)).toBeUndefined();
    pane.acceptGathered(e.score, e.prediction, e.modelVersion);
    pane.segments?.acceptGathered(e.attributes, e.score, e.prediction, e.modelVersion);
  }
  return pane;
}

const evaluate = (pane: Pane) => evaluateWindow({ model, pane, windowName: '1m', windowStart: 0, windowEnd: 60_000, evaluatedAt: 0 });

describe('segments and attribution', () => {
  it('keeps the reference top K values by traffic, each with its own profile, and pools the rest', async () => {
    const ref = await referenceOf();
    const seg = ref.segments!.region;
    expect(Object.keys(seg.profiles).sort()).toEqual(expect.arrayContaining(['big', 'mid0', 'mid4', OTHER_SEGMENT]));
    expect(Object.keys(seg.profiles)).toHaveLength(11);
    expect(seg.counts.big / 20_000).toBeCloseTo(0.1, 1);
    const big = seg.profiles.big.features.f0;
    expect(big.type === 'numeric' && big.mean).toBeCloseTo(0.5, 1);
  });

  it('fires for a drift in a segment carrying 10% of the traffic that is too small to pass the floor globally, and ranks it first', async () => {
    const layout = createPaneLayout(model, 'ref', await referenceOf());
    const e = evaluate(windowOf(layout, regionEvents(2, 5000, 0.5)));
    expect(e.features.f0.drift).toBe(false);
    const big = e.segments!.results.find((r) => r.value === 'big')!;
    expect(big.features.f0.verdict).toBe('drift');
    expect(big.share).toBeCloseTo(0.1, 1);
    for (const r of e.segments!.results) if (r.value !== 'big') expect(r.features.f0.severity).toBe('NONE');
    const f0 = e.segments!.attribution.find((a) => a.feature === 'f0')!;
    expect(f0.segments[0].value).toBe('big');
    expect(f0.within).toBeGreaterThan(Math.abs(f0.mix));
    expect(f0.change).toBeCloseTo(0.05, 1);
    const fired = segmentConditions(e, model).filter((c) => c.severity !== 'NONE');
    expect(fired.map((c) => c.feature)).toEqual(['f0 [region=big]']);
    expect(fired[0].measures.effect.details).toMatchObject({ segment: 'region=big', attributionRank: '1' });
  });

  it('attributes a change of the segment mix to the mix', async () => {
    const layout = createPaneLayout(model, 'ref', await referenceOf());
    // A quarter of the traffic from region big instead of a tenth (f0 mean 0.5 there): the global mean moves, no segment changed.
    const events = [...regionEvents(3, 4000), ...regionEvents(4, 8000).filter((x) => x.attributes.region === 'big')];
    const e = evaluate(windowOf(layout, events));
    const f0 = e.segments!.attribution.find((a) => a.feature === 'f0')!;
    expect(f0.mix).toBeGreaterThan(0.05);
    expect(f0.mix).toBeGreaterThan(2 * Math.abs(f0.within));
    expect(f0.segments[0].value).toBe('big');
    expect(e.segments!.results.every((r) => Object.values(r.features).every((f) => f.severity === 'NONE'))).toBe(true);
  });

  it('raises no segment alarm on windows like the reference, with the multiplicity of 11 segments', async () => {
    const layout = createPaneLayout(model, 'ref', await referenceOf());
    let alarms = 0;
    for (let s = 0; s < 12; s++) {
      const e = evaluate(windowOf(layout, regionEvents(100 + s, 2000)));
      if (segmentConditions(e, model).some((c) => c.severity !== 'NONE')) alarms++;
      expect(e.segments!.results[0].level).toBeCloseTo((model.falseAlarmBudget * 0.5) / e.segments!.results.length, 12);
    }
    expect(alarms).toBe(0);
  });

  it('bounds segment state at K + 1 panes per attribute with 1,000 distinct values, and merges and restores it', async () => {
    const ref = await referenceOf();
    const layout = createPaneLayout(model, 'ref', ref);
    const events = regionEvents(5, 6000);
    expect(new Set(events.map((x) => x.attributes.region)).size).toBeGreaterThan(900);
    const pane = windowOf(layout, events);
    const a = pane.segments!.attributes[0];
    expect(a.values.size).toBe(10);
    expect(a.other!.count).toBeGreaterThan(0);
    // The documented bound: a segmented pane is at most 1 + (K + 1) panes of the same traffic.
    const plain = new Pane(createPaneLayout(plainModel, 'ref', ref), 0, 60_000);
    for (const x of events) plain.accept(x.features, x.score, x.prediction, x.modelVersion);
    expect(JSON.stringify(pane.toJSON()).length).toBeLessThan(12 * JSON.stringify(plain.toJSON()).length);
    const half = windowOf(layout, events.slice(0, 3000));
    const restored = Pane.fromJSON(JSON.parse(JSON.stringify(windowOf(layout, events.slice(3000)).toJSON())), layout);
    const merged = Pane.empty(layout, 0, 60_000).merge(half).merge(restored);
    const m = merged.segments!.attributes[0];
    expect(m.values.get('big')!.count).toBe(a.values.get('big')!.count);
    expect(m.other!.count).toBe(a.other!.count);
  });

  describe('categorical features', () => {
    // Region big holds c0 = a in 80% of its rows in the reference, every other region in 50%.
    let skewed: ReferenceProfile;
    let refEvents: RegionEvent[];
    async function skewedLayout(): Promise<PaneLayout> {
      refEvents ??= regionEvents(21, 20_000, 0, 0.8);
      skewed ??= (await buildReferenceFromSamples(model, (async function* () {
        yield refEvents as unknown as Record<string, unknown>[];
      })(), { createdAt: 0, id: 'skewed' })).profile;
      return createPaneLayout(model, 'skewed', skewed);
    }
    /** Total variation distance between the c0 shares of two sets of events, counted directly. */
    function totalVariation(x: RegionEvent[], y: RegionEvent[]): number {
      const share = (e: RegionEvent[]) => e.filter((v) => v.features.c0 === 'a').length / e.length;
      return Math.abs(share(x) - share(y));
    }
    const c0Of = (e: ReturnType<typeof evaluate>) => e.segments!.attribution.find((a) => a.feature === 'c0')!;

    it('attributes a category share change inside one segment to that segment, within', async () => {
      const layout = await skewedLayout();
      // Region big (10% of the traffic) now holds c0 = a in 20% of its rows: the overall share of a falls by 0.1 x 0.6 = 0.06.
      const events = regionEvents(22, 10_000, 0, 0.2);
      const c0 = c0Of(evaluate(windowOf(layout, events)));
      expect(c0.measure).toBe('totalVariation');
      expect(c0.change).toBeCloseTo(totalVariation(events, refEvents), 9);
      expect(c0.mix + c0.within).toBeCloseTo(c0.change, 12);
      expect(Math.abs(c0.change - 0.06)).toBeLessThan(0.015);
      expect(c0.within).toBeGreaterThan(0.045);
      expect(Math.abs(c0.mix)).toBeLessThan(0.01);
      expect(c0.segments[0].value).toBe('big');
      expect(c0.segments[0].within).toBeGreaterThan(0.045);
      const a = c0.categories!.find((c) => c.category === 'a')!;
      expect(a.change).toBeLessThan(-0.045);
      expect(a.change + c0.categories!.find((c) => c.category === 'b')!.change).toBeCloseTo(0, 12);
    });

    it('attributes a move of traffic towards a segment with other category shares to the mix', async () => {
      const layout = await skewedLayout();
      // A quarter of the traffic from region big instead of a tenth: the share of a rises by 0.15 x 0.3 = 0.045, no segment changed.
      const events = [...regionEvents(23, 4000, 0, 0.8), ...regionEvents(24, 8000, 0, 0.8).filter((x) => x.attributes.region === 'big')];
      const c0 = c0Of(evaluate(windowOf(layout, events)));
      expect(c0.change).toBeCloseTo(totalVariation(events, refEvents), 9);
      expect(Math.abs(c0.change - 0.045)).toBeLessThan(0.015);
      expect(c0.mix).toBeGreaterThan(0.03);
      expect(c0.mix).toBeGreaterThan(2 * Math.abs(c0.within));
      expect(c0.segments[0].value).toBe('big');
      expect(c0.segments[0].mix).toBeGreaterThan(0.02);
    });

    it('splits each segment\'s contribution so that all of them add up to the change', () => {
      const r = attributeCategorical([
        { value: 's', current: new Map([['a', 30], ['b', 10]]), reference: { a: 50, b: 50 } },
        { value: 't', current: new Map([['a', 20], ['c', 40]]), reference: { a: 20, b: 60, c: 20 } },
      ])!;
      // Reference shares a 0.35, b 0.55, c 0.1; window a 0.5, b 0.1, c 0.4: total variation 0.45.
      expect(r.change).toBeCloseTo(0.45, 12);
      expect(r.segments.reduce((sum, s) => sum + s.contribution, 0)).toBeCloseTo(0.45, 12);
      expect(r.mix + r.within).toBeCloseTo(0.45, 12);
      expect(r.categories!.map((c) => c.category)).toEqual(['b', 'c', 'a']);
    });
  });
});

