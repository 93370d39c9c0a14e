import type { WindowConfig } from '../model/model-config.js';

/** One instance of a window: `[start, end)` in event time. */
export interface WindowInstance {
  readonly window: WindowConfig;
  readonly start: number;
  readonly end: number;
}

/**
 * Start of the pane of length `paneMs` holding event time `ts`. Panes align to
 * the epoch (a 1-minute pane starts on the minute), as in Kafka Streams and Flink.
 */
export function paneStartOf(ts: number, paneMs: number): number {
  const r = ts % paneMs;
  return r < 0 ? ts - r - paneMs : ts - r;
}

/**
 * The windows that end where a pane ends: a window of slide S ends at every
 * multiple of S. A tumbling window (size = slide) is one pane long when its
 * slide is the pane length; a sliding window is the last size/pane panes.
 */
export function windowsEndingAt(windows: readonly WindowConfig[], paneEnd: number): WindowInstance[] {
  const out: WindowInstance[] = [];
  for (const window of windows) {
    if (paneEnd % window.slideMs === 0) out.push({ window, start: paneEnd - window.sizeMs, end: paneEnd });
  }
  return out;
}

/** Longest window of a model: how far back a pane is still needed after it closes. */
export function longestWindow(windows: readonly WindowConfig[]): number {
  let max = 0;
  for (const w of windows) if (w.sizeMs > max) max = w.sizeMs;
  return max;
}

/**
 * The panes every window of a model is built from: the greatest common
 * divisor of the windows' slides, so each event updates exactly one pane and
 * every window is a whole number of panes.
 */
export function paneLengthOf(windows: readonly WindowConfig[]): number {
  let g = 0;
  for (const w of windows) g = gcd(g, w.slideMs);
  return g;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
