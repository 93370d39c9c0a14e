import { describe, expect, it } from 'vitest';
import { DELAY_GAMMA, PerformanceCounters, delayBin, delayBinValue } from '../../../../src/core/performance/counters.js';
import { summarizePerformance } from '../../../../src/core/performance/metrics.js';
import { toInferenceRecord, toLabelRecord, type PerformanceSpec } from '../../../../src/core/performance/records.js';
import { samplePerformance } from '../../../../src/core/performance/reference-performance.js';
import { paneStartOf } from '../../../../src/core/windows/window-spec.js';
import { binaryOracle, exactAuc, meanStd, multiclassOracle, quantile, regressionOracle, rng, type Pair } from './oracle.js';

const SCORE: PerformanceSpec = { kind: 'score', positiveClass: '1', decisionThreshold: 0.5 };

function scorePairs(n: number, seed: number, separation: number): Pair[] {
  const r = rng(seed);
  const out: Pair[] = [];
  for (let i = 0; i < n; i++) {
    const y = r() < 0.3;
    // Logistic of a shifted normal-ish variable: realistic, continuous scores.
    const z = (r() + r() + r() - 1.5) * 2 + (y ? separation : -separation);
    out.push({ score: 1 / (1 + Math.exp(-z)), prediction: null, label: y ? 1 : 0 });
  }
  return out;
}

function countersOf(pairs: Pair[], spec: PerformanceSpec, delays?: number[]): PerformanceCounters {
  const c = new PerformanceCounters();
  pairs.forEach((p, i) => {
    const r = toInferenceRecord({ eventId: `e${i}`, modelId: 'm', timestamp: 1_700_000_000_000, prediction: p.prediction, score: p.score }, spec, [60_000]);
    c.acceptPrediction(r);
    c.acceptLabel(r, toLabelRecord({ eventId: `e${i}`, modelId: 'm', timestamp: 1_700_000_000_000 + (delays?.[i] ?? 0), label: p.label }));
  });
  return c;
}

describe('binary classification metrics', () => {
  for (const [n, seed, sep] of [[200, 1, 0.5], [5000, 2, 1], [20000, 3, 0.1], [1000, 4, 3]] as const) {
    it(`match the pairs (n=${n}, separation=${sep})`, () => {
      const pairs = scorePairs(n, seed, sep);
      const s = summarizePerformance(countersOf(pairs, SCORE), 'score');
      const o = binaryOracle(pairs);
      expect(s.labelled).toBe(n);
      expect(s.predictions).toBe(n);
      expect(s.coverage).toBe(1);
      for (const k of ['accuracy', 'precision', 'recall', 'f1', 'brier'] as const) expect(s.metrics[k]).toBeCloseTo(o[k]!, 12);
      expect(Math.abs(s.metrics.rocAuc! - o.rocAuc!)).toBeLessThan(0.01);
      expect(Math.abs(s.metrics.rocAuc! - o.rocAuc!)).toBeLessThanOrEqual(s.metrics.rocAucErrorBound! + 1e-12);
    });
  }

  it('uses the configured positive class and labels of any type', () => {
    const spec: PerformanceSpec = { kind: 'score', positiveClass: 'fraud', decisionThreshold: 0.7 };
    const pairs: Pair[] = [
      { score: 0.9, prediction: null, label: 'fraud' },
      { score: 0.8, prediction: null, label: 'ok' },
      { score: 0.6, prediction: null, label: 'fraud' },
      { score: 0.1, prediction: null, label: 'ok' },
    ];
    const m = summarizePerformance(countersOf(pairs, spec), 'score').metrics;
    expect(m.precision).toBe(0.5);
    expect(m.recall).toBe(0.5);
    expect(m.accuracy).toBe(0.5);
    expect(m.rocAuc).toBe(0.75);
    const bools = summarizePerformance(countersOf([{ score: 0.9, prediction: null, label: true }, { score: 0.2, prediction: null, label: false }], SCORE), 'score');
    expect(bools.metrics.accuracy).toBe(1);
    expect(bools.metrics.rocAuc).toBe(1);
  });

  it('reads the predicted class when there is no score', () => {
    const pairs: Pair[] = [
      { score: null, prediction: 1, label: 1 },
      { score: null, prediction: '0', label: 1 },
      { score: null, prediction: 0, label: 0 },
    ];
    const m = summarizePerformance(countersOf(pairs, SCORE), 'score').metrics;
    expect(m.accuracy).toBeCloseTo(2 / 3, 12);
    expect(m.recall).toBe(0.5);
    expect(m.brier).toBeNull();
    expect(m.rocAuc).toBeNull();
  });

  it('gives null, never NaN, without data', () => {
    const s = summarizePerformance(new PerformanceCounters(), 'score');
    expect(s.coverage).toBeNull();
    for (const v of [...Object.values(s.metrics), ...Object.values(s.proxy)]) expect(v).toBeNull();
    expect(s.labelDelayP50Ms).toBeNull();
  });
});

it('the AUC error bound covers scores packed into a few bins', () => {
  const r = rng(17);
  // Scores within 0.004 of each other: four bins, many ties.
  const pairs: Pair[] = Array.from({ length: 4000 }, () => {
    const y = r() < 0.5;
    return { score: 0.5 + r() * 0.004 + (y ? 0.0005 : 0), prediction: null, label: y ? 1 : 0 };
  });
  const m = summarizePerformance(countersOf(pairs, SCORE), 'score').metrics;
  const exact = binaryOracle(pairs).rocAuc!;
  expect(m.rocAucErrorBound!).toBeGreaterThan(0.05);
  expect(Math.abs(m.rocAuc! - exact)).toBeLessThanOrEqual(m.rocAucErrorBound!);
});

describe('multi-class metrics', () => {
  it('match accuracy and macro-F1 of the pairs', () => {
    const r = rng(11);
    const classes = ['cat', 'dog', 'bird', 'fish'];
    const pairs: Pair[] = [];
    for (let i = 0; i < 3000; i++) {
      const label = classes[Math.floor(r() * 4)];
      const prediction = r() < 0.6 ? label : classes[Math.floor(r() * 4)];
      pairs.push({ score: null, prediction, label });
    }
    const spec: PerformanceSpec = { kind: 'class', positiveClass: 'cat', decisionThreshold: 0.5 };
    const m = summarizePerformance(countersOf(pairs, spec), 'class').metrics;
    const o = multiclassOracle(pairs);
    expect(m.accuracy).toBeCloseTo(o.accuracy!, 12);
    expect(m.macroF1).toBeCloseTo(o.macroF1!, 12);
    // One-vs-rest for the positive class.
    const ovr = binaryOracle(pairs.map((p) => ({ ...p, prediction: p.prediction === 'cat' ? '1' : '0', label: p.label === 'cat' ? '1' : '0' })));
    expect(m.precision).toBeCloseTo(ovr.precision!, 12);
    expect(m.recall).toBeCloseTo(ovr.recall!, 12);
    expect(m.f1).toBeCloseTo(ovr.f1!, 12);
  });
});

describe('regression metrics', () => {
  it('match MAE, RMSE and mean error of the pairs', () => {
    const r = rng(5);
    const pairs = Array.from({ length: 4000 }, () => {
      const label = r() * 100;
      return { prediction: label + (r() - 0.4) * 10, label };
    });
    const spec: PerformanceSpec = { kind: 'regression', positiveClass: '1', decisionThreshold: 0.5 };
    const s = summarizePerformance(countersOf(pairs.map((p) => ({ ...p, score: null })), spec), 'regression');
    const o = regressionOracle(pairs);
    expect(s.metrics.mae).toBeCloseTo(o.mae, 9);
    expect(s.metrics.rmse).toBeCloseTo(o.rmse, 9);
    expect(s.metrics.meanError).toBeCloseTo(o.meanError, 9);
    const ms = meanStd(pairs.map((p) => p.prediction));
    expect(s.proxy.predictionMean).toBeCloseTo(ms.mean, 9);
    expect(s.proxy.predictionStd).toBeCloseTo(ms.std, 9);
  });
});

describe('proxy metrics', () => {
  it('come from predictions alone', () => {
    const r = rng(9);
    const c = new PerformanceCounters();
    const scores: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const s = r();
      scores.push(s);
      c.acceptPrediction(toInferenceRecord({ eventId: `${i}`, modelId: 'm', timestamp: 0, prediction: null, score: s }, SCORE, [60_000]));
    }
    const s = summarizePerformance(c, 'score');
    expect(s.labelled).toBe(0);
    expect(s.coverage).toBe(0);
    const pos = scores.filter((x) => x >= 0.5).length / scores.length;
    expect(s.proxy.positiveRate).toBeCloseTo(pos, 12);
    const ms = meanStd(scores);
    expect(s.proxy.scoreMean).toBeCloseTo(ms.mean, 12);
    expect(s.proxy.scoreStd).toBeCloseTo(ms.std, 9);
    expect(s.proxy.predictionEntropy).toBeCloseTo(-(pos * Math.log(pos) + (1 - pos) * Math.log(1 - pos)), 12);
    const h = scores.reduce((a, p) => a - (p * Math.log(p) + (1 - p) * Math.log(1 - p)), 0) / scores.length;
    expect(s.proxy.meanScoreEntropy).toBeCloseTo(h, 9);
  });

  it('entropy of the predicted classes for class models', () => {
    const spec: PerformanceSpec = { kind: 'class', positiveClass: 'a', decisionThreshold: 0.5 };
    const c = new PerformanceCounters();
    ['a', 'a', 'b', 'c'].forEach((p, i) => c.acceptPrediction(toInferenceRecord({ eventId: `${i}`, modelId: 'm', timestamp: 0, prediction: p, score: null }, spec, [])));
    const e = -(0.5 * Math.log(0.5) + 2 * 0.25 * Math.log(0.25));
    expect(summarizePerformance(c, 'class').proxy.predictionEntropy).toBeCloseTo(e, 12);
    expect(summarizePerformance(c, 'class').proxy.positiveRate).toBe(0.5);
  });
});

describe('counters', () => {
  it('merge like one bag and round-trip through a field map', () => {
    const pairs = scorePairs(3000, 21, 1);
    const whole = countersOf(pairs, SCORE);
    const a = countersOf(pairs.slice(0, 1234), SCORE);
    const b = countersOf(pairs.slice(1234), SCORE);
    const merged = PerformanceCounters.fromJSON(JSON.parse(JSON.stringify(a))).merge(PerformanceCounters.fromJSON(b.toJSON()));
    const sw = summarizePerformance(whole, 'score');
    const sm = summarizePerformance(merged, 'score');
    expect(sm.labelled).toBe(sw.labelled);
    for (const k of Object.keys(sw.metrics)) expect(sm.metrics[k]).toBeCloseTo(sw.metrics[k]!, 12);
    // Redis returns strings.
    const strings = Object.fromEntries(Object.entries(whole.toJSON()).map(([k, v]) => [k, String(v)]));
    expect(summarizePerformance(PerformanceCounters.fromJSON(strings), 'score').metrics.rocAuc).toBe(sw.metrics.rocAuc);
  });

  it('label delay quantiles are within the bin error', () => {
    const r = rng(3);
    const pairs = scorePairs(2000, 7, 1);
    const delays = pairs.map(() => Math.floor(Math.exp(r() * 16)));
    const s = summarizePerformance(countersOf(pairs, SCORE, delays), 'score');
    const rel = (DELAY_GAMMA - 1) / (DELAY_GAMMA + 1) + 1e-9;
    for (const [q, got] of [[0.5, s.labelDelayP50Ms], [0.95, s.labelDelayP95Ms]] as const) {
      const exact = quantile(delays, q);
      expect(Math.abs(got! - exact)).toBeLessThanOrEqual(rel * exact + 1);
    }
  });

  it('delay bins cover their values', () => {
    for (const d of [1, 2, 17, 999, 60_000, 86_400_000, 604_800_000]) {
      const v = delayBinValue(delayBin(d));
      expect(Math.abs(v - d) / d).toBeLessThanOrEqual((DELAY_GAMMA - 1) / (DELAY_GAMMA + 1) + 1e-12);
    }
    expect(delayBin(0)).toBe(0);
    expect(delayBin(-5)).toBe(0);
  });

  it('pane starts align to the epoch', () => {
    expect(paneStartOf(1_700_000_012_345, 60_000)).toBe(1_699_999_980_000);
    expect(paneStartOf(125_000, 60_000)).toBe(120_000);
    expect(paneStartOf(120_000, 60_000)).toBe(120_000);
  });
});

describe('exact AUC oracle', () => {
  it('handles ties', () => {
    expect(exactAuc([0.5, 0.5], [true, false])).toBe(0.5);
    expect(exactAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBe(0.75);
  });
});

describe('samplePerformance', () => {
  it('summarizes a labelled reference sample', () => {
    const pairs = scorePairs(1000, 13, 1);
    const s = samplePerformance(pairs, SCORE);
    expect(s.labelled).toBe(1000);
    expect(s.metrics.accuracy).toBeCloseTo(binaryOracle(pairs).accuracy!, 12);
  });
});
