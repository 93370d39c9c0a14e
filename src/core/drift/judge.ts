import { CategoricalSummary } from '../stats/categorical-summary.js';
import { NumericSummary } from '../stats/numeric-summary.js';
import { referenceDigest, type FeatureProfile } from '../profile/reference-profile.js';
import { alignCategories, featureStatistics, type FeatureEvaluation } from './severity.js';
import { categoricalEvidence, decideVerdicts, largestMde, numericEvidence, type EffectFloors, type FeatureEvidence, type FeatureVerdict, type VerdictInput } from './verdict.js';
import { normalUpperQuantile } from '../stats/normal.js';
import { SEQUENTIAL_WINDOWS, sequentialPValue, sequentialStep, sumStandardDeviation, type SequentialState } from './sequential.js';
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
   * stream, consecutive `compare` windows): the derived-window state of each
   * trend statistic, updated in place. Absent: single windows only, with the
   * whole budget.
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
 * Share of the budget the single-window tests get in sequential mode when
 * no feature of the window could see an effect at its floor (every MDE at
 * the {@link WINDOW_BUDGET_SHARE} level above the WARNING floor): such a
 * window can only catch changes several floors large, which stay far above
 * its level, so most of the budget goes to the derived window, which can see
 * effects near the floor. The choice depends on n, m and the reference only
 * (an MDE does not look at the window's values), so the two shares still add
 * up to the budget.
 */
export const BLIND_WINDOW_BUDGET_SHARE = 0.2;

/**
 * Eligible features a single window cannot judge at their floor: every MDE at
 * the {@link WINDOW_BUDGET_SHARE} level above the WARNING floor. Only these
 * take the derived window's verdict: where a window sees an effect at the
 * floor, the window's own tests judge it, and a derived window would only
 * hold on to a drift they already reported after it ended. The set depends on
 * n, m and the reference only (an MDE does not look at the window's values).
 */
export function blindFeatures(inputs: Readonly<Record<string, VerdictInput>>, budget: number): Set<string> {
  let tests = 0;
  for (const inp of Object.values(inputs)) if (inp.eligible) tests += inp.evidence.tests.length;
  const blind = new Set<string>();
  if (tests === 0) return blind;
  const level = (budget * WINDOW_BUDGET_SHARE) / tests;
  for (const [name, inp] of Object.entries(inputs)) {
    if (inp.eligible && !(largestMde(inp.evidence.mdes(level)) <= inp.floors.warning)) blind.add(name);
  }
  return blind;
}

/**
 * Share of the budget the single-window tests get: the whole budget without
 * sequential mode; {@link BLIND_WINDOW_BUDGET_SHARE} when no eligible feature
 * can be judged by the window alone; otherwise {@link WINDOW_BUDGET_SHARE}
 * (also when every feature can: the single-window levels stay those measured).
 */
export function windowBudgetShare(inputs: Readonly<Record<string, VerdictInput>>, blind: ReadonlySet<string>, sequential: boolean): number {
  if (!sequential) return 1;
  if (blind.size === 0) return WINDOW_BUDGET_SHARE;
  for (const [name, inp] of Object.entries(inputs)) if (inp.eligible && !blind.has(name)) return WINDOW_BUDGET_SHARE;
  return BLIND_WINDOW_BUDGET_SHARE;
}

/**
 * The drift rule of docs/detector.md applied to every feature of one
 * evaluation: statistics of DESIGN.md section 4 (reported), evidence
 * (significance tests and effect above noise), Holm's procedure across all
 * tests at the budget, the effect floors, the minimum detectable effect and,
 * when `sequential` is given, the derived window of the last windows for
 * features a single window cannot judge. `compare`, the stream and therefore the API and alerts all come
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
  const blind = options.sequential ? blindFeatures(inputs, options.budget) : new Set<string>();
  const share = windowBudgetShare(inputs, blind, options.sequential !== undefined);
  const verdicts = decideVerdicts(inputs, options.budget * share);
  const plan = options.sequential ? sequentialPlan(items, evidence, blind, options.budget * (1 - share)) : undefined;
  const out: Record<string, FeatureEvaluation> = {};
  for (const name of Object.keys(items)) {
    const v = verdicts[name];
    let summary = verdictSummary(v, items[name].reference.count);
    let severity: Severity = v.severity;
    if (plan && options.sequential && inputs[name].eligible) {
      // Every eligible feature's derived window moves on, so it always holds the last consecutive windows;
      // only a blind feature's is judged.
      const seq = sequentialVerdict(options.sequential, name, evidence[name], items[name], plan, v.verdict === 'drift');
      if (blind.has(name)) summary = { ...summary, sequential: seq.summary };
      if (blind.has(name) && v.verdict !== 'drift' && seq.severity !== 'NONE') {
        severity = seq.severity;
        summary = { ...summary, verdict: 'drift', test: 'derivedWindow', effect: seq.summary.effect, pValue: seq.pValue, level: seq.level };
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

/** The sequential budget of one evaluation: its share of the budget and each trend statistic's two-sided level. */
export interface SequentialPlan {
  readonly budget: number;
  readonly statistics: number;
  /** Two-sided level of each trend statistic's derived window, by key (weighted Bonferroni: they add up to the budget). */
  readonly levels: ReadonlyMap<string, number>;
}

/**
 * Weight of a trend statistic that sees an effect at its floor over a full
 * derived window with room to spare (its expected |z| there at least
 * {@link SHARP_MARGIN} beyond the level an equal share would give): a tenth
 * of the others'. Such a statistic keeps near-full power at the smaller
 * level; the budget it frees goes to the statistics that need it.
 */
export const SHARP_WEIGHT = 0.1;
/** z of the one-sided 95% lower bound a derived window's effect must reach the floor with on a reference with atoms. */
export const ATOM_LOWER_BOUND_Z = 1.645;

/** See {@link SHARP_WEIGHT}: 2 is 98% power at the equal share. */
export const SHARP_MARGIN = 2;

/**
 * Every blind feature's ({@link blindFeatures}) trend statistics share the sequential part of the
 * budget by weighted Bonferroni (each derived window is one two-sided test
 * per evaluation, and the levels add up to the share, so the promise holds
 * whatever the dependence): a statistic whose derived window would see an
 * effect at the floor with room to spare gets {@link SHARP_WEIGHT}, the
 * others 1. The weights come from the reference's standard errors and n
 * ({@link TrendStatistic.referenceSe}), never from the window's values.
 */
export function sequentialPlan(items: Readonly<Record<string, JudgeItem>>, evidence: Record<string, FeatureEvidence>, blind: ReadonlySet<string>, budget: number): SequentialPlan {
  const entries: { key: string; reach: number }[] = [];
  for (const [name, ev] of Object.entries(evidence)) {
    if (!blind.has(name)) continue;
    const sd = sumStandardDeviation(new Array<number>(SEQUENTIAL_WINDOWS).fill(ev.n), ev.m);
    for (const t of ev.trends ?? []) {
      // Expected |z| of the full derived window at an effect of one floor: SEQUENTIAL_WINDOWS windows of floor / se each.
      const se = t.referenceSe ?? t.se;
      entries.push({ key: sequentialKey(name, t.kind), reach: se > 0 ? (items[name].floors.warning * SEQUENTIAL_WINDOWS) / (se * sd) : 0 });
    }
  }
  const levels = new Map<string, number>();
  if (entries.length === 0) return { budget, statistics: 0, levels };
  const equal = normalUpperQuantile(budget / entries.length / 2);
  const weights = entries.map((e) => (e.reach >= equal + SHARP_MARGIN ? SHARP_WEIGHT : 1));
  const total = weights.reduce((a, b) => a + b, 0);
  entries.forEach((e, i) => levels.set(e.key, (budget * weights[i]) / total));
  return { budget, statistics: entries.length, levels };
}

/** Key of a trend statistic's sequential state (the location one keeps the feature's name, as older states stored it). */
export function sequentialKey(feature: string, kind: string): string {
  return kind === 'location' ? feature : `${feature}#${kind}`;
}

/**
 * Steps every trend statistic's derived window of one feature (with no
 * evidence, z and effect 0, from a window whose own tests found drift in it:
 * `reported`) and returns the
 * strongest verdict among those significant at the plan's level: the mean of
 * the windows' effect estimates ({@link TrendStatistic.effect}) estimates the
 * persistent effect, which must reach the floor.
 */
function sequentialVerdict(
  states: Record<string, SequentialState>,
  name: string,
  ev: FeatureEvidence,
  item: JudgeItem,
  plan: SequentialPlan,
  reported: boolean,
): { severity: Severity; pValue: number | null; level: number; summary: { statistic: number; threshold: number; effect: number; windows: number } } {
  let statistic = 0;
  let threshold = Infinity;
  let estimate = 0;
  let pValue: number | null = null;
  let level = 0;
  let windows = 0;
  for (const trend of ev.trends ?? []) {
    const key = sequentialKey(name, trend.kind);
    // A window whose own tests found the drift adds no evidence: the change it shows is reported by it,
    // and must not hold the derived window in drift after the change is over.
    const step = reported ? sequentialStep(states[key] ?? {}, 0, ev.n, ev.m, 0) : sequentialStep(states[key] ?? {}, trend.z, ev.n, ev.m, trend.effect ?? trend.z * trend.se);
    states[key] = step.state;
    windows = Math.max(windows, step.windows);
    const own = plan.levels.get(key) ?? 0;
    if (Math.abs(step.z) >= Math.abs(statistic)) {
      statistic = step.z;
      threshold = normalUpperQuantile(own / 2);
    }
    const p = sequentialPValue(step.z);
    // The effect above noise, as a single window's (docs/detector.md): the windows' mean estimate
    // less twice its variance, with the estimate's standard error for the derived window's values.
    // Where the reference has atoms (trend.effect given) any move of an atom is significant however
    // small, so the floor alone decides: there the estimate's one-sided 95% lower bound must reach it.
    const unit = (trend.effectSe ?? trend.se) / Math.sqrt(1 / ev.n + 1 / ev.m);
    let total = 0;
    for (const k of step.state.n ?? []) total += k;
    const se = unit * Math.sqrt(1 / Math.max(1, total) + 1 / ev.m);
    const effect = trend.effect !== undefined ? Math.max(0, step.effect - ATOM_LOWER_BOUND_Z * se) : Math.sqrt(Math.max(0, step.effect * step.effect - 2 * se * se));
    if (own > 0 && p <= own && effect > estimate) {
      estimate = effect;
      pValue = p;
      level = own;
    }
  }
  const severity: Severity = estimate >= item.floors.critical ? 'CRITICAL' : estimate >= item.floors.warning ? 'WARNING' : 'NONE';
  return { severity, pValue, level, summary: { statistic, threshold, effect: estimate, windows } };
}
