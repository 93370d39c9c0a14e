import { mulberry32 } from '../../../../src/core/random.js';

/** An event-shaped sample record with a `region` attribute. */
export interface RegionEvent {
  features: { f0: number; f1: number; c0: string };
  score: number;
  prediction: string;
  modelVersion: string;
  attributes: { region: string };
}

/**
 * Events over 1,000 distinct regions: `big` carries 10% of the traffic,
 * `mid0`..`mid4` 10% each, and `tail0`..`tail993` share the remaining 40%.
 * f0 and f1 are normal; each region's f0 mean differs a little (its own
 * reference), so judging a segment against the global reference would be
 * wrong. `shiftBig` moves f0 in region `big` by that many standard deviations.
 * c0 is `a` or `b` at even odds, except in region `big`, where it is `a` with
 * probability `bigShareA`.
 */
export function regionEvents(seed: number, n: number, shiftBig = 0, bigShareA = 0.5): RegionEvent[] {
  const u = mulberry32(seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());
  const out: RegionEvent[] = [];
  for (let i = 0; i < n; i++) {
    const r = u();
    const region = r < 0.1 ? 'big' : r < 0.6 ? `mid${Math.floor((r - 0.1) / 0.1)}` : `tail${Math.floor(u() * 994)}`;
    const offset = region === 'big' ? 0.5 : region.startsWith('mid') ? -0.2 + 0.1 * Number(region.slice(3)) : 0;
    const f0 = normal() + offset + (region === 'big' ? shiftBig : 0);
    const f1 = normal();
    const score = 1 / (1 + Math.exp(-f1));
    out.push({ features: { f0, f1, c0: u() < (region === 'big' ? bigShareA : 0.5) ? 'a' : 'b' }, score, prediction: score >= 0.5 ? '1' : '0', modelVersion: 'v1', attributes: { region } });
  }
  return out;
}
