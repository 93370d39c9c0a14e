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

/**
 * Where each numeric feature's change of mean comes from, per segment
 * attribute (shift-share): the change of the window's mean from the
 * reference's is the sum over segments of a **mix** term (the segment's
 * share moved: (w_cur - w_ref) x (segment's reference mean - overall
 * reference mean)) and a **within** term (the segment's mean moved: w_cur x
 * (segment's current mean - its reference mean)), in the reference's
 * standard deviations. Segments are ranked by the size of their total
 * contribution; the top 5 are kept.
 */
export function attributeChange(pane: Pane): AttributionResult[] {
  const out: AttributionResult[] = [];
  const layout = pane.layout;
  for (const a of pane.segments?.attributes ?? []) {
    const seg = layout.profile.segments?.[a.attribute];
    if (!seg) continue;
    let refTotal = 0;
    for (const c of Object.values(seg.counts)) refTotal += c;
    const parts = [...a.values.entries(), ...(a.other ? [[OTHER_SEGMENT, a.other] as const] : [])];
    layout.numericNames.forEach((name, i) => {
      const global = layout.numericProfiles[i];
      const sd = global.std > 0 ? global.std : 1;
      let mix = 0;
      let within = 0;
      const contributions: AttributionResult['segments'] = [];
      for (const [value, p] of parts) {
        const ref = seg.profiles[value]?.features[name];
        if (!ref || ref.type !== 'numeric' || p.count === 0 || pane.count === 0) continue;
        const cur = p.numeric[i];
        const wCur = p.count / pane.count;
        const wRef = (seg.counts[value] ?? 0) / refTotal;
        const m = ((wCur - wRef) * (ref.mean - global.mean)) / sd;
        const w = cur.count > 0 ? (wCur * (cur.mean - ref.mean)) / sd : 0;
        mix += m;
        within += w;
        contributions.push({ value, mix: m, within: w, contribution: m + w });
      }
      contributions.sort((x, y) => Math.abs(y.contribution) - Math.abs(x.contribution));
      out.push({ attribute: a.attribute, feature: name, change: mix + within, mix, within, segments: contributions.slice(0, 5) });
    });
  }
  return out;
}
