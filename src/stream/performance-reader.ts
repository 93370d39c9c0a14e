import type { PerformanceResult } from '../core/drift/types.js';
import { parseModelConfig, type ModelConfig } from '../core/model/model-config.js';
import { PerformanceCounters } from '../core/performance/counters.js';
import { summarizePerformance } from '../core/performance/metrics.js';
import type { LabelJoin } from '../ports/label-join.js';
import { counterPaneOf, performanceSpecOf, toPerformanceResult } from './label-records.js';
import type { ModelRepository } from '../ports/model-repository.js';

/** A window's performance as served by `GET /api/v1/models/{modelId}/performance`. */
export interface WindowPerformanceView {
  windowStart: number;
  windowEnd: number;
  performance: PerformanceResult;
  proxy: Record<string, number | null>;
}

export interface LabelJoinPerformanceReaderOptions {
  /** Windows looked back through for one with labels. Default 48. */
  lookback?: number;
}

/**
 * Serves performance straight from the label-join counters, so it is as
 * fresh as the last joined label, in `run` and `serve` alike (with Redis).
 * The latest window is the newest one holding at least one label; when no
 * window in the lookback has labels, the newest window with predictions.
 */
export class LabelJoinPerformanceReader {
  private readonly lookback: number;

  constructor(
    private readonly join: LabelJoin,
    private readonly models: ModelRepository,
    options: LabelJoinPerformanceReaderOptions = {},
  ) {
    this.lookback = Math.max(1, options.lookback ?? 48);
  }

  async latestPerformance(modelId: string, windowName: string): Promise<WindowPerformanceView | undefined> {
    const raw = await this.models.getModel(modelId);
    if (!raw) return undefined;
    let config: ModelConfig;
    try {
      config = parseModelConfig(raw);
    } catch {
      return undefined;
    }
    const window = config.windows.find((w) => w.name === windowName);
    if (!window) return undefined;
    const { sizeMs, slideMs } = window;
    const paneMs = counterPaneOf(config.windows);
    const starts = await this.join.paneStarts(modelId, paneMs);
    if (starts.length === 0) return undefined;
    const newestPane = starts[starts.length - 1];
    // The window that ends first after the newest pane (the one the detector evaluates next), then back one slide at a time.
    const end = Math.ceil((newestPane + paneMs) / slideMs) * slideMs;
    const newestWindow = end - sizeMs;
    const oldestWindow = newestWindow - (this.lookback - 1) * slideMs;
    const panes = await this.join.readPanes(modelId, paneMs, oldestWindow, newestWindow + sizeMs);
    let fallback: WindowPerformanceView | undefined;
    for (let ws = newestWindow; ws >= oldestWindow; ws -= slideMs) {
      const c = new PerformanceCounters();
      let any = false;
      for (const [start, pc] of panes) {
        if (start >= ws && start < ws + sizeMs) {
          c.merge(pc);
          any = true;
        }
      }
      if (!any) continue;
      const { proxy, ...performance } = toPerformanceResult(summarizePerformance(c, performanceSpecOf(config)));
      const view = { windowStart: ws, windowEnd: ws + sizeMs, performance, proxy };
      if (performance.labelled > 0) return view;
      fallback ??= view;
    }
    return fallback;
  }
}
