import type { FeatureValue } from '../core/events.js';
import { mulberry32 } from '../core/random.js';

/** Deterministic pseudo-random numbers (mulberry32). */
export const seeded = mulberry32;

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());
}

function pick<T extends string>(r: () => number, weights: readonly [T, number][]): T {
  let u = r();
  for (const [v, w] of weights) {
    if ((u -= w) < 0) return v;
  }
  return weights[weights.length - 1][0];
}

function poisson(r: () => number, lambda: number): number {
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= r();
  } while (p > l);
  return k - 1;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

const REGIONS: readonly [string, number][] = [
  ['north', 0.3],
  ['south', 0.25],
  ['east', 0.25],
  ['west', 0.2],
];
// After the drift most applications come from one region (a marketing campaign, say).
const REGIONS_DRIFTED: readonly [string, number][] = [
  ['north', 0.1],
  ['south', 0.15],
  ['east', 0.15],
  ['west', 0.6],
];
const EMPLOYMENT: readonly [string, number][] = [
  ['salaried', 0.6],
  ['self_employed', 0.2],
  ['contractor', 0.12],
  ['unemployed', 0.08],
];

/** The demo's credit-risk model (DESIGN.md section 3 format). */
export const CREDIT_RISK_FEATURES = {
  age: 'numeric',
  income: 'numeric',
  debt_ratio: 'numeric',
  credit_history_months: 'numeric',
  num_accounts: 'numeric',
  region: 'categorical',
  employment_type: 'categorical',
} as const;

/** One credit application and the model's output: the score is the probability of default. */
export interface CreditApplication {
  features: Record<string, FeatureValue>;
  score: number;
  prediction: string;
}

/**
 * Realistic-looking credit-risk traffic. With `drift`, incomes fall by a
 * third (an economic shock) and the region mix changes; the score follows
 * income, so prediction drift shows too. The other features stay put.
 */
export function creditApplication(r: () => number, drift: boolean): CreditApplication {
  const age = Math.round(clamp(42 + 12 * normal(r), 18, 85));
  let income = Math.exp(Math.log(52_000) + 0.45 * normal(r));
  if (drift) income *= 0.65;
  const debtRatio = clamp(0.32 + 0.12 * normal(r), 0, 1.5);
  const history = Math.round(clamp((age - 18) * 12 * 0.6 + 40 * normal(r), 0, 800));
  const accounts = poisson(r, 4);
  const region = pick(r, drift ? REGIONS_DRIFTED : REGIONS);
  const employment = pick(r, EMPLOYMENT);
  const z = -1.2 + 3.2 * (debtRatio - 0.32) - 1.1 * Math.log(income / 52_000) - 0.004 * (history - 200) + (employment === 'unemployed' ? 1.2 : 0) + 0.3 * normal(r);
  const score = 1 / (1 + Math.exp(-z));
  return {
    features: {
      age,
      income: Math.round(income),
      debt_ratio: Math.round(debtRatio * 1000) / 1000,
      credit_history_months: history,
      num_accounts: accounts,
      region,
      employment_type: employment,
    },
    score: Math.round(score * 10_000) / 10_000,
    prediction: score >= 0.5 ? '1' : '0',
  };
}
