import type { Evaluation } from '../core/drift/types.js';
import { parseProfile } from '../core/profile/reference-profile.js';
import type { AnalysisWindow, Analysis } from '../core/analysis/analysis.js';
import type { EvaluationReportContext } from './evaluation-report.js';
import { renderEvaluationReport } from './evaluation-report.js';

/** A stored model configuration as JSON (only the fields a report reads). */
type ModelJson = Readonly<Record<string, unknown>>;

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** The model's declared feature importance, when it declares any. */
export function importanceOfJson(config: ModelJson): Record<string, number> | undefined {
  const v = config.importance;
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const out: Record<string, number> = {};
  for (const [k, w] of Object.entries(v as Record<string, unknown>)) if (typeof w === 'number') out[k] = w;
  return out;
}

/** Rows and labelled performance of a stored reference profile; nothing when it cannot be read. */
export function referenceFacts(profile: unknown): EvaluationReportContext['reference'] {
  if (profile === undefined) return {};
  try {
    const p = parseProfile(profile);
    return { rows: p.rows, ...(p.performance ? { performance: { labelled: p.performance.labelled, metrics: p.performance.metrics } } : {}) };
  } catch {
    return {};
  }
}

/** The report context of a model's evaluations: its importance, its rule, its reference and the history of the window. */
export function reportContext(config: ModelJson, history: readonly Evaluation[], referenceProfile: unknown, now: number): EvaluationReportContext {
  const importance = importanceOfJson(config);
  const rule: Record<string, number> = {};
  for (const k of ['falseAlarmBudget', 'datasetDriftShare', 'datasetDriftWeightedShare'] as const) {
    const v = num(config[k]);
    if (v !== undefined) rule[k] = v;
  }
  return { history, ...(importance ? { importance } : {}), rule, reference: referenceFacts(referenceProfile), generatedAt: now };
}

/** The window an analysis report shows: the one starting at `windowStart`, else the last drifting one, else the last. */
export function reportedWindow(windows: readonly AnalysisWindow[], windowStart?: number): AnalysisWindow | undefined {
  if (windowStart !== undefined) return windows.find((w) => w.windowStart === windowStart);
  return [...windows].reverse().find((w) => w.drift) ?? windows[windows.length - 1];
}

/** The HTML report of one window of an analysis, with every window of the analysis as its trend. */
export function renderAnalysisReport(a: Analysis, windows: readonly AnalysisWindow[], chosen: AnalysisWindow, config: ModelJson, referenceProfile: unknown, now: number): string {
  const base = reportContext(config, windows.map((w) => w.evaluation), referenceProfile, now);
  return renderEvaluationReport(chosen.evaluation, {
    ...base,
    title: `Analysis ${a.analysisId}: ${a.modelId}, window ${chosen.evaluation.windowName}`,
    source: `analysis ${a.analysisId}${a.request.tags.length ? ` (tags ${a.request.tags.join(', ')})` : ''}`,
  });
}
