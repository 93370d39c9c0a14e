import type { Evaluation, FeatureResult, PerformanceResult } from '../core/drift/types.js';

/** One earlier window in a report's trend: its dataset drift and each feature's effect. */
export interface TrendPoint {
  readonly windowStart: number;
  readonly windowEnd: number;
  /** How the window is named on the trend's axis (default: its end time). */
  readonly label?: string;
  readonly sampleSize: number;
  readonly share: number;
  readonly weightedShare?: number;
  readonly drift: boolean;
  /** Each feature's effect (the verdict's metric) and whether it drifted. */
  readonly features: Readonly<Record<string, { effect: number | null; drift: boolean }>>;
}

/** The rule the verdicts were reached by, as a report states it. */
export interface ReportRule {
  readonly falseAlarmBudget: number;
  readonly datasetDriftShare: number;
  readonly datasetDriftWeightedShare?: number;
}

/** Everything a drift report shows; built from an evaluation (stream, API) or a comparison (`compare`). */
export interface DriftReportInput {
  readonly title: string;
  readonly modelId?: string;
  readonly windowName?: string;
  readonly windowStart?: number;
  readonly windowEnd?: number;
  readonly referenceId?: string;
  /** Rows of the reference sample, when known. */
  readonly referenceSize?: number;
  readonly generatedAt: number;
  readonly sampleSize: number;
  readonly dataset: Evaluation['datasetDrift'];
  /** Features with their plot histograms (reference and current on the same bins). */
  readonly features: Readonly<Record<string, FeatureResult>>;
  readonly prediction?: Readonly<Record<string, FeatureResult>>;
  readonly importance?: Readonly<Record<string, number>>;
  readonly rule: ReportRule;
  /** Earlier windows, oldest first, ending with the reported one. */
  readonly trend?: readonly TrendPoint[];
  readonly performance?: PerformanceResult;
  readonly referencePerformance?: { readonly labelled: number; readonly metrics: Readonly<Record<string, number | null>> };
  /** Where the report came from (a URL, a command line), printed in its footer. */
  readonly source?: string;
}

/** A trend point from a stored evaluation. */
export function trendPointOf(e: Pick<Evaluation, 'windowStart' | 'windowEnd' | 'sampleSize' | 'datasetDrift' | 'features'>): TrendPoint {
  const features: Record<string, { effect: number | null; drift: boolean }> = {};
  for (const [name, f] of Object.entries(e.features)) features[name] = { effect: f.verdict ? f.verdict.effect : null, drift: f.drift };
  return {
    windowStart: e.windowStart,
    windowEnd: e.windowEnd,
    sampleSize: e.sampleSize,
    share: e.datasetDrift.share,
    ...(e.datasetDrift.weightedShare !== undefined ? { weightedShare: e.datasetDrift.weightedShare } : {}),
    drift: e.datasetDrift.drift,
    features,
  };
}
