import type { FeatureResult } from '../core/drift/types.js';

const SEVERITY_RANK = { CRITICAL: 0, WARNING: 1, NONE: 2 } as const;

/**
 * The order a report shows features in: drifting ones first, each group by
 * importance (largest first), then by severity (CRITICAL before WARNING),
 * then by effect (largest first), then by name.
 */
export function reportOrder(features: Readonly<Record<string, FeatureResult>>, importance?: Readonly<Record<string, number>>): string[] {
  const effect = (f: FeatureResult) => f.verdict?.effect ?? -1;
  return Object.keys(features).sort((a, b) => {
    const fa = features[a];
    const fb = features[b];
    return (
      Number(fb.drift) - Number(fa.drift) ||
      (importance?.[b] ?? 0) - (importance?.[a] ?? 0) ||
      (fa.drift ? SEVERITY_RANK[fa.severity] - SEVERITY_RANK[fb.severity] : 0) ||
      effect(fb) - effect(fa) ||
      a.localeCompare(b)
    );
  });
}
