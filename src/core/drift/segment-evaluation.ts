import type { ModelConfig } from '../model/model-config.js';
import { OTHER_SEGMENT } from '../profile/segment-profiles.js';
import type { Pane } from '../windows/pane.js';
import type { AttributionResult, SegmentResult } from './types.js';

/** Share of the model's budget that goes to its segments when it has any (the global evaluation keeps the rest). */
export const SEGMENT_BUDGET_SHARE = 0.5;

/** A window's segment panes with at least one event: attribute, value and pane. */
export function segmentPanesOf(pane: Pane): { attribute: string; value: string; pane: Pane }[] {
  const out: { attribute: string; value: string; pane: Pane }[] = [];
  for (const a of pane.segments?.attributes ?? []) {
    for (const [value, p] of a.values) if (p.count > 0) out.push({ attribute: a.attribute, value, pane: p });
    if (a.other && a.other.count > 0) out.push({ attribute: a.attribute, value: OTHER_SEGMENT, pane: a.other });
  }
  return out;
}

/**
 * Judges every segment of a window with the drift rule, against the
 * segment's own reference, each at an even share of `budget` (Bonferroni
 * over the segments of every attribute), and returns their verdicts in
 * brief. `judge` is the window evaluation applied to one segment pane.
 */
export function evaluateSegments(
  model: ModelConfig,
  pane: Pane,
  budget: number,
  judge: (model: ModelConfig, pane: Pane) => { features: Record<string, { severity: SegmentResult['features'][string]['severity']; verdict?: { verdict: string; effect: number; pValue: number | null } }> },
): SegmentResult[] {
  const segments = segmentPanesOf(pane);
  if (segments.length === 0) return [];
  const each: ModelConfig = { ...model, falseAlarmBudget: budget / segments.length, segments: { attributes: [], topK: model.segments.topK }, multivariate: { ...model.multivariate, enabled: false } };
  const total = pane.count;
  return segments.map(({ attribute, value, pane: p }) => {
    const counts = pane.layout.profile.segments?.[attribute]?.counts ?? {};
    let refTotal = 0;
    for (const c of Object.values(counts)) refTotal += c;
    const judged = judge(each, p);
    const features: SegmentResult['features'] = {};
    for (const [name, r] of Object.entries(judged.features)) {
      features[name] = { severity: r.severity, verdict: r.verdict?.verdict ?? null, effect: r.verdict?.effect ?? null, pValue: r.verdict?.pValue ?? null };
    }
    return {
      attribute,
      value,
      n: p.count,
      share: total > 0 ? p.count / total : 0,
      referenceShare: refTotal > 0 ? (counts[value] ?? 0) / refTotal : 0,
      level: each.falseAlarmBudget,
      features,
    };
  });
}

/** The attribution kept per feature: the segments and categories that contribute most. */
const TOP_CONTRIBUTIONS = 5;

/** A segment of the reference with its pane in the window (undefined when no event of it came). */
type SegmentPart = readonly [value: string, pane: Pane | undefined];

/**
 * Where each feature's change comes from, per segment attribute
 * (shift-share): the change over the window is the sum over segments of a
 * **mix** term (the segment's share moved) and a **within** term (the
 * segment itself moved). Numeric features: the change of mean, mix =
 * (w_cur - w_ref) x (segment's reference mean - overall reference mean),
 * within = w_cur x (segment's current mean - its reference mean), in the
 * reference's standard deviations; segments ranked by the size of their
 * contribution. Categorical features: see {@link attributeCategorical}.
 * The top 5 segments are kept.
 */
export function attributeChange(pane: Pane): AttributionResult[] {
  const out: AttributionResult[] = [];
  const layout = pane.layout;
  for (const a of pane.segments?.attributes ?? []) {
    const seg = layout.profile.segments?.[a.attribute];
    if (!seg) continue;
    let refTotal = 0;
    for (const c of Object.values(seg.counts)) refTotal += c;
    // Every segment of the reference, those without events in the window too: their share fell to 0.
    const parts: SegmentPart[] = Object.keys(seg.profiles).map((v) => [v, v === OTHER_SEGMENT ? a.other : a.values.get(v)]);
    layout.numericNames.forEach((name, i) => {
      const global = layout.numericProfiles[i];
      const sd = global.std > 0 ? global.std : 1;
      let mix = 0;
      let within = 0;
      const contributions: AttributionResult['segments'] = [];
      for (const [value, p] of parts) {
        const ref = seg.profiles[value]?.features[name];
        if (!ref || ref.type !== 'numeric' || pane.count === 0) continue;
        const cur = p?.numeric[i];
        const wCur = (p?.count ?? 0) / pane.count;
        const wRef = (seg.counts[value] ?? 0) / refTotal;
        const m = ((wCur - wRef) * (ref.mean - global.mean)) / sd;
        const w = cur && cur.count > 0 ? (wCur * (cur.mean - ref.mean)) / sd : 0;
        mix += m;
        within += w;
        contributions.push({ value, mix: m, within: w, contribution: m + w });
      }
      contributions.sort((x, y) => Math.abs(y.contribution) - Math.abs(x.contribution));
      out.push({ attribute: a.attribute, feature: name, measure: 'mean', change: mix + within, mix, within, segments: contributions.slice(0, TOP_CONTRIBUTIONS) });
    });
    layout.categoricalNames.forEach((name, i) => {
      const r = attributeCategorical(
        parts.map(([value, p]) => {
          const ref = seg.profiles[value]?.features[name];
          return { value, current: p?.categorical[i].counts() ?? new Map<string, number>(), reference: ref?.type === 'categorical' ? ref.categories : {} };
        }),
      );
      if (r) out.push({ attribute: a.attribute, feature: name, ...r });
    });
  }
  return out;
}

/** One segment's category counts in the window and in its reference. */
export interface CategoricalSegmentCounts {
  value: string;
  current: ReadonlyMap<string, number>;
  reference: Readonly<Record<string, number>>;
}

/**
 * Shift-share of a categorical feature's change. With w the segments'
 * shares of the feature's present values and p_s(k) a segment's share of
 * category k, the overall share change of k is exactly
 * sum_s (w_cur - w_ref) p_ref,s(k)  [mix]  +  sum_s w_cur (p_cur,s(k) - p_ref,s(k))  [within].
 * The change is the total variation distance, half the sum over categories
 * of |share change|; projecting each category's terms on the sign of its
 * share change splits it exactly into mix + within, and into one
 * contribution per segment that add up to it. A segment with a negative
 * contribution moved against the change. Segments are ranked by
 * contribution, largest first; categories by the size of their change.
 * Undefined when the window or the reference has no value of the feature.
 */
export function attributeCategorical(
  segments: readonly CategoricalSegmentCounts[],
): Omit<AttributionResult, 'attribute' | 'feature'> | undefined {
  const rows = segments.map((s) => {
    let cur = 0;
    let ref = 0;
    for (const c of s.current.values()) cur += c;
    for (const c of Object.values(s.reference)) ref += c;
    return { ...s, curN: cur, refN: ref };
  });
  let curTotal = 0;
  let refTotal = 0;
  for (const r of rows) {
    curTotal += r.curN;
    refTotal += r.refN;
  }
  if (curTotal === 0 || refTotal === 0) return undefined;
  // Each segment's mix and within term of every category it holds, in the window or its reference.
  const terms = rows.map((r) => {
    const wCur = r.curN / curTotal;
    const wRef = r.refN / refTotal;
    const byCategory = new Map<string, { mix: number; within: number }>();
    for (const k of new Set([...r.current.keys(), ...Object.keys(r.reference)])) {
      const pRef = r.refN > 0 ? (r.reference[k] ?? 0) / r.refN : 0;
      const pCur = r.curN > 0 ? (r.current.get(k) ?? 0) / r.curN : 0;
      byCategory.set(k, { mix: (wCur - wRef) * pRef, within: wCur * (pCur - pRef) });
    }
    return { value: r.value, byCategory };
  });
  const categories = new Map<string, { category: string; change: number; mix: number; within: number }>();
  for (const t of terms) {
    for (const [k, v] of t.byCategory) {
      const c = categories.get(k) ?? { category: k, change: 0, mix: 0, within: 0 };
      c.mix += v.mix;
      c.within += v.within;
      c.change = c.mix + c.within;
      categories.set(k, c);
    }
  }
  const sign = (k: string): number => Math.sign(categories.get(k)!.change);
  let mix = 0;
  let within = 0;
  const contributions: AttributionResult['segments'] = terms.map((t) => {
    let m = 0;
    let w = 0;
    for (const [k, v] of t.byCategory) {
      m += 0.5 * sign(k) * v.mix;
      w += 0.5 * sign(k) * v.within;
    }
    mix += m;
    within += w;
    return { value: t.value, mix: m, within: w, contribution: m + w };
  });
  contributions.sort((x, y) => y.contribution - x.contribution);
  const moved = [...categories.values()].sort((x, y) => Math.abs(y.change) - Math.abs(x.change));
  return {
    measure: 'totalVariation',
    change: mix + within,
    mix,
    within,
    segments: contributions.slice(0, TOP_CONTRIBUTIONS),
    categories: moved.slice(0, TOP_CONTRIBUTIONS),
  };
}
