import { Pane } from '../../../../../src/core/windows/pane.js';
import type { PaneLayout } from '../../../../../src/core/windows/pane-layout.js';
import { rng, row } from '../fixtures.js';

/** One partial of the golden fixture: its pane, source, events and seed. */
export interface GoldenPartial {
  start: number;
  source: string;
  events: number;
  seed: number;
  /** Rounds x to a quarter (many ties) and leaves y missing in every third event. */
  ties?: boolean;
}

/** Few events (raw values), hundreds (past the exact limit), ties and missing values, over three partitions. */
export const GOLDEN_PARTIALS: readonly GoldenPartial[] = [
  { start: 0, source: 't/0', events: 7, seed: 1 },
  { start: 0, source: 't/1', events: 250, seed: 2 },
  { start: 10_000, source: 't/0', events: 900, seed: 3 },
  { start: 10_000, source: 't/2', events: 400, seed: 4, ties: true },
  { start: 20_000, source: 't/1', events: 60, seed: 5, ties: true },
  { start: 20_000, source: 't/2', events: 3000, seed: 6 },
];

/** The pane of one golden partial, built event by event. */
export function goldenPane(layout: PaneLayout, spec: GoldenPartial): Pane {
  const r = rng(spec.seed);
  const p = new Pane(layout, spec.start, spec.start + 10_000);
  for (let i = 0; i < spec.events; i++) {
    const e = row(r);
    if (spec.ties) {
      e.features.x = Math.round((e.features.x as number) * 4) / 4;
      if (i % 3 === 0) e.features.y = null;
    }
    p.accept(e.features, e.score, e.prediction, 'v1');
  }
  p.sources.add(spec.source);
  return p;
}
