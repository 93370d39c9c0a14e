import type { ModelConfig } from '../model/model-config.js';
import type { Pane } from '../windows/pane.js';
import type { Evaluation } from './types.js';
import { evaluateDataset, type FeatureEvaluation } from './severity.js';
import { judgeFeatures, type JudgeItem } from './judge.js';
import type { SequentialState } from './sequential.js';
import { resolveThresholds, type Thresholds } from './thresholds.js';
import { evaluationIdOf } from './ids.js';
import { featureHistogram } from './feature-histogram.js';
import { OTHER_CATEGORY } from '../stats/categorical-summary.js';
import { weightedDriftShare } from '../stats/dataset-drift.js';
import { importanceWeights } from '../model/feature-importance.js';
import { evaluateMultivariate, hasMultivariate } from './multivariate-evaluation.js';
import { estimateWindow, estimatedAlertMetrics, judgeEstimatedPerformance } from './estimated-performance-verdict.js';
import { SEGMENT_BUDGET_SHARE, attributeChange, evaluateSegments } from './segment-evaluation.js';

/** What {@link evaluateWindow} compares: a window's merged pane and where it sits. */
export interface WindowEvaluationInput {
  readonly model: ModelConfig;
  /** The window's panes merged into one (its layout names the reference). */
  readonly pane: Pane;
  readonly windowName: string;
  readonly windowStart: number;
  readonly windowEnd: number;
  /** Processing time of the evaluation, epoch ms (time is passed in). */
  readonly evaluatedAt: number;
  /**
   * Derived-window state of the window's trend statistics across consecutive windows,
   * updated in place (sequential mode, tumbling windows only; the caller
   * keeps it between evaluations). Ignored for sliding windows.
   */
  readonly sequential?: Record<string, SequentialState>;
}

/** An {@link Evaluation} whose feature and prediction results keep why they got their severity. */
export interface DetailedEvaluation extends Evaluation {
  features: Record<string, FeatureEvaluation>;
  prediction?: Record<string, FeatureEvaluation>;
}

const thresholdCache = new WeakMap<ModelConfig, Map<string, Thresholds>>();

/** Thresholds of one feature (or of `score` / `prediction`) of a model, resolved once and cached. */
export function thresholdsOf(model: ModelConfig, feature: string): Thresholds {
  let m = thresholdCache.get(model);
  if (!m) {
    m = new Map();
    thresholdCache.set(model, m);
  }
  let t = m.get(feature);
  if (!t) {
    t = resolveThresholds({ thresholds: model.thresholds, featureThresholds: model.featureThresholds, minSamples: model.minSamples }, feature);
    m.set(feature, t);
  }
  return t;
}

/**
 * Evaluates one window of a model against the reference its pane was built
 * on: every statistic of every feature, prediction drift on the score and
 * predicted class (or regression value), data quality (missing rate, share
 * outside the reference's range, new categories, type errors), proxy metrics
 * and dataset drift. A window with fewer than `minSamples` events is reported
 * with `alertable: false`.
 */
export function evaluateWindow(input: WindowEvaluationInput): DetailedEvaluation {
  const { model, pane } = input;
  const layout = pane.layout;
  const missingRate: Record<string, number> = {};
  const outOfRange: Record<string, number> = {};
  const newCategories: Record<string, string[]> = {};
  // Features, score and prediction are judged together: one family of tests under the model's budget.
  const items: Record<string, JudgeItem> = {};
  const item = (name: string, reference: JudgeItem['reference'], current: JudgeItem['current']): JudgeItem => {
    const t = thresholdsOf(model, name);
    return { reference, current, floors: t.floor, minSamples: t.minSamples };
  };
  for (let i = 0; i < layout.numericNames.length; i++) {
    const name = layout.numericNames[i];
    const s = pane.numeric[i];
    items[name] = item(name, layout.numericProfiles[i], s);
    missingRate[name] = s.missingRate;
    outOfRange[name] = s.count === 0 ? 0 : pane.outOfRange[i] / s.count;
  }
  for (let i = 0; i < layout.categoricalNames.length; i++) {
    const name = layout.categoricalNames[i];
    items[name] = item(name, layout.categoricalProfiles[i], pane.categorical[i]);
    missingRate[name] = pane.categorical[i].missingRate;
  }
  // Outputs are keyed apart from features (a feature may not be named score or prediction).
  const outputs: Record<string, JudgeItem> = {};
  if (layout.score && pane.score) outputs.score = item('score', layout.score, pane.score);
  if (layout.prediction) {
    const current = pane.predictionClass ?? pane.predictionValue;
    if (current) outputs.prediction = item('prediction', layout.prediction, current);
  }
  const all: Record<string, JudgeItem> = { ...items };
  for (const [k, v] of Object.entries(outputs)) all[`\u0000${k}`] = v;
  const window = model.windows.find((w) => w.name === input.windowName);
  const sequential = input.sequential && window && window.sizeMs === window.slideMs ? input.sequential : undefined;
  // The multivariate test and each alerting estimated metric are one more test of the family: the budget is split evenly.
  const estimate = estimateWindow(pane);
  const tests = Object.keys(all).length;
  // With segments, half the budget goes to them (split evenly), half to the window as a whole.
  const segmented = pane.segments !== undefined;
  const budget = model.falseAlarmBudget * (segmented ? 1 - SEGMENT_BUDGET_SHARE : 1);
  const perTest = budget / Math.max(1, tests + (hasMultivariate(pane) ? 1 : 0) + estimatedAlertMetrics(model, layout.profile, estimate).length);
  const judged = judgeFeatures(all, { budget: perTest * tests, ...(sequential ? { sequential } : {}) });
  const multivariate = evaluateMultivariate(model, pane, perTest);
  const estimatedPerformance = judgeEstimatedPerformance(model, layout.profile, estimate, perTest);

  const features: Record<string, FeatureEvaluation> = {};
  for (const name of Object.keys(items)) {
    features[name] = judged[name];
    const fresh = judged[name].newCategories;
    if (fresh && fresh.length > 0) newCategories[name] = fresh;
  }
  const dataset = evaluateDataset(features, model.datasetDriftShare);
  const datasetDrift = withImportance(model, features, dataset);
  // Reference and current proportions on the same bins, for plots (the API's feature route, the dashboard).
  for (let i = 0; i < layout.numericNames.length; i++) features[layout.numericNames[i]].histogram = featureHistogram(layout.numericProfiles[i], pane.numeric[i]);
  for (let i = 0; i < layout.categoricalNames.length; i++) {
    features[layout.categoricalNames[i]].histogram = featureHistogram(layout.categoricalProfiles[i], pane.categorical[i]);
  }

  let prediction: Record<string, FeatureEvaluation> | undefined;
  for (const k of Object.keys(outputs)) (prediction ??= {})[k] = judged[`\u0000${k}`];

  return {
    evaluationId: evaluationIdOf(model.modelId, input.windowName, input.windowStart),
    modelId: model.modelId,
    modelVersion: pane.modelVersion,
    windowName: input.windowName,
    windowStart: input.windowStart,
    windowEnd: input.windowEnd,
    sampleSize: pane.count,
    referenceId: layout.referenceId,
    evaluatedAt: input.evaluatedAt,
    datasetDrift,
    features,
    ...(prediction ? { prediction } : {}),
    ...(multivariate ? { multivariate } : {}),
    ...(estimatedPerformance ? { estimatedPerformance } : {}),
    ...(segmented ? { segments: { results: evaluateSegments(model, pane, model.falseAlarmBudget * SEGMENT_BUDGET_SHARE, (m, p) => evaluateWindow({ ...input, model: m, pane: p, sequential: undefined })), attribution: attributeChange(pane) } } : {}),
    dataQuality: { missingRate, outOfRange, newCategories, typeErrors: pane.typeErrors },
    proxy: proxyMetrics(pane),
    alertable: pane.count >= model.minSamples,
  };
}

/**
 * Dataset drift with its importance-weighted share, which also decides when
 * the model sets `datasetDriftWeightedShare`; each feature result carries its
 * declared importance.
 */
function withImportance(
  model: ModelConfig,
  features: Record<string, FeatureEvaluation>,
  dataset: { driftShare: number; drift: boolean },
): Evaluation['datasetDrift'] {
  const names = Object.keys(features);
  const drifting = names.map((n) => features[n].drift);
  const weightedShare = weightedDriftShare(drifting, importanceWeights(names, model.importance));
  if (model.importance) for (const n of names) features[n].importance = model.importance[n] ?? 0;
  const threshold = model.datasetDriftWeightedShare;
  const weightedDrift = threshold !== undefined && weightedShare > 0 && weightedShare >= threshold;
  return { share: dataset.driftShare, drift: dataset.drift || weightedDrift, weightedShare };
}

/** Label-free signals of the model's behaviour: positive rate, score mean and std, prediction entropy. */
function proxyMetrics(pane: Pane): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  const score = pane.score;
  if (score) {
    out.scoreMean = score.count > 0 ? score.mean : null;
    out.scoreStd = score.count > 1 ? score.std : null;
  }
  const pc = pane.predictionClass;
  if (pc && pc.count > 0) {
    out.positiveRate = pc.countOf(pane.layout.positiveClass) / pc.count;
    let h = 0;
    for (const [c, n] of pc.counts()) {
      if (c === OTHER_CATEGORY && n === 0) continue;
      const p = n / pc.count;
      if (p > 0) h -= p * Math.log(p);
    }
    out.predictionEntropy = h;
  } else if (score && score.count > 0) {
    out.positiveRate = 1 - score.cdf(0.5);
  }
  const pv = pane.predictionValue;
  if (pv && pv.count > 0) {
    out.predictionMean = pv.mean;
    out.predictionStd = pv.count > 1 ? pv.std : null;
  }
  return out;
}
