/**
 * What the detector's in-memory state costs per item, measured as V8 heap
 * plus off-heap bytes (typed arrays, buffers) after a full collection (run
 * with --expose-gc; `npm run load` does it in a child process):
 *
 * - a pane: open (taking events), closed (an object, until evaluated),
 *   kept (packed, as the window cache keeps it after its evaluation), a
 *   slide-long block of five panes as kept, and per summary (bytes per
 *   feature and pane); a partial as JSON text (what checkpoints and the
 *   in-memory pane coordinator keep);
 * - an inference waiting in the in-memory label join (one per event, kept
 *   for the label horizon);
 * - an evaluation kept by the in-memory result repository.
 *
 * With these, the steady-state memory of N models x 25 features x 2 windows
 * can be projected for any retention, which a short run cannot reach.
 */
import { pathToFileURL } from 'node:url';
import { MemoryLabelJoin } from '../src/adapters/memory/memory-label-join.js';
import { MemoryResultRepository } from '../src/adapters/memory/memory-result-repository.js';
import { evaluateWindow } from '../src/core/drift/evaluate-window.js';
import { parseModelConfig } from '../src/core/model/model-config.js';
import { toInferenceRecord } from '../src/core/performance/records.js';
import { KeptPane } from '../src/core/windows/kept-pane.js';
import { Pane, type PaneJSON } from '../src/core/windows/pane.js';
import { createPaneLayout } from '../src/core/windows/pane-layout.js';
import { paneSizesOf, performanceSpecOf } from '../src/stream/label-records.js';
import { cleanProfile } from './scenario.js';
import { TrafficGenerator, featureTypes } from './traffic.js';

export interface Footprint {
  /** Events per model per 1-minute pane the pane sizes were measured with. */
  eventsPerPane: number;
  /** Summaries in a pane: one per feature and per model output (score, prediction). */
  summariesPerPane: number;
  /** Bytes of a pane still taking events (open, in a partition's windows). */
  openPaneBytes: number;
  /** Bytes of a closed pane as an object (trimmed), as the evaluator holds it until evaluated. */
  paneObjectBytes: number;
  /** Bytes of an evaluated pane as the window cache keeps it (packed). */
  keptPaneBytes: number;
  /** Bytes of a 5-minute slide block (five panes merged) as the window cache keeps it (packed). */
  blockBytes: number;
  /** Per summary: bytes per (feature, pane) taking events, per (feature, pane) kept, per (feature, block) kept. */
  bytesPerFeatureOpenPane: number;
  bytesPerFeatureKeptPane: number;
  bytesPerFeatureBlock: number;
  /** Bytes of one pane partial as JSON text (checkpoints, the coordinator's payloads). */
  paneJsonBytes: number;
  /** Bytes per inference waiting in the in-memory label join. */
  labelJoinBytesPerEvent: number;
  /** Bytes per evaluation in the in-memory result repository. */
  evaluationBytes: number;
}

/** Heap and off-heap bytes in use after a full collection (typed arrays and buffers live off the heap). */
function used(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** Bytes per item of what `make` builds `count` times, all kept alive until measured. */
function perItem<T>(count: number, make: (i: number) => T, keep: unknown[]): number {
  const items: T[] = [];
  const before = used();
  for (let i = 0; i < count; i++) items.push(make(i));
  const bytes = (used() - before) / count;
  keep.push(items);
  return bytes;
}

/** Measures the per-item footprints (a few seconds of CPU). */
export async function measureFootprint(eventsPerPane = 200): Promise<Footprint> {
  const keep: unknown[] = [];
  const model = parseModelConfig({ modelId: 'footprint', features: featureTypes(), prediction: 'score', positiveClass: '1' });
  const profile = await cleanProfile(model, 20_000);
  const layout = createPaneLayout(model, profile.id, profile);
  const gen = new TrafficGenerator(7, 'footprint');
  const summariesPerPane = layout.numericNames.length + layout.categoricalNames.length + (layout.score ? 1 : 0) + (layout.prediction ? 1 : 0);
  const filled = (p: number): Pane => {
    const pane = new Pane(layout, p * 60_000, (p + 1) * 60_000);
    for (let i = 0; i < eventsPerPane; i++) {
      const e = gen.event('footprint', p * 60_000 + i, false);
      pane.accept(e.features, e.score, e.prediction, e.modelVersion);
    }
    return pane;
  };
  const panes = 100;
  const openPaneBytes = perItem(panes, filled, keep);
  const paneObjectBytes = perItem(panes, (p) => filled(p).trim(), keep);
  const packed = (pane: Pane): KeptPane => {
    const kept = new KeptPane(pane);
    kept.pack();
    return kept;
  };
  const keptPaneBytes = perItem(panes, (p) => packed(filled(p)), keep);
  const texts = Array.from({ length: panes }, (_, p) => JSON.stringify(filled(p).toJSON()));
  const paneJsonBytes = perItem(panes, (p) => JSON.stringify(filled(p).toJSON()), keep);
  // A slide block as the window cache builds it: the partials of five panes merged into one pane, packed.
  const blockBytes = perItem(40, (b) => {
    const block = Pane.empty(layout, 0, 300_000);
    for (let k = 0; k < 5; k++) block.merge(Pane.fromJSON(JSON.parse(texts[(5 * b + k) % panes]) as PaneJSON, layout)).trim();
    return packed(block);
  }, keep);

  // Label join: every valid inference is recorded and kept for the horizon (7 days by default).
  const join = new MemoryLabelJoin({});
  const spec = performanceSpecOf(model);
  const sizes = paneSizesOf(model.windows);
  const records = 50_000;
  let before = used();
  for (let done = 0; done < records; done += 1000) {
    const batch = [];
    for (let i = 0; i < 1000; i++) batch.push(toInferenceRecord(gen.event('footprint', 1_700_000_000_000 + done + i, false), spec, sizes));
    await join.recordInferences(batch);
  }
  const labelJoinBytesPerEvent = (used() - before) / records;
  const stored = (await join.stats('footprint')).inferences;
  if (stored !== records) throw new Error(`the label join holds ${stored} of ${records} inferences`);

  // Result repository, with room for every evaluation measured (the default keeps only the newest few per window).
  const repo = new MemoryResultRepository({ evaluationsPerWindow: 1_000 });
  const pane = new Pane(layout, 0, 60_000);
  for (let i = 0; i < 5000; i++) {
    const e = gen.event('footprint', i, false);
    pane.accept(e.features, e.score, e.prediction, e.modelVersion);
  }
  const evaluations = 500;
  before = used();
  for (let i = 0; i < evaluations; i++) {
    const ev = evaluateWindow({ model, pane, windowName: '1m', windowStart: i * 60_000, windowEnd: (i + 1) * 60_000, evaluatedAt: i });
    await repo.saveEvaluations([{ ...ev, evaluationId: `ev-${i}` }]);
  }
  const evaluationBytes = (used() - before) / evaluations;
  // Everything measured stays reachable until here, so no earlier structure is collected inside a later measurement.
  keep.push(texts, join, repo);
  if (keep.length !== 8) throw new Error('unreachable');
  const r = Math.round;
  return {
    eventsPerPane,
    summariesPerPane,
    openPaneBytes: r(openPaneBytes),
    paneObjectBytes: r(paneObjectBytes),
    keptPaneBytes: r(keptPaneBytes),
    blockBytes: r(blockBytes),
    bytesPerFeatureOpenPane: r(openPaneBytes / summariesPerPane),
    bytesPerFeatureKeptPane: r(keptPaneBytes / summariesPerPane),
    bytesPerFeatureBlock: r(blockBytes / summariesPerPane),
    paneJsonBytes: r(paneJsonBytes),
    labelJoinBytesPerEvent: r(labelJoinBytesPerEvent),
    evaluationBytes: r(evaluationBytes),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  measureFootprint(Number(process.argv[2] ?? 200)).then(
    (f) => process.stdout.write(JSON.stringify(f) + '\n'),
    (err: Error) => {
      process.stderr.write(`memory-footprint: ${err.message}\n`);
      process.exitCode = 1;
    },
  );
}
