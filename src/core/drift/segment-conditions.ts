import type { ModelConfig } from '../model/model-config.js';
import type { AlertCondition } from './alert-conditions.js';
import { thresholdsOf } from './evaluate-window.js';
import type { Evaluation } from './types.js';

/** The name an alert gives a feature of a segment: `income [region=eu]`. */
export function segmentFeatureName(feature: string, attribute: string, value: string): string {
  return `${feature} [${attribute}=${value}]`;
}

/**
 * FEATURE_DRIFT conditions of an evaluation's segments: one per feature of
 * every segment, named after the segment (see {@link segmentFeatureName}),
 * valued by the verdict's effect against the feature's floors; details say
 * which segment, its share of the window and the reference, and where the
 * segment ranks in the attribution of the feature's change.
 */
export function segmentConditions(evaluation: Evaluation, model: ModelConfig): AlertCondition[] {
  const s = evaluation.segments;
  if (!s) return [];
  const out: AlertCondition[] = [];
  for (const r of s.results) {
    for (const [feature, f] of Object.entries(r.features)) {
      const floor = thresholdsOf(model, feature).floor;
      const attribution = s.attribution.find((a) => a.attribute === r.attribute && a.feature === feature);
      const rank = attribution ? attribution.segments.findIndex((c) => c.value === r.value) + 1 : 0;
      const name = segmentFeatureName(feature, r.attribute, r.value);
      out.push({
        key: `FEATURE_DRIFT|${name}`,
        kind: 'FEATURE_DRIFT',
        feature: name,
        severity: f.severity,
        triggered: f.severity === 'NONE' ? [] : ['effect'],
        measures: {
          effect: {
            value: f.effect ?? 0,
            warning: floor.warning,
            critical: floor.critical,
            details: {
              segment: `${r.attribute}=${r.value}`,
              segmentFeature: feature,
              verdict: String(f.verdict),
              pValue: String(f.pValue),
              level: String(r.level),
              n: String(r.n),
              share: String(r.share),
              referenceShare: String(r.referenceShare),
              attributionRank: String(rank),
            },
          },
        },
      });
    }
  }
  return out;
}
