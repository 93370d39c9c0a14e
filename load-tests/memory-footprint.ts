/**
 * What the detector's in-memory state costs per item, measured on the V8
 * heap (run with --expose-gc; `npm run load` does it in a child process):
 *
 * - a pane as an object (open panes, and the evaluator's merged panes and
 *   slide-long blocks) and as the JSON text of a partial (what the in-memory
 *   pane coordinator keeps for its payload retention);
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
import { Pane } from '../src/core/windows/pane.js';
import { createPaneLayout } from '../src/core/windows/pane-layout.js';
import { paneSizesOf, performanceSpecOf } from '../src/stream/label-records.js';
import { cleanProfile } from './scenario.js';
import { TrafficGenerator, featureTypes } from './traffic.js';

export interface Footprint {
  /** Events per model per 1-minute pane the pane sizes were measured with. */
  eventsPerPane: number;
  /** Heap bytes of one pane object (summaries with their digests and buffers). */
  paneObjectBytes: number;
  /** Heap bytes of one pane partial as JSON text. */
  paneJsonBytes: number;
  /** Heap bytes per inference waiting in the in-memory label join. */
  labelJoinBytesPerEvent: number;
  /** Heap bytes per evaluation in the in-memory result repository. */
  evaluationBytes: number;
}

function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Measures the per-item footprints (a few seconds of CPU). */
export async function measureFootprint(eventsPerPane = 250): Promise<Footprint> {
  const keep: unknown[] = [];
  const model = parseModelConfig({ modelId: 'footprint', features: featureTypes(), prediction: 'score', positiveClass: '1' });
  const profile = await cleanProfile(model, 20_000);
  const layout = createPaneLayout(model, profile.id, profile);
  const gen = new TrafficGenerator(7, 'footprint');

  // Panes as objects, then the same panes as JSON text.
  const paneObjects: Pane[] = [];
  const paneCount = 100;
  let before = heapUsed();
  for (let p = 0; p < paneCount; p++) {
    const pane = new Pane(layout, p * 60_000, (p + 1) * 60_000);
    for (let i = 0; i < eventsPerPane; i++) {
      const e = gen.event('footprint', p * 60_000 + i, false);
      pane.accept(e.features, e.score, e.prediction, e.modelVersion);
    }
    paneObjects.push(pane);
  }
  const paneObjectBytes = (heapUsed() - before) / paneCount;
  const panes: string[] = [];
  before = heapUsed();
  for (const pane of paneObjects) panes.push(JSON.stringify(pane.toJSON()));
  const paneJsonBytes = (heapUsed() - before) / paneCount;

  // Label join: every valid inference is recorded and kept for the horizon (7 days by default).
  const join = new MemoryLabelJoin({});
  const spec = performanceSpecOf(model);
  const sizes = paneSizesOf(model.windows);
  const records = 50_000;
  before = heapUsed();
  for (let done = 0; done < records; done += 1000) {
    const batch = [];
    for (let i = 0; i < 1000; i++) batch.push(toInferenceRecord(gen.event('footprint', 1_700_000_000_000 + done + i, false), spec, sizes));
    await join.recordInferences(batch);
  }
  const labelJoinBytesPerEvent = (heapUsed() - before) / records;
  const stored = (await join.stats('footprint')).inferences;
  if (stored !== records) throw new Error(`the label join holds ${stored} of ${records} inferences`);

  // Result repository: every evaluation, cloned.
  // Room for every evaluation measured: the default keeps only the newest few per window.
  const repo = new MemoryResultRepository({ evaluationsPerWindow: 1_000 });
  const pane = new Pane(layout, 0, 60_000);
  for (let i = 0; i < 5000; i++) {
    const e = gen.event('footprint', i, false);
    pane.accept(e.features, e.score, e.prediction, e.modelVersion);
  }
  const evaluations = 500;
  before = heapUsed();
  for (let i = 0; i < evaluations; i++) {
    const ev = evaluateWindow({ model, pane, windowName: '1m', windowStart: i * 60_000, windowEnd: (i + 1) * 60_000, evaluatedAt: i });
    await repo.saveEvaluations([{ ...ev, evaluationId: `ev-${i}` }]);
  }
  const evaluationBytes = (heapUsed() - before) / evaluations;
  // Everything measured stays reachable until here, so no earlier structure is collected inside a later measurement.
  keep.push(panes, join, repo, paneObjects);
  if (keep.length !== 4) throw new Error('unreachable');
  return {
    eventsPerPane,
    paneObjectBytes: Math.round(paneObjectBytes),
    paneJsonBytes: Math.round(paneJsonBytes),     labelJoinBytesPerEvent: Math.round(labelJoinBytesPerEvent),
    evaluationBytes: Math.round(evaluationBytes),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  measureFootprint(Number(process.argv[2] ?? 250)).then(
    (f) => process.stdout.write(JSON.stringify(f) + '\n'),
    (err: Error) => {
      process.stderr.write(`memory-footprint: ${err.message}\n`);
      process.exitCode = 1;
    },
  );
}
