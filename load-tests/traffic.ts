/**
 * Synthetic traffic of the load tests: models with 20 numeric and 5
 * categorical features whose values follow fixed, varied distributions, a
 * score that depends on two undrifted features, and drift that shifts two
 * features (`f00` by 1.5 standard deviations, `c0` towards one category) from
 * a known event time on. Deterministic for a seed, cheap per event (the
 * generator must outrun the detector it feeds).
 */
import type { InferenceEvent } from '../src/core/events.js';
import { mulberry32 } from '../src/core/random.js';

export const NUMERIC_FEATURES = Array.from({ length: 20 }, (_, i) => `f${String(i).padStart(2, '0')}`);
export const CATEGORICAL_FEATURES = ['c0', 'c1', 'c2', 'c3', 'c4'];
/** The features the injected drift moves. */
export const DRIFTED_FEATURES = ['f00', 'c0'];

const CARDINALITY = [4, 6, 10, 25, 60];
const CATEGORIES = CARDINALITY.map((k, c) => Array.from({ length: k }, (_, j) => `c${c}_v${j}`));
// Skewed (Zipf-like, exponent 1) cumulative weights per categorical feature.
const CUMULATIVE = CARDINALITY.map((k) => {
  const w = Array.from({ length: k }, (_, j) => 1 / (j + 1));
  const total = w.reduce((a, b) => a + b, 0);
  let acc = 0;
  return Float64Array.from(w, (x) => (acc += x / total));
});

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
export const rng = mulberry32;

/** Feature types as a model configuration declares them. */
export function featureTypes(): Record<string, 'numeric' | 'categorical'> {
  const out: Record<string, 'numeric' | 'categorical'> = {};
  for (const f of NUMERIC_FEATURES) out[f] = 'numeric';
  for (const f of CATEGORICAL_FEATURES) out[f] = 'categorical';
  return out;
}

/**
 * Generates the events of a set of models. Each model drifts from its own
 * event time on (`driftFrom(modelId)`, Infinity for never).
 */
export class TrafficGenerator {
  private readonly r: () => number;
  private spare = NaN;
  private seq = 0;

  constructor(
    seed: number,
    private readonly runId: string,
  ) {
    this.r = rng(seed);
  }

  private normal(): number {
    // Box-Muller yields two values; keep the second for the next call.
    if (!Number.isNaN(this.spare)) {
      const s = this.spare;
      this.spare = NaN;
      return s;
    }
    const u = Math.max(this.r(), 1e-12);
    const v = this.r();
    const m = Math.sqrt(-2 * Math.log(u));
    this.spare = m * Math.sin(2 * Math.PI * v);
    return m * Math.cos(2 * Math.PI * v);
  }

  private category(c: number): string {
    const cum = CUMULATIVE[c];
    const u = this.r();
    let j = 0;
    while (j < cum.length - 1 && u >= cum[j]) j++;
    return CATEGORIES[c][j];
  }

  /** The features of one event; `drifted` applies the injected shift. */
  features(drifted: boolean): Record<string, number | string | null> {
    const out: Record<string, number | string | null> = {};
    for (let i = 0; i < 20; i++) {
      const z = this.normal();
      let v: number | null;
      switch (i % 5) {
        case 0: // standard-ish normal with a per-feature location and scale
          v = 10 * i + (1 + i / 10) * z;
          break;
        case 1: // log-normal (income-like, long right tail)
          v = Math.exp(10 + 0.5 * z);
          break;
        case 2: // bounded uniform
          v = this.r() * 100;
          break;
        case 3: // integer-valued (counts, ages)
          v = Math.max(0, Math.round(40 + 12 * z));
          break;
        default: // normal with 2% missing values
          v = this.r() < 0.02 ? null : z;
      }
      out[NUMERIC_FEATURES[i]] = v;
    }
    if (drifted) out.f00 = (out.f00 as number) + 1.5;
    for (let c = 0; c < 5; c++) out[CATEGORICAL_FEATURES[c]] = this.category(c);
    if (drifted && this.r() < 0.7) out.c0 = CATEGORIES[0][CATEGORIES[0].length - 1];
    return out;
  }

  /** One inference event of `modelId` at event time `ts`. */
  event(modelId: string, ts: number, drifted: boolean): InferenceEvent {
    const features = this.features(drifted);
    // The score depends on f05 and f15 only (both about standard normal once
    // centred and scaled), which never drift: drift moves no output.
    const logit = (0.8 * ((features.f05 as number) - 50)) / 1.5 + (0.6 * ((features.f15 as number) - 150)) / 2.5 + 0.3 * this.normal();
    const score = 1 / (1 + Math.exp(-logit));
    return {
      eventId: `${this.runId}-${this.seq++}`,
      modelId,
      modelVersion: 'v1',
      timestamp: ts,
      features,
      prediction: score >= 0.5 ? '1' : '0',
      score,
      attributes: { segment: (this.seq & 1) === 0 ? 'web' : 'mobile' },
    };
  }
}

/** Model ids of a scenario: `<prefix>-00`, `<prefix>-01`, ... */
export function modelIds(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);
}
