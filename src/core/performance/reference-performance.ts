import { PerformanceCounters } from './counters.js';
import { performanceMetrics, summarizePerformance, type PerformanceSummary } from './metrics.js';
import { classKey, numericValue, toInferenceRecord, toLabelRecord, type PerformanceSpec } from './records.js';
import type { PredictionKind } from '../model/model-config.js';

/** Reference performance, stored with a reference profile built from a labelled sample. */
export interface ReferencePerformance {
  /** Labelled rows the metrics come from. */
  readonly labelled: number;
  readonly kind: PredictionKind;
  readonly positiveClass: string;
  readonly metrics: Readonly<Record<string, number | null>>;
}

/**
 * Collects the performance of a labelled sample row by row (a reference
 * sample with a label column): each row is a prediction joined to its label
 * at once. Rows without a label are skipped.
 */
export class ReferencePerformanceBuilder {
  private readonly counters = new PerformanceCounters();
  private rows = 0;

  constructor(private readonly spec: PerformanceSpec) {}

  accept(row: { prediction?: unknown; score?: unknown; label?: unknown }): void {
    const label = row.label;
    if (label === null || label === undefined || label === '') return;
    if (typeof label !== 'number' && typeof label !== 'string' && typeof label !== 'boolean') return;
    const score = numericValue(row.score as number | string | null | undefined);
    const p = row.prediction;
    const prediction = typeof p === 'number' || typeof p === 'string' ? p : typeof p === 'boolean' ? classKey(p) : null;
    const id = String(this.rows++);
    const r = toInferenceRecord({ eventId: id, modelId: '', timestamp: 0, prediction: prediction === '' ? null : prediction, score }, this.spec, []);
    this.counters.acceptPrediction(r).acceptLabel(r, toLabelRecord({ eventId: id, modelId: '', timestamp: 0, label }));
  }

  get labelled(): number {
    return this.rows;
  }

  build(): ReferencePerformance | undefined {
    if (this.rows === 0) return undefined;
    return Object.freeze({
      labelled: this.rows,
      kind: this.spec.kind,
      positiveClass: this.spec.positiveClass,
      metrics: Object.freeze(performanceMetrics(this.counters, this.spec)),
    });
  }
}

/**
 * Performance of a labelled sample (a reference with a label column): every
 * row is a prediction joined to its label at once.
 */
export function samplePerformance(
  rows: Iterable<{ prediction: number | string | null; score: number | null; label: number | string | boolean }>,
  spec: PerformanceSpec,
): PerformanceSummary {
  const c = new PerformanceCounters();
  let i = 0;
  for (const row of rows) {
    const r = toInferenceRecord({ eventId: String(i), modelId: '', timestamp: 0, prediction: row.prediction, score: row.score }, spec, []);
    const l = toLabelRecord({ eventId: String(i++), modelId: '', timestamp: 0, label: row.label });
    c.acceptPrediction(r).acceptLabel(r, l);
  }
  return summarizePerformance(c, spec);
}
