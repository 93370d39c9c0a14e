// Compact panes against the version-1 representation: golden/panes-v1.json holds partials in the
// version-1 checkpoint format and the statistics that representation computed from the same events.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluateWindow } from '../../../../src/core/drift/evaluate-window.js';
import { trimReferenceDigests } from '../../../../src/core/profile/reference-profile.js';
import { Pane, type PaneJSON } from '../../../../src/core/windows/pane.js';
import { PartitionWindows, type PartitionWindowsJSON } from '../../../../src/core/windows/partition-windows.js';
import { GOLDEN_PARTIALS, goldenPane } from './golden/golden-panes.js';
import { testLayout, testModel } from './fixtures.js';

interface Golden {
  partials: PaneJSON[];
  merged: PaneJSON & { num: { d: unknown }[] };
  evaluation: unknown;
}

const golden = JSON.parse(readFileSync(new URL('./golden/panes-v1.json', import.meta.url), 'utf8')) as Golden;
const model = testModel();
const layout = testLayout(model);

/** As JSON text reads it back: -0 is 0, as in a stored checkpoint. */
function asJson(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v));
}

/** What a pane holds, in one comparable form whatever its representation. */
function contents(p: Pane): unknown {
  return asJson(holds(p));
}

function holds(p: Pane) {
  return {
    count: p.count,
    typeErrors: p.typeErrors,
    modelVersion: p.modelVersion,
    sources: [...p.sources].sort(),
    outOfRange: Array.from(p.outOfRange),
    numeric: [...p.numeric, ...(p.score ? [p.score] : [])].map((s) => ({
      edges: Array.from(s.edges),
      counts: Array.from(s.counts),
      count: s.count,
      missing: s.missing,
      min: s.min,
      max: s.max,
      mean: s.mean,
      m2: s.m2,
      digest: s.digest.toJSON(),
    })),
    categorical: [...p.categorical, ...(p.predictionClass ? [p.predictionClass] : [])].map((c) => ({ missing: c.missing, counts: [...c.counts()] })),
  };
}

/** The statistics of an evaluation's features, without what the verdict rule decides from them. */
function statisticsOf(evaluation: unknown): unknown {
  const features = (evaluation as { features: Record<string, Record<string, unknown>> }).features;
  const keep = ['type', 'nReference', 'nCurrent', 'missing', 'missingRate', 'psi', 'ks', 'wassersteinNormed', 'jensenShannon', 'hellinger', 'chiSquare', 'histogram'];
  return Object.fromEntries(Object.entries(features).map(([name, f]) => [name, Object.fromEntries(keep.filter((k) => k in f).map((k) => [k, f[k]]))]));
}

function mergedOf(panes: readonly Pane[]): Pane {
  const out = Pane.empty(layout, 0, 30_000);
  for (const p of panes) out.merge(p);
  return out;
}

describe('compact panes', () => {
  it('load partials written in the version-1 checkpoint format, holding what they held', () => {
    golden.partials.forEach((json, i) => {
      const loaded = Pane.fromJSON(json, layout);
      const built = goldenPane(layout, GOLDEN_PARTIALS[i]);
      expect(contents(loaded)).toEqual(contents(built));
    });
  });

  it('compute the same digests and the same evaluation as the version-1 representation from the same events', () => {
    const merged = mergedOf(GOLDEN_PARTIALS.map((spec) => goldenPane(layout, spec)));
    expect(asJson(merged.numeric.map((s) => s.digest.toJSON()))).toEqual(golden.merged.num.map((n) => n.d));
    expect(contents(merged)).toEqual(contents(Pane.fromJSON(golden.merged, layout)));
    const evaluate = (pane: Pane) => evaluateWindow({ model, pane, windowName: '30s', windowStart: 0, windowEnd: 30_000, evaluatedAt: 1 });
    const evaluation = evaluate(merged);
    // The statistics are the ones version 1 computed; the verdicts follow today's rule, the same from either representation.
    expect(statisticsOf(asJson(evaluation))).toEqual(statisticsOf(golden.evaluation));
    expect(asJson(evaluation)).toEqual(asJson(evaluate(Pane.fromJSON(golden.merged, layout))));
    // Between evaluations the reference digests drop their cached knots; the next evaluation is the same.
    trimReferenceDigests([...layout.numericProfiles, layout.score, layout.prediction]);
    expect(asJson(evaluate(merged))).toEqual(asJson(evaluation));
  });

  it('merge version-1 partials with current ones into the same window', () => {
    const mixed = mergedOf(golden.partials.map((json, i) => (i % 2 === 0 ? Pane.fromJSON(json, layout) : Pane.fromJSON(goldenPane(layout, GOLDEN_PARTIALS[i]).toJSON(), layout))));
    expect(contents(mixed)).toEqual(contents(Pane.fromJSON(golden.merged, layout)));
  });

  it('write under two thirds of the text of version 1, with edges from the layout and exact means', () => {
    golden.partials.forEach((v1, i) => {
      const v2 = goldenPane(layout, GOLDEN_PARTIALS[i]).toJSON();
      expect(v2.v).toBe(2);
      expect(v2.num.every((n) => !('e' in n) && typeof n.d.m === 'string')).toBe(true);
      if (v1.n >= 200) expect(JSON.stringify(v2).length).toBeLessThan(0.65 * JSON.stringify(v1).length);
      // -0 survives as text in version 2 (version 1 wrote it as 0).
      const back = Pane.fromJSON(JSON.parse(JSON.stringify(v2)) as PaneJSON, layout);
      expect(back.numeric.map((s) => s.digest.centroids().means)).toEqual(goldenPane(layout, GOLDEN_PARTIALS[i]).numeric.map((s) => s.digest.centroids().means));
      expect(back.numeric[0].edges).toBe(layout.numericProfiles.length > 0 ? Pane.empty(layout, 0, 1).numeric[0].edges : undefined);
    });
  });

  it('round-trip through their serialized form, as text, unchanged', () => {
    for (const spec of GOLDEN_PARTIALS) {
      const pane = goldenPane(layout, spec);
      const text = JSON.stringify(pane.toJSON());
      const back = Pane.fromJSON(JSON.parse(text) as PaneJSON, layout);
      expect(contents(back)).toEqual(contents(pane));
      expect(JSON.stringify(back.toJSON())).toBe(text);
    }
  });

  it('restore a partition checkpoint holding version-1 panes, and write it back in version 2', () => {
    const open = golden.partials.filter((p) => p.src[0] === 't/0');
    const checkpoint: PartitionWindowsJSON = { v: 1, clock: 15_000, models: { m1: { paneMs: 10_000, latenessMs: 2_000, closedUpTo: 0, late: 3, open } } };
    const { windows, dropped } = PartitionWindows.fromJSON(JSON.parse(JSON.stringify(checkpoint)) as PartitionWindowsJSON, () => layout, 0);
    expect(dropped).toEqual([]);
    expect(windows.openPanesOf('m1').map(contents)).toEqual(open.map((p) => contents(Pane.fromJSON(p, layout))));
    const rewritten = windows.toJSON();
    expect(rewritten.models.m1.open.map((p) => p.v)).toEqual([2, 2]);
    const again = PartitionWindows.fromJSON(JSON.parse(JSON.stringify(rewritten)) as PartitionWindowsJSON, () => layout, 0).windows;
    expect(again.openPanesOf('m1').map(contents)).toEqual(open.map((p) => contents(Pane.fromJSON(p, layout))));
    expect(again.lateCount('m1')).toBe(3);
  });
});
