// `npm run bench:detection:segments`: segments and attribution (docs/detector.md, "Segments and
// attribution"). Events over 1,000 distinct regions: `big` carries 10% of the traffic, five `mid`
// regions 10% each, 994 `tail` regions the remaining 40%; each region has its own f0 mean. The model
// keeps the top 10 regions of its 20,000-row reference apart and pools the rest.
//   - windows like the reference: any segment alarm (11 segments, half the budget split over them);
//   - f0 in region big shifted by 0.5 sd (0.05 sd over the whole window, under the global floor):
//     the segment's alarm, a global f0 alarm, and whether the attribution ranks big first;
//   - state: the size of a segmented pane against a plain one over the same traffic.
//
//   npx tsx bench/detection-segments.ts [--windows 300] [--n 5000] [--seed 1]
import { parseArgs } from 'node:util';
import { parseModelConfig } from '../src/core/model/model-config.js';
import { createPaneLayout, gatherFeatures, type PaneLayout } from '../src/core/windows/pane-layout.js';
import { Pane } from '../src/core/windows/pane.js';
import { evaluateWindow } from '../src/core/drift/evaluate-window.js';
import { segmentConditions } from '../src/core/drift/segment-conditions.js';
import { buildReferenceFromSamples } from '../src/stream/reference-from-samples.js';
import { regionEvents, type RegionEvent } from '../tests/unit/core/segments/support.js';

const { values: args } = parseArgs({ options: { windows: { type: 'string', default: '300' }, n: { type: 'string', default: '5000' }, seed: { type: 'string', default: '1' } } });
const WINDOWS = Number(args.windows);
const N = Number(args.n);
const SEED = Number(args.seed);
const features = { f0: 'numeric', f1: 'numeric', c0: 'categorical' } as const;
const model = parseModelConfig({ modelId: 'bench-seg', features, windows: [{ name: 'w', size: '1m' }], segments: { attributes: ['region'], topK: 10 } });
const plainModel = parseModelConfig({ modelId: 'bench-seg', features, windows: [{ name: 'w', size: '1m' }] });
const log = (s = ''): void => console.log(s);
const pct = (x: number, d = 2): string => `${(100 * x).toFixed(d)}%`;
const t0 = Date.now();

function windowOf(layout: PaneLayout, events: RegionEvent[]): Pane {
  const pane = new Pane(layout, 0, 60_000);
  for (const e of events) {
    gatherFeatures(layout, e.features);
    pane.acceptGathered(e.score, e.prediction, e.modelVersion);
    pane.segments?.acceptGathered(e.attributes, e.score, e.prediction, e.modelVersion);
  }
  return pane;
}

async function main(): Promise<void> {
  const { profile } = await buildReferenceFromSamples(model, (async function* () {
    yield regionEvents(SEED, 20_000) as unknown as Record<string, unknown>[];
  })(), { createdAt: 0, id: 'ref' });
  const layout = createPaneLayout(model, 'ref', profile);
  const evaluate = (events: RegionEvent[]) => evaluateWindow({ model, pane: windowOf(layout, events), windowName: 'w', windowStart: 0, windowEnd: 60_000, evaluatedAt: 0 });
  log('# driftstream segments benchmark');
  log(`reference 20,000 rows over 1,000 regions, top 10 kept; windows of ${N} events; budget ${model.falseAlarmBudget}; seed ${SEED}`);
  log(`command: npx tsx bench/detection-segments.ts ${process.argv.slice(2).join(' ')}`.trimEnd());
  let falseAlarms = 0;
  let globalFalse = 0;
  for (let w = 0; w < WINDOWS; w++) {
    const e = evaluate(regionEvents(SEED * 7919 + w, N));
    if (segmentConditions(e, model).some((c) => c.severity !== 'NONE')) falseAlarms++;
    if (Object.values(e.features).some((f) => f.drift)) globalFalse++;
  }
  console.error(`null done at ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const driftWindows = Math.min(WINDOWS, 100);
  let segmentFired = 0;
  let otherSegmentFired = 0;
  let globalFired = 0;
  let rankedFirst = 0;
  for (let w = 0; w < driftWindows; w++) {
    const e = evaluate(regionEvents(SEED * 104_729 + w, N, 0.5));
    const fired = segmentConditions(e, model).filter((c) => c.severity !== 'NONE');
    if (fired.some((c) => c.feature === 'f0 [region=big]')) segmentFired++;
    if (fired.some((c) => c.feature !== 'f0 [region=big]')) otherSegmentFired++;
    if (e.features.f0.drift) globalFired++;
    if (e.segments!.attribution.find((a) => a.feature === 'f0')!.segments[0].value === 'big') rankedFirst++;
  }
  const events = regionEvents(SEED + 5, N);
  const segmented = JSON.stringify(windowOf(layout, events).toJSON()).length;
  const plainPane = new Pane(createPaneLayout(plainModel, 'ref', profile), 0, 60_000);
  for (const e of events) plainPane.accept(e.features, e.score, e.prediction, e.modelVersion);
  const plain = JSON.stringify(plainPane.toJSON()).length;
  log('');
  log('| case | windows | result |');
  log('|---|---|---|');
  log(`| like the reference: any segment alarm | ${WINDOWS} | ${pct(falseAlarms / WINDOWS)} (${falseAlarms}) |`);
  log(`| like the reference: any global feature alarm | ${WINDOWS} | ${pct(globalFalse / WINDOWS)} (${globalFalse}) |`);
  log(`| big shifted: f0 [region=big] fires | ${driftWindows} | ${pct(segmentFired / driftWindows, 1)} (${segmentFired}) |`);
  log(`| big shifted: another segment fires | ${driftWindows} | ${pct(otherSegmentFired / driftWindows, 1)} (${otherSegmentFired}) |`);
  log(`| big shifted: global f0 fires | ${driftWindows} | ${pct(globalFired / driftWindows, 1)} (${globalFired}) |`);
  log(`| big shifted: attribution ranks big first for f0 | ${driftWindows} | ${pct(rankedFirst / driftWindows, 1)} (${rankedFirst}) |`);
  log('');
  log(`State at 1,000 distinct regions (${new Set(events.map((e) => e.attributes.region)).size} in the window): segmented pane ${segmented.toLocaleString('en')} bytes of JSON, plain pane ${plain.toLocaleString('en')} (x${(segmented / plain).toFixed(1)}; the bound is 1 + (K + 1) = 12 panes per attribute).`);
  log('');
  log(`elapsed ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

void main();
