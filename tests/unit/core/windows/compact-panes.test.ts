// Compact panes against the version-1 representation: golden/panes-v1.json holds partials in the
// version-1 checkpoint format and the statistics that representation computed from the same events.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluateWindow } from '../../../../src/core/drift/evaluate-window.js';
import { Pane, type PaneJSON } from '../../../../src/core/windows/pane.js';
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
      expect(asJson(loaded.toJSON())).toEqual(asJson(built.toJSON()));
    });
  });

  it('compute the same digests and the same evaluation as the version-1 representation from the same events', () => {
    const merged = mergedOf(GOLDEN_PARTIALS.map((spec) => goldenPane(layout, spec)));
    expect(asJson(merged.numeric.map((s) => s.digest.toJSON()))).toEqual(golden.merged.num.map((n) => n.d));
    expect(contents(merged)).toEqual(contents(Pane.fromJSON(golden.merged, layout)));
    const evaluation = evaluateWindow({ model, pane: merged, windowName: '30s', windowStart: 0, windowEnd: 30_000, evaluatedAt: 1 });
    expect(asJson(evaluation)).toEqual(golden.evaluation);
  });

  it('merge version-1 partials with current ones into the same window', () => {
    const mixed = mergedOf(golden.partials.map((json, i) => (i % 2 === 0 ? Pane.fromJSON(json, layout) : Pane.fromJSON(goldenPane(layout, GOLDEN_PARTIALS[i]).toJSON(), layout))));
    expect(contents(mixed)).toEqual(contents(Pane.fromJSON(golden.merged, layout)));
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
});
