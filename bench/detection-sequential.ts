// Sequential part of `npm run bench:detection`: tumbling windows of 200 events judged by
// judgeFeatures in sequential mode (the detector's own code path), a persistent drift at 1.5x the
// WARNING floor on one feature per trial, and a long run of no-drift windows for false alarms.
import { mulberry32 } from '../src/core/random.js';
import { CategoricalSummary } from '../src/core/stats/categorical-summary.js';
import { createSummary } from '../src/core/profile/reference-profile.js';
import { BLIND_WINDOW_BUDGET_SHARE, judgeFeatures, WINDOW_BUDGET_SHARE, type JudgeItem } from '../src/core/drift/judge.js';
import { DEFAULT_FLOORS } from '../src/core/drift/floors.js';
import type { SequentialState } from '../src/core/drift/sequential.js';
import { CATEGORICAL, NUMERIC, categoryValue, numericValue, type Scenario, type World } from './detection-world.js';

/** One drifted feature and the drift it gets in a trial. */
interface Target {
  index: number;
  name: string;
  group: string;
  numeric?: Scenario['numeric'];
  categorical?: Scenario['categorical'];
}

function windowItems(world: World, u: () => number, n: number, target: Target | Scenario | undefined): Record<string, JudgeItem> {
  const items: Record<string, JudgeItem> = {};
  const hits = (index: number): boolean => target !== undefined && (!('index' in target) || target.index === index);
  NUMERIC.forEach((f, i) => {
    const s = createSummary(world.numericProfiles[i]);
    const drift = hits(i) ? target?.numeric : undefined;
    for (let k = 0; k < n; k++) s.accept(numericValue(world, u, i, drift));
    items[f.name] = { reference: world.numericProfiles[i], current: s, floors: DEFAULT_FLOORS.numeric, minSamples: 1 };
  });
  CATEGORICAL.forEach((f, j) => {
    const s = new CategoricalSummary();
    const drift = hits(NUMERIC.length + j) ? target?.categorical : undefined;
    for (let k = 0; k < n; k++) s.accept(categoryValue(u, j, drift));
    items[f.name] = { reference: world.categoricalProfiles[j], current: s, floors: DEFAULT_FLOORS.categorical, minSamples: 1 };
  });
  return items;
}

/** Result of one drift kind over its trials. */
export interface SequentialRow {
  kind: string;
  group: string;
  trials: number;
  fired: number;
  medianDelay: number | null;
}

function targetsOf(rel: number): Target[] {
  const out: Target[] = [];
  NUMERIC.forEach((f, i) => {
    out.push({ index: i, name: f.name, group: `location, ${f.shape}`, numeric: { kind: 'location', effect: rel * DEFAULT_FLOORS.numeric.warning } });
    out.push({ index: i, name: f.name, group: `scale, ${f.shape}`, numeric: { kind: 'scale', effect: rel * DEFAULT_FLOORS.numeric.warning } });
  });
  CATEGORICAL.forEach((f, j) => out.push({ index: NUMERIC.length + j, name: f.name, group: 'category mass', categorical: { kind: 'mass', effect: rel * DEFAULT_FLOORS.categorical.warning } }));
  return out;
}

/**
 * Persistent drift at 1.5x the floor: windows until the drifted feature's verdict is drift (via the
 * derived window or a single window). With `warmup` > 0 each trial first runs that many no-drift
 * windows (the drift starts after a clean history, so the derived window must fill with it first);
 * verdicts of the warm-up windows are not looked at.
 */
export function sequentialDetection(world: World, seed: number, trials: number, n: number, maxWindows: number, budget: number, warmup = 0): SequentialRow[] {
  const targets = targetsOf(1.5);
  const rows = new Map<string, { fired: number; trials: number; delays: number[] }>();
  for (let t = 0; t < trials; t++) {
    const target = targets[t % targets.length];
    const u = mulberry32(seed * 31 + t);
    const sequential: Record<string, SequentialState> = {};
    for (let w = 0; w < warmup; w++) judgeFeatures(windowItems(world, u, n, undefined), { budget, sequential });
    let delay = 0;
    for (let w = 1; w <= maxWindows && delay === 0; w++) {
      const r = judgeFeatures(windowItems(world, u, n, target), { budget, sequential });
      if (r[target.name].drift) delay = w;
    }
    const row = rows.get(target.group) ?? { fired: 0, trials: 0, delays: [] };
    row.trials++;
    if (delay > 0) {
      row.fired++;
      row.delays.push(delay);
    }
    rows.set(target.group, row);
  }
  return [...rows.entries()].map(([group, r]) => ({
    kind: group.split(',')[0],
    group,
    trials: r.trials,
    fired: r.fired,
    medianDelay: r.delays.length ? r.delays.sort((a, b) => a - b)[r.delays.length >> 1] : null,
  }));
}

/**
 * Persistent drift at `rel` times the floor on one feature per trial (below the floor: it should not
 * be flagged): the share of the drifted feature's windows, over `windows` consecutive ones from an
 * empty state, whose verdict is drift.
 */
export function sequentialFlagged(world: World, seed: number, trials: number, n: number, windows: number, budget: number, rel: number): { windows: number; flagged: number } {
  const targets = targetsOf(rel);
  let flagged = 0;
  let total = 0;
  for (let t = 0; t < trials; t++) {
    const target = targets[t % targets.length];
    const u = mulberry32(seed * 71 + t);
    const sequential: Record<string, SequentialState> = {};
    for (let w = 1; w <= windows; w++) {
      const r = judgeFeatures(windowItems(world, u, n, target), { budget, sequential });
      total++;
      if (r[target.name].drift) flagged++;
    }
  }
  return { windows: total, flagged };
}

/** Every feature drifts at once (a drift table scenario): windows until any feature of the model is in drift. */
export function sequentialModelDetection(world: World, seed: number, trials: number, n: number, maxWindows: number, budget: number, scenario: Scenario): SequentialRow {
  const delays: number[] = [];
  for (let t = 0; t < trials; t++) {
    const u = mulberry32(seed * 53 + t);
    const sequential: Record<string, SequentialState> = {};
    for (let w = 1; w <= maxWindows; w++) {
      const r = judgeFeatures(windowItems(world, u, n, scenario), { budget, sequential });
      if (Object.values(r).some((f) => f.drift)) {
        delays.push(w);
        break;
      }
    }
  }
  return { kind: 'model', group: scenario.name, trials, fired: delays.length, medianDelay: delays.length ? delays.sort((a, b) => a - b)[delays.length >> 1] : null };
}

/** No drift: evaluations with any drift verdict over consecutive windows in sequential mode (the state carries on after an alarm). */
export function sequentialNull(world: World, seed: number, windows: number, n: number, budget: number): { windows: number; alarms: number; sequentialAlarms: number; episodes: number; features: string[] } {
  const u = mulberry32(seed * 977);
  const sequential: Record<string, SequentialState> = {};
  let alarms = 0;
  let sequentialAlarms = 0;
  let episodes = 0;
  let before = false;
  const features = new Set<string>();
  for (let w = 0; w < windows; w++) {
    const r = judgeFeatures(windowItems(world, u, n, undefined), { budget, sequential });
    const drifted = Object.values(r).filter((f) => f.drift);
    if (drifted.length > 0) alarms++;
    if (drifted.some((f) => f.verdict?.test === 'derivedWindow')) sequentialAlarms++;
    if (drifted.length > 0 && !before) episodes++;
    before = drifted.length > 0;
    for (const [name, f] of Object.entries(r)) if (f.drift) features.add(`${name} (${f.verdict?.test})`);
  }
  return { windows, alarms, sequentialAlarms, episodes, features: [...features] };
}

export { BLIND_WINDOW_BUDGET_SHARE, WINDOW_BUDGET_SHARE };
