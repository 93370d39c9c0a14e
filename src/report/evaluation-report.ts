import type { Evaluation } from '../core/drift/types.js';
import { DEFAULT_FALSE_ALARM_BUDGET } from '../core/drift/floors.js';
import { DEFAULT_DATASET_DRIFT_SHARE } from '../core/stats/dataset-drift.js';
import type { DriftReportInput, ReportRule } from './report-input.js';
import { trendPointOf } from './report-input.js';
import { renderDriftReport } from './render-report.js';

/** What a report of a stored evaluation needs beside it. */
export interface EvaluationReportContext {
  /** Earlier evaluations of the same window, in any order (the reported one may be among them). */
  readonly history?: readonly Evaluation[];
  readonly importance?: Readonly<Record<string, number>>;
  readonly rule?: Partial<ReportRule>;
  /** The reference's rows and labelled performance, when known. */
  readonly reference?: { readonly rows?: number; readonly performance?: DriftReportInput['referencePerformance'] };
  readonly title?: string;
  readonly source?: string;
  readonly generatedAt: number;
}

/** How many earlier windows a report's trend shows at most. */
export const REPORT_TREND_WINDOWS = 24;

/** The report input of one evaluation: its features with their plots, the trend of the windows up to it, the rule it was judged by. */
export function evaluationReportInput(e: Evaluation, ctx: EvaluationReportContext): DriftReportInput {
  const earlier = (ctx.history ?? []).filter((h) => h.windowName === e.windowName && h.windowEnd < e.windowEnd);
  earlier.sort((a, b) => a.windowEnd - b.windowEnd);
  const trend = [...earlier.slice(-(REPORT_TREND_WINDOWS - 1)), e].map(trendPointOf);
  const rule: ReportRule = {
    falseAlarmBudget: ctx.rule?.falseAlarmBudget ?? DEFAULT_FALSE_ALARM_BUDGET,
    datasetDriftShare: ctx.rule?.datasetDriftShare ?? DEFAULT_DATASET_DRIFT_SHARE,
    ...(ctx.rule?.datasetDriftWeightedShare !== undefined ? { datasetDriftWeightedShare: ctx.rule.datasetDriftWeightedShare } : {}),
  };
  return {
    title: ctx.title ?? `Drift report: ${e.modelId}, window ${e.windowName}`,
    modelId: e.modelId,
    windowName: e.windowName,
    windowStart: e.windowStart,
    windowEnd: e.windowEnd,
    referenceId: e.referenceId,
    ...(ctx.reference?.rows !== undefined ? { referenceSize: ctx.reference.rows } : {}),
    generatedAt: ctx.generatedAt,
    sampleSize: e.sampleSize,
    dataset: e.datasetDrift,
    features: e.features,
    ...(e.prediction ? { prediction: e.prediction } : {}),
    ...(ctx.importance ? { importance: ctx.importance } : {}),
    rule,
    trend,
    ...(e.performance ? { performance: e.performance } : {}),
    ...(ctx.reference?.performance ? { referencePerformance: ctx.reference.performance } : {}),
    ...(ctx.source ? { source: ctx.source } : {}),
  };
}

/** {@link renderDriftReport} of {@link evaluationReportInput}. */
export function renderEvaluationReport(e: Evaluation, ctx: EvaluationReportContext): string {
  return renderDriftReport(evaluationReportInput(e, ctx));
}
