import type { GroundTruthEvent, InferenceEvent } from '../core/events.js';
import type { PerformanceResult } from '../core/drift/types.js';
import type { ModelConfig, WindowConfig } from '../core/model/model-config.js';
import { paneLengthOf } from '../core/windows/window-spec.js';
import { type PerformanceSummary } from '../core/performance/metrics.js';
import { performanceSpecOf, toInferenceRecord, toLabelRecord, type InferenceRecord, type LabelRecord } from '../core/performance/records.js';

export { performanceSpecOf };

/**
 * The pane length a model's counters are kept in: the greatest common divisor
 * of its window slides, so each label adds to one pane and every window is a
 * whole number of panes.
 */
export function counterPaneOf(windows: readonly WindowConfig[]): number {
  return paneLengthOf(windows);
}

/** The pane lengths of {@link toInferenceRecord}: one, {@link counterPaneOf}. */
export function paneSizesOf(windows: readonly WindowConfig[]): number[] {
  return windows.length === 0 ? [] : [counterPaneOf(windows)];
}

/**
 * The records a batch of one model's inference events leaves for their
 * labels (what the detector passes to {@link LabelJoin.recordInferences}).
 */
export function inferenceRecordsOf(events: readonly InferenceEvent[], config: ModelConfig): InferenceRecord[] {
  const spec = performanceSpecOf(config);
  const panes = paneSizesOf(config.windows);
  return events.map((e) => toInferenceRecord(e, spec, panes));
}

export function labelRecordOf(event: GroundTruthEvent): LabelRecord {
  return toLabelRecord(event);
}

/** The served and published form of a window's performance. */
export function toPerformanceResult(s: PerformanceSummary): PerformanceResult & { proxy: Record<string, number | null> } {
  return {
    labelled: s.labelled,
    predictions: s.predictions,
    coverage: s.coverage ?? 0,
    metrics: s.metrics,
    ...(s.unavailable ? { unavailable: s.unavailable } : {}),
    labelDelayP50Ms: s.labelDelayP50Ms,
    labelDelayP95Ms: s.labelDelayP95Ms,
    proxy: s.proxy,
  };
}
