// `npm run bench:detection:multivariate` (also run by `npm run bench:detection`): how often the
// multivariate drift check (docs/detector.md, "Multivariate drift") cries wolf, and how fast it
// sees a change in how features move together that no single feature shows.
//
// Two 10,000-row references, each with its own null windows:
//   gaussian  a, b standard normal at correlation +0.8, c, d, e independent normals
//   mixed     20 numeric features from two latent factors: normal, lognormal, Student t3 noise,
//             integer (rounded) features and zero-inflated ones, so the errors are far from normal;
//             and p, q standard normal at correlation +0.8
// Null windows: the MULTIVARIATE_DRIFT verdict alone, at its share of the budget when the model's
// evaluation holds one verdict per feature plus it. Flip: a and b at correlation -0.8 (marginals
// unchanged; p and q in the mixed scenario), whole evaluations (univariate verdicts and the multivariate one) on 1,000-event windows.
//
//   npx tsx bench/detection-multivariate.ts [--windows 2000] [--sizes 100,200,500,1000,5000,20000]
//                                           [--flip-windows 200] [--seed 1] [--budget 0.001]
import { parseArgs } from 'node:util';
import { mulberry32 } from '../src/core/random.js';
import { parseModelConfig, type ModelConfig } from '../src/core/model/model-config.js';
import { ReferenceProfileBuilder, type ReferenceProfile } from '../src/core/profile/reference-profile.js';
import { MultivariateProfileBuilder, withMultivariate } from '../src/core/profile/multivariate-profile.js';
import { createPaneLayout, type PaneLayout } from '../src/core/windows/pane-layout.js';
import { Pane } from '../src/core/windows/pane.js';
import { ReconstructionSummary } from '../src/core/stats/reconstruction-error.js';
import { judgeMultivariate } from '../src/core/drift/multivariate-verdict.js';
import { evaluateWindow } from '../src/core/drift/evaluate-window.js';

const { values: args } = parseArgs({
  options: {
    windows: { type: 'string', default: '2000' },
    sizes: { type: 'string', default: '100,200,500,1000,5000,20000' },
    'flip-windows': { type: 'string', default: '200' },
    seed: { type: 'string', default: '1' },
    budget: { type: 'string', default: '0.001' },
  },
});
const NULL_WINDOWS = Number(args.windows);
const SIZES = args.sizes.split(',').map(Number);
const FLIP_WINDOWS = Number(args['flip-windows']);
const SEED = Number(args.seed);
const BUDGET = Number(args.budget);
const REFERENCE_ROWS = 10_000;

type Rng = () => number;
type Row = Record<string, number>;

function normal(u: Rng): number {
  return Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());
}

function studentT3(u: Rng): number {
  let s = 0;
  for (let i = 0; i < 3; i++) s += normal(u) ** 2;
  return normal(u) / Math.sqrt(s / 3);
}

interface Scenario {
  readonly name: string;
  readonly features: readonly string[];
  row(u: Rng, rho: number): Row;
}

const GAUSSIAN: Scenario = {
  name: 'gaussian',
  features: ['a', 'b', 'c', 'd', 'e'],
  row(u, rho) {
    const a = normal(u);
    return { a, b: rho * a + Math.sqrt(1 - rho * rho) * normal(u), c: normal(u), d: 5 + 2 * normal(u), e: normal(u) };
  },
};

const MIXED_NAMES = Array.from({ length: 20 }, (_, i) => `x${i}`);
const MIXED: Scenario = {
  name: 'mixed',
  features: [...MIXED_NAMES, 'p', 'q'],
  row(u, rho) {
    const f1 = normal(u);
    const f2 = normal(u);
    const p = normal(u);
    const out: Row = { p, q: rho * p + Math.sqrt(1 - rho * rho) * normal(u) };
    for (let i = 0; i < 20; i++) {
      const load = i % 2 === 0 ? f1 : f2;
      const base = 0.7 * load;
      switch (i % 5) {
        case 0:
          out[MIXED_NAMES[i]] = base + 0.7 * normal(u);
          break;
        case 1:
          out[MIXED_NAMES[i]] = Math.exp(0.5 * base + 0.5 * normal(u));
          break;
        case 2:
          out[MIXED_NAMES[i]] = base + 0.5 * studentT3(u);
          break;
        case 3:
          out[MIXED_NAMES[i]] = Math.round(3 + 2 * base + normal(u));
          break;
        default:
          out[MIXED_NAMES[i]] = u() < 0.3 ? 0 : Math.abs(base + normal(u));
      }
    }
    return out;
  },
};

function modelOf(s: Scenario): ModelConfig {
  return parseModelConfig({
    modelId: `bench-${s.name}`,
    features: Object.fromEntries(s.features.map((f) => [f, 'numeric'])),
    windows: [{ name: 'w', size: '1m' }],
    falseAlarmBudget: BUDGET,
    multivariate: { enabled: true },
  });
}

function referenceOf(s: Scenario, u: Rng): ReferenceProfile {
  const builder = new ReferenceProfileBuilder(Object.fromEntries(s.features.map((f) => [f, 'numeric'])));
  const mv = new MultivariateProfileBuilder(s.features);
  for (let i = 0; i < REFERENCE_ROWS; i++) {
    const r = s.row(u, 0.8);
    builder.accept(r);
    mv.acceptRecord(r);
  }
  return withMultivariate(builder.build({ createdAt: 0, id: `ref-${s.name}` }), mv);
}

const pct = (x: number, digits = 2): string => `${(100 * x).toFixed(digits)}%`;
const log = (s = ''): void => console.log(s);
const t0 = Date.now();

function nullRates(s: Scenario, layout: PaneLayout): void {
  const profile = layout.profile.multivariate!;
  const level = BUDGET / (s.features.length + 1);
  const values = new Float64Array(layout.numericNames.length);
  for (const n of SIZES) {
    const u = mulberry32(SEED * 7919 + n);
    let alarms = 0;
    let insufficient = 0;
    let maxEffect = -Infinity;
    for (let w = 0; w < NULL_WINDOWS; w++) {
      const summary = new ReconstructionSummary();
      for (let i = 0; i < n; i++) {
        const r = s.row(u, 0.8);
        for (let k = 0; k < values.length; k++) values[k] = r[layout.numericNames[k]];
        summary.accept(layout.reconstruction!.error(values));
      }
      const v = judgeMultivariate(summary, profile, { level, floor: modelOf(s).multivariate.floor, minSamples: 100 });
      if (v.verdict === 'drift') alarms++;
      if (v.verdict === 'insufficient') insufficient++;
      maxEffect = Math.max(maxEffect, v.effect ?? -Infinity);
    }
    log(`| ${s.name} | ${n} | ${pct(alarms / NULL_WINDOWS)} (${alarms}) | ${level.toExponential(1)} | ${pct(insufficient / NULL_WINDOWS, 1)} | ${maxEffect.toFixed(3)} |`);
    console.error(`null ${s.name} n=${n} done at ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
}

function flip(s: Scenario, model: ModelConfig, layout: PaneLayout): void {
  const u = mulberry32(SEED * 104_729);
  const n = 1000;
  let fired = 0;
  let univariateAny = 0;
  let firstFiring = Infinity;
  const effects: number[] = [];
  for (let w = 0; w < FLIP_WINDOWS; w++) {
    const pane = new Pane(layout, 0, 60_000);
    for (let i = 0; i < n; i++) pane.accept(s.row(u, -0.8), null, null, null);
    const e = evaluateWindow({ model, pane, windowName: 'w', windowStart: 0, windowEnd: 60_000, evaluatedAt: 0 });
    if (e.multivariate?.verdict === 'drift') {
      fired++;
      firstFiring = Math.min(firstFiring, w + 1);
    }
    if (Object.values(e.features).some((f) => f.drift)) univariateAny++;
    effects.push(e.multivariate?.effect ?? NaN);
  }
  effects.sort((a, b) => a - b);
  log(`| ${s.name} | ${n} | ${pct(fired / FLIP_WINDOWS, 1)} (${fired}/${FLIP_WINDOWS}) | ${firstFiring} | ${pct(univariateAny / FLIP_WINDOWS, 1)} (${univariateAny}) | ${effects[effects.length >> 1].toFixed(2)} |`);
}

log('# driftstream multivariate detection benchmark');
log(`references ${REFERENCE_ROWS} rows; budget ${BUDGET}; seed ${SEED}`);
log(`command: npx tsx bench/detection-multivariate.ts ${process.argv.slice(2).join(' ')}`.trimEnd());
const setups = [GAUSSIAN, MIXED].map((s, i) => {
  const model = modelOf(s);
  const layout = createPaneLayout(model, `ref-${s.name}`, referenceOf(s, mulberry32(SEED * 31 + i)));
  const mv = layout.profile.multivariate!;
  log(`- ${s.name}: ${mv.features.length} features, ${mv.components.length} components explain ${pct(mv.explained, 1)}; held-out error mean ${mv.error.mean.toFixed(3)}, sd ${Math.sqrt(mv.error.variance).toFixed(3)}`);
  return { s, model, layout };
});
log('');
log(`## No drift: ${NULL_WINDOWS} windows per n (MULTIVARIATE_DRIFT verdict)`);
log('');
log('| scenario | n | windows with a multivariate alarm | its level | insufficient | largest relative rise |');
log('|---|---|---|---|---|---|');
for (const { s, layout } of setups) nullRates(s, layout);
log('');
log(`## Correlation of two features flips from +0.8 to -0.8, marginals unchanged: ${FLIP_WINDOWS} windows`);
log('');
log('| scenario | n | MULTIVARIATE_DRIFT | first window firing | any univariate verdict | median relative rise |');
log('|---|---|---|---|---|---|');
for (const { s, model, layout } of setups) flip(s, model, layout);
log('');
log(`elapsed ${((Date.now() - t0) / 1000).toFixed(0)} s`);
