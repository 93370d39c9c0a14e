import type { AlertKind } from '../events.js';
import type { ModelConfig, QualityLevels } from '../model/model-config.js';
import type { Pane } from '../windows/pane.js';
import type { FeatureEvaluation, StatisticName } from './severity.js';
import type { DetailedEvaluation } from './evaluate-window.js';
import { thresholdsOf } from './evaluate-window.js';
import type { Severity } from './types.js';
import { byImportance } from '../model/feature-importance.js';

/** One measured value of a condition with its WARNING and CRITICAL levels. */
export interface Measure {
  readonly value: number;
  readonly warning: number;
  readonly critical: number;
  /** Extra facts for the alert's `details` (strings). */
  readonly details?: Readonly<Record<string, string>>;
}

/**
 * Something an evaluation can be in alarm about: a feature's drift, the
 * score's drift, the dataset's drift share, a data-quality check. Every
 * monitored condition is listed on every evaluation, at severity NONE when
 * clean, so the tracker can count clean evaluations.
 */
export interface AlertCondition {
  /** Identity of the condition within a (model, window): kind, feature and, for data quality, the check. */
  readonly key: string;
  readonly kind: AlertKind;
  readonly feature: string | null;
  readonly severity: Severity;
  /** Statistics at the condition's severity, most telling first (empty at NONE). */
  readonly triggered: readonly string[];
  /** Every statistic measured for this condition. */
  readonly measures: Readonly<Record<string, Measure>>;
}

// When several statistics share the top severity, the incident is named after the first of these.
const STAT_PRIORITY: readonly StatisticName[] = ['wasserstein', 'totalVariation', 'psi', 'ks', 'chiSquare', 'jensenShannon', 'hellinger'];

function featureMeasures(model: ModelConfig, name: string, r: FeatureEvaluation): Record<string, Measure> {
  const t = thresholdsOf(model, name);
  const m: Record<string, Measure> = {};
  const fin = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);
  if (fin(r.psi)) m.psi = { value: r.psi, warning: t.psi.warning, critical: t.psi.critical };
  if (r.ks && fin(r.ks.statistic)) {
    m.ks = {
      value: r.ks.statistic,
      warning: t.ks.effectSize.warning,
      critical: t.ks.effectSize.critical,
      details: { pValue: String(r.ks.pValue), errorBound: String(r.ks.errorBound), pValueWarning: String(t.ks.warning), pValueCritical: String(t.ks.critical) },
    };
  }
  if (r.chiSquare && fin(r.chiSquare.pValue)) {
    m.chiSquare = {
      value: r.chiSquare.pValue,
      warning: t.chiSquare.warning,
      critical: t.chiSquare.critical,
      details: { comparison: 'p-value below threshold', chiSquare: String(r.chiSquare.statistic), dof: String(r.chiSquare.dof), psi: String(r.psi ?? NaN) },
    };
  }
  if (fin(r.wassersteinNormed)) m.wasserstein = { value: r.wassersteinNormed, warning: t.wasserstein.warning, critical: t.wasserstein.critical };
  if (fin(r.jensenShannon)) m.jensenShannon = { value: r.jensenShannon, warning: t.jensenShannon.warning, critical: t.jensenShannon.critical };
  if (fin(r.hellinger)) m.hellinger = { value: r.hellinger, warning: t.hellinger.warning, critical: t.hellinger.critical };
  const v = r.verdict;
  if (v) {
    // The verdict's effect against its floors, with the evidence behind it: what an alert names and carries.
    const details: Record<string, string> = {
      verdict: v.verdict,
      test: v.test ?? '',
      pValue: String(v.pValue),
      level: String(v.level),
      metric: v.metric,
      effect: String(v.effect),
      floor: String(v.floor.warning),
      floorCritical: String(v.floor.critical),
      n: String(v.n),
      mde: String(v.mde),
    };
    if (v.sequential) {
      details.sequential = String(v.sequential.statistic);
      details.sequentialThreshold = String(v.sequential.threshold);
      if (v.sequential.windows !== undefined) details.sequentialWindows = String(v.sequential.windows);
    }
    if (r.wassersteinNormed !== undefined && fin(r.wassersteinNormed)) details.wassersteinNormed = String(r.wassersteinNormed);
    if (fin(r.psi)) details.psi = String(r.psi);
    if (r.importance !== undefined) details.importance = String(r.importance);
    m[v.metric] = { value: v.effect, warning: v.floor.warning, critical: v.floor.critical, details };
  }
  return m;
}

function triggeredOf(r: FeatureEvaluation): string[] {
  return STAT_PRIORITY.filter((s) => r.triggered.includes(s));
}

function level(value: number, l: QualityLevels): Severity {
  return value >= l.critical ? 'CRITICAL' : value >= l.warning ? 'WARNING' : 'NONE';
}

function quality(key: string, feature: string | null, statistic: string, value: number, l: QualityLevels, details?: Record<string, string>): AlertCondition {
  const severity = level(value, l);
  return {
    key,
    kind: 'DATA_QUALITY',
    feature,
    severity,
    triggered: severity === 'NONE' ? [] : [statistic],
    measures: { [statistic]: { value, warning: l.warning, critical: l.critical, details } },
  };
}

/**
 * DATASET_DRIFT: WARNING when the share of drifting features (or, when the
 * model sets `datasetDriftWeightedShare`, their importance-weighted share)
 * reaches its threshold, CRITICAL when the share of CRITICAL features reaches
 * `datasetDriftShare`. Drifting features are listed most important first.
 */
function datasetCondition(evaluation: DetailedEvaluation, model: ModelConfig, criticalShare: number): AlertCondition {
  const names = Object.keys(evaluation.features);
  const { share, weightedShare } = evaluation.datasetDrift;
  const severity: Severity = !evaluation.datasetDrift.drift ? 'NONE' : criticalShare >= model.datasetDriftShare ? 'CRITICAL' : 'WARNING';
  const details: Record<string, string> = {
    driftingFeatures: byImportance(names.filter((n) => evaluation.features[n].drift), model.importance).join(','),
    criticalShare: String(criticalShare),
    ...(weightedShare !== undefined ? { weightedShare: String(weightedShare) } : {}),
  };
  const measures: Record<string, Measure> = { driftShare: { value: share, warning: model.datasetDriftShare, critical: model.datasetDriftShare, details } };
  const weightedThreshold = model.datasetDriftWeightedShare;
  const weightedReached = weightedThreshold !== undefined && weightedShare !== undefined && weightedShare >= weightedThreshold;
  if (weightedThreshold !== undefined && weightedShare !== undefined) {
    measures.weightedShare = { value: weightedShare, warning: weightedThreshold, critical: weightedThreshold, details };
  }
  // The plain share names the incident when it reached its threshold (as before importance existed).
  const triggered = severity === 'NONE' ? [] : share >= model.datasetDriftShare || !weightedReached ? ['driftShare'] : ['weightedShare'];
  return { key: 'DATASET_DRIFT|', kind: 'DATASET_DRIFT', feature: null, severity, triggered, measures };
}

/**
 * Every alert condition of an evaluation: FEATURE_DRIFT per feature,
 * PREDICTION_DRIFT for the score and the prediction, DATASET_DRIFT (WARNING
 * when the share of drifting features reaches the model's `datasetDriftShare`,
 * CRITICAL when the share of CRITICAL features does), and DATA_QUALITY checks
 * (missing rate above the reference's, values outside the reference range,
 * values in new categories, type errors) when enabled. `pane` is the merged
 * window the evaluation was computed from.
 */
export function deriveConditions(evaluation: DetailedEvaluation, model: ModelConfig, pane: Pane): AlertCondition[] {
  const layout = pane.layout;
  const out: AlertCondition[] = [];
  const names = Object.keys(evaluation.features);
  let critical = 0;
  for (const name of names) {
    const r = evaluation.features[name];
    if (r.severity === 'CRITICAL') critical++;
    out.push({ key: `FEATURE_DRIFT|${name}`, kind: 'FEATURE_DRIFT', feature: name, severity: r.severity, triggered: triggeredOf(r), measures: featureMeasures(model, name, r) });
  }
  for (const [name, r] of Object.entries(evaluation.prediction ?? {})) {
    out.push({ key: `PREDICTION_DRIFT|${name}`, kind: 'PREDICTION_DRIFT', feature: name, severity: r.severity, triggered: triggeredOf(r), measures: featureMeasures(model, name, r) });
  }
  if (names.length > 0) out.push(datasetCondition(evaluation, model, critical / names.length));
  const dq = model.dataQuality;
  const q = evaluation.dataQuality;
  if (dq.enabled && q) {
    const refMissing = (name: string): number => layout.profile.features[name]?.missingRate ?? 0;
    for (const name of names) {
      const increase = Math.max(0, (q.missingRate[name] ?? 0) - refMissing(name));
      out.push(quality(`DATA_QUALITY|${name}|missingRate`, name, 'missingRate', increase, dq.missingRate, { currentMissingRate: String(q.missingRate[name] ?? 0), referenceMissingRate: String(refMissing(name)) }));
    }
    for (const name of layout.numericNames) {
      const p = layout.profile.features[name];
      const range = p && p.type === 'numeric' ? { referenceMin: String(p.min), referenceMax: String(p.max) } : undefined;
      out.push(quality(`DATA_QUALITY|${name}|outOfRange`, name, 'outOfRange', q.outOfRange[name] ?? 0, dq.outOfRange, range));
    }
    for (let i = 0; i < layout.categoricalNames.length; i++) {
      const name = layout.categoricalNames[i];
      const fresh = q.newCategories[name] ?? [];
      const summary = pane.categorical[i];
      let inNew = 0;
      for (const c of fresh) inNew += summary.countOf(c);
      const share = summary.count === 0 ? 0 : inNew / summary.count;
      out.push(quality(`DATA_QUALITY|${name}|newCategories`, name, 'newCategories', share, dq.newCategories, fresh.length ? { categories: fresh.slice(0, 20).join(',') } : undefined));
    }
    const total = evaluation.sampleSize + q.typeErrors;
    out.push(quality('DATA_QUALITY||typeErrors', null, 'typeErrors', total === 0 ? 0 : q.typeErrors / total, dq.typeErrors, { typeErrors: String(q.typeErrors) }));
  }
  return out;
}
