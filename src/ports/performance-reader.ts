import type { PerformanceResult } from '../core/drift/types.js';

/** Latest performance of a window, written when labels join (possibly after the window was evaluated). */
export interface WindowPerformance {
  windowStart: number;
  windowEnd: number;
  performance: PerformanceResult;
  /** Label-free proxy metrics of the same window (positive rate, score mean, ...). */
  proxy?: Record<string, number | null>;
}

/** Optional source of performance joined after evaluation (the label-join store). */
export interface PerformanceReader {
  latestPerformance(modelId: string, windowName: string): Promise<WindowPerformance | undefined>;
}
