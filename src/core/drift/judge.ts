import { CategoricalSummary } from '../stats/categorical-summary.js';
import { NumericSummary } from '../stats/numeric-summary.js';
import { referenceDigest, type FeatureProfile } from '../profile/reference-profile.js';
import { alignCategories, featureStatistics, type FeatureEvaluation } from './severity.js';
import { categoricalEvidence, decideVerdicts, numericEvidence, type EffectFloors, type FeatureEvidence, type FeatureVerdict, type VerdictInput } from './verdict.js';
import { referenceErrorShare, sequentialReferenceValue, sequentialStep, sequentialThreshold, type SequentialState } from './sequential.js';
import type { Severity } from './severity.js';
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
  const cusum = options.sequential ? sequentialPlan(evidence, inputs, options.budget * (1 - WINDOW_BUDGET_SHARE)) : undefined;
  const out: Record<string, FeatureEvaluation> = {};
  for (const name of Object.keys(items)) {
    const v = verdicts[name];
    let summary = verdictSummary(v, items[name].reference.count);
    let severity: Severity = v.severity;
    if (cusum && options.sequential && inputs[name].eligible) {
      const seq = sequentialVerdict(options.sequential, name, evidence[name], items[name], cusum);
      summary = { ...summary, sequential: seq.summary };
      if (v.verdict !== 'drift' && seq.severity !== 'NONE') {
        severity = seq.severity;
        summary = { ...summary, verdict: 'drift', test: 'cusum', effect: seq.summary.effect, pValue: null, level: cusum.level };
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

function verdictSummary(v: FeatureVerdict, m: number): FeatureVerdictSummary {
  const summary: FeatureVerdictSummary = {
    verdict: v.verdict,
    test: v.test,
    pValue: finiteOrNull(v.pValue),
    level: v.level,
    metric: v.metric,
    effect: v.effect,
    floor: { warning: v.floor.warning, critical: v.floor.critical },
    n: v.n,
    mde: finiteOrNull(v.mde),
    mdes: Object.fromEntries(Object.entries(v.mdes).map(([k, x]) => [k, finiteOrNull(x)])),
    tests: Object.fromEntries(v.tests.map((t) => [t.name, t.pValue])),
  };
  if (v.verdict === 'insufficient' && v.n > 0) summary.nNeeded = finiteOrNull(windowSizeNeeded(v.n, m, v.mde, v.floor.warning));
  return summary;
}

/** The CUSUM budget of one evaluation: its share of the budget and the number of one-sided CUSUMs sharing it. */
interface SequentialPlan {
  readonly budget: number;
  readonly statistics: number;
  readonly level: number;
}

/**
 * Every eligible feature's trend statistics share the sequential part of the
 * budget: each is two-sided, so 2 one-sided CUSUMs per statistic, each held
 * to a false-crossing rate of budget / (number of CUSUMs) per window.
 */
function sequentialPlan(evidence: Record<string, FeatureEvidence>, inputs: Record<string, VerdictInput>, budget: number): SequentialPlan {
  let statistics = 0;
  for (const [name, ev] of Object.entries(evidence)) if (inputs[name].eligible) statistics += 2 * (ev.trends?.length ?? 0);
  return { budget, statistics, level: budget / Math.max(1, statistics) };
}

const thresholds = new Map<string, number>();

/**
 * The CUSUM threshold of a feature with n values against a reference of m
 * ({@link sequentialThreshold} at the reference value k for n and m, averaged
 * over the reference's error), remembered: one evaluation after another asks
 * for the same few.
 */
export function cusumThreshold(plan: { budget: number; statistics: number }, n: number, m: number): number {
  if (plan.statistics === 0) return Infinity;
  const key = `${plan.budget}:${plan.statistics}:${n}:${m}`;
  let h = thresholds.get(key);
  if (h === undefined) {
    h = sequentialThreshold(plan.budget, plan.statistics, sequentialReferenceValue(n, m), referenceErrorShare(n, m));
    if (thresholds.size >= 4096) thresholds.clear();
    thresholds.set(key, h);
  }
  return h;
}

/** Key of a trend statistic's CUSUM state (the location one keeps the feature's name, as older states stored it). */
export function sequentialKey(feature: string, kind: string): string {
  return kind === 'location' ? feature : `${feature}#${kind}`;
}

/**
 * Steps every trend CUSUM of one feature and returns the strongest verdict
 * among those that fired: the run's mean z times the window's standard error
 * of the effect estimates the persistent effect, which must reach the floor.
 */
function sequentialVerdict(states: Record<string, SequentialState>, name: string, ev: FeatureEvidence, item: JudgeItem, plan: SequentialPlan): { severity: Severity; summary: { statistic: number; threshold: number; effect: number } } {
  const k = sequentialReferenceValue(ev.n, ev.m);
  const h = cusumThreshold(plan, ev.n, ev.m);
  let statistic = 0;
  let estimate = 0;
  for (const trend of ev.trends ?? []) {
    const key = sequentialKey(name, trend.kind);
    const step = sequentialStep(states[key] ?? { up: 0, down: 0 }, trend.z, k, h);
    states[key] = step.state;
    statistic = Math.max(statistic, step.statistic);
    if (step.fired && step.meanZ !== undefined && Number.isFinite(trend.se)) estimate = Math.max(estimate, Math.abs(step.meanZ) * trend.se);
  }
  const severity: Severity = estimate >= item.floors.critical ? 'CRITICAL' : estimate >= item.floors.warning ? 'WARNING' : 'NONE';
  return { severity, summary: { statistic, threshold: h, effect: estimate } };
}
