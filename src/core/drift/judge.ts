import { CategoricalSummary } from '../stats/categorical-summary.js';
import { NumericSummary } from '../stats/numeric-summary.js';
import { numericCalibration } from '../profile/calibration.js';
import { referenceDigest, type FeatureProfile } from '../profile/reference-profile.js';
import { alignCategories, featureStatistics, type FeatureEvaluation } from './severity.js';
import { categoricalEvidence, decideVerdicts, numericEvidence, type EffectFloors, type FeatureEvidence, type VerdictInput } from './verdict.js';
import { sequentialReferenceValue, sequentialStep, sequentialThreshold, DEFAULT_SEQUENTIAL_K, type SequentialState } from './sequential.js';
import type { FeatureVerdictSummary } from './types.js';

/** One feature (or `score` / `prediction`) to judge: its reference, its window summary, its floors. */
export interface JudgeItem {
  readonly reference: FeatureProfile;
  readonly current: NumericSummary | CategoricalSummary;
  readonly floors: EffectFloors;
  /** Below this many current values the feature is reported, never in drift. */
  readonly minSamples: number;
}

/** Options of {@link judgeFeatures}. */
export interface JudgeOptions {
  /** The model's false-alarm budget: probability that an evaluation holds any false drift verdict. */
  readonly budget: number;
  /**
   * Sequential evidence across consecutive windows (tumbling windows of the
   * stream, consecutive `compare` windows): the CUSUM state of each numeric
   * feature, updated in place. Absent: single windows only, with the whole
   * budget.
   */
  readonly sequential?: Record<string, SequentialState>;
}

/**
 * Window size at which the minimum detectable effect falls to `floor`: the
 * MDE scales with sqrt(1/n + 1/m), so n' solves 1/n' + 1/m = (1/n + 1/m)
 * (floor / mde)^2 (Infinity when the reference alone is too noisy).
 */
export function windowSizeNeeded(n: number, m: number, mde: number, floor: number): number {
  if (!Number.isFinite(mde)) return Infinity;
  if (mde <= floor) return n;
  const target = (1 / n + 1 / m) * (floor / mde) ** 2 - 1 / m;
  return target > 0 ? Math.ceil(1 / target) : Infinity;
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** Share of the budget the single-window tests get when the sequential statistic takes the rest. */
export const WINDOW_BUDGET_SHARE = 0.5;

/**
 * The drift rule of docs/detector.md applied to every feature of one
 * evaluation: statistics of DESIGN.md section 4 (reported), evidence
 * (significance tests and effect above noise), Holm's procedure across all
 * tests at the budget, the effect floors, the minimum detectable effect and,
 * when `sequential` is given, the CUSUM for features a single window cannot
 * judge. `compare`, the stream and therefore the API and alerts all come
 * through here.
 */
export function judgeFeatures(items: Readonly<Record<string, JudgeItem>>, options: JudgeOptions): Record<string, FeatureEvaluation> {
  const stats: Record<string, FeatureEvaluation> = {};
  const evidence: Record<string, FeatureEvidence> = {};
  const inputs: Record<string, VerdictInput> = {};
  for (const [name, item] of Object.entries(items)) {
    const s = featureStatistics(item.reference, item.current);
    stats[name] = s;
    let ev: FeatureEvidence;
    if (item.reference.type === 'numeric') {
      ev = numericEvidence(item.reference, referenceDigest(item.reference), item.current as NumericSummary, s.ks);
    } else {
      const a = alignCategories(item.reference, item.current as CategoricalSummary);
      ev = categoricalEvidence(a.reference, a.current);
    }
    evidence[name] = ev;
    inputs[name] = { evidence: ev, floors: item.floors, eligible: item.current.count >= item.minSamples && item.current.count > 0 };
  }
  const windowBudget = options.sequential ? options.budget * WINDOW_BUDGET_SHARE : options.budget;
  const verdicts = decideVerdicts(inputs, windowBudget);

  const sequentialNames = options.sequential ? Object.keys(items).filter((n) => items[n].reference.type === 'numeric') : [];
  const h = sequentialNames.length > 0 ? sequentialThreshold(options.budget * (1 - WINDOW_BUDGET_SHARE), 2 * sequentialNames.length, DEFAULT_SEQUENTIAL_K) : Infinity;

  const out: Record<string, FeatureEvaluation> = {};
  for (const name of Object.keys(items)) {
    const v = verdicts[name];
    const item = items[name];
    let summary: FeatureVerdictSummary = {
      verdict: v.verdict,
      test: v.test,
      pValue: finiteOrNull(v.pValue),
      level: v.level,
      metric: v.metric,
      effect: v.effect,
      floor: { warning: v.floor.warning, critical: v.floor.critical },
      n: v.n,
      mde: finiteOrNull(v.mde),
      tests: Object.fromEntries(v.tests.map((t) => [t.name, t.pValue])),
    };
    if (v.verdict === 'insufficient' && v.n > 0) summary.nNeeded = finiteOrNull(windowSizeNeeded(v.n, item.reference.count, v.mde, v.floor.warning));
    let severity = v.severity;
    if (options.sequential && item.reference.type === 'numeric' && inputs[name].eligible) {
      // The location z of every window feeds the CUSUM; it decides only where the window alone cannot.
      const z = evidence[name].tests[0]?.statistic ?? NaN;
      const n = item.current.count;
      const step = sequentialStep(options.sequential[name] ?? { up: 0, down: 0 }, z, sequentialReferenceValue(n, item.reference.count), h);
      options.sequential[name] = step.state;
      const se = numericCalibration(item.reference, (q) => referenceDigest(item.reference as Extract<FeatureProfile, { type: 'numeric' }>).quantile(q)).locationNoise * Math.sqrt(1 / n + 1 / item.reference.count);
      const estimate = step.fired && step.meanZ !== undefined ? Math.abs(step.meanZ) * se : 0;
      summary = { ...summary, sequential: { statistic: step.statistic, threshold: h, effect: estimate } };
      if (v.verdict !== 'drift' && step.fired && estimate >= item.floors.warning) {
        severity = estimate >= item.floors.critical ? 'CRITICAL' : 'WARNING';
        summary = { ...summary, verdict: 'drift', test: 'cusum', effect: estimate, pValue: null, level: options.budget * (1 - WINDOW_BUDGET_SHARE) / (2 * sequentialNames.length) };
      }
    }
    out[name] = {
      ...stats[name],
      severity,
      drift: severity !== 'NONE',
      triggered: severity === 'NONE' ? [] : [summary.metric],
      belowMinSamples: !inputs[name].eligible,
      verdict: summary,
    };
  }
  return out;
}
