import { PerformanceCounters } from '../core/performance/counters.js';
import type { LabelJoin } from '../ports/label-join.js';

/** A window as the counters see it: its length and its slide. */
export interface WindowShape {
  sizeMs: number;
  /** Equal to sizeMs for a tumbling window. */
  slideMs: number;
}

/**
 * The merged counters of the window [windowStart, windowStart + size), kept
 * in panes of `paneMs` (a divisor of the window's slide).
 */
export function readWindowCounters(join: LabelJoin, modelId: string, shape: WindowShape, paneMs: number, windowStart: number): Promise<PerformanceCounters> {
  return join.readCounters(modelId, paneMs, windowStart, windowStart + shape.sizeMs);
}

/** Starts of the windows of `shape` (epoch aligned) that contain the pane [paneStart, paneStart + paneMs). */
export function windowsContainingPane(shape: WindowShape, paneStart: number): number[] {
  const out: number[] = [];
  const last = paneStart - (((paneStart % shape.slideMs) + shape.slideMs) % shape.slideMs);
  for (let s = last; s > paneStart - shape.sizeMs; s -= shape.slideMs) out.push(s);
  return out.reverse();
}
