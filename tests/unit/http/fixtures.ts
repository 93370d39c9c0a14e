import { Writable } from 'node:stream';
import type { Config } from '../../../src/config/config.js';
import { loadConfig } from '../../../src/config/config.js';
import type { Evaluation, FeatureResult, Severity } from '../../../src/core/drift/types.js';
import type { DriftAlert } from '../../../src/core/events.js';
import { MemoryModelRepository, MemoryResultRepository } from '../../../src/adapters/memory/index.js';
import { buildApp } from '../../../src/http/app.js';
import type { HttpDeps } from '../../../src/http/deps.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';

export const MINUTE = 60_000;
/** 2026-01-01T00:00:00Z: fixed so pages and answers are deterministic. */
export const T0 = Date.UTC(2026, 0, 1);

export const KEYS = { admin: 'admin-key-0123456789', editor: 'editor-key-0123456789', reader: 'reader-key-0123456789' };

export function httpConfig(env: Record<string, string> = {}): Config['http'] {
  return loadConfig({
    DRIFTSTREAM_API_KEYS: `admin:${KEYS.admin},editor:${KEYS.editor},reader:${KEYS.reader}`,
    ...env,
  }).http;
}

export const CREDIT_MODEL = {
  modelId: 'credit-risk',
  features: { age: 'numeric', income: 'numeric', region: 'categorical' },
  prediction: 'score',
  positiveClass: '1',
  windows: [{ name: '1m', size: '1m' }, { name: '1h', size: '1h', slide: '5m' }],
  minSamples: 100,
};

const AGE_EDGES = [23, 27, 31, 35, 39, 43, 47, 52, 58];
const INCOME_EDGES = [21000, 28000, 34000, 39000, 44000, 50000, 57000, 66000, 80000];
const REGIONS = ['north', 'south', 'east', 'west'];

/** A reference profile in the src/core/profile layout (formatVersion 1). */
export function creditProfile(id = 'ref-credit-1') {
  const digest = { c: 200, x: 0, n: 0, m: [], w: [] };
  return {
    formatVersion: 1,
    id,
    modelId: 'credit-risk',
    version: 1,
    createdAt: T0 - 86_400_000,
    rows: 5000,
    features: {
      age: { type: 'numeric', count: 5000, missing: 0, missingRate: 0, edges: AGE_EDGES, counts: Array(10).fill(500), digest, min: 18, max: 79, mean: 40.2, std: 11.9 },
      income: { type: 'numeric', count: 4950, missing: 50, missingRate: 0.01, edges: INCOME_EDGES, counts: Array(10).fill(495), digest, min: 9000, max: 190000, mean: 47000, std: 21000 },
      region: { type: 'categorical', count: 5000, missing: 0, missingRate: 0, topK: 1000, categories: { north: 1600, south: 1400, east: 1200, west: 800 } },
    },
  };
}

function numericResult(psi: number, severity: Severity, current: number[], edges: number[]): FeatureResult {
  return {
    type: 'numeric',
    nReference: 5000,
    nCurrent: 1000,
    missing: 0,
    missingRate: 0,
    psi,
    ks: { statistic: Math.min(0.9, psi / 2), pValue: severity === 'NONE' ? 0.4 : 1e-9, errorBound: 0.005 },
    wassersteinNormed: psi / 3,
    jensenShannon: Math.sqrt(psi) / 4,
    hellinger: Math.sqrt(psi) / 4.2,
    drift: severity !== 'NONE',
    severity,
    verdict: {
      verdict: severity === 'NONE' ? 'insufficient' : 'drift',
      test: 'location',
      pValue: severity === 'NONE' ? 0.4 : 1e-9,
      level: 1e-5,
      metric: 'wasserstein',
      effect: psi / 2,
      floor: { warning: 0.1, critical: 0.2 },
      n: 1000,
      mde: severity === 'NONE' ? null : 0.08,
      ...(severity === 'NONE' ? { nNeeded: 4000 } : {}),
      tests: { location: severity === 'NONE' ? 0.4 : 1e-9, ks: 0.5 },
    },
    histogram: { edges, reference: Array(10).fill(0.1), current },
  };
}

/** Ten 1m evaluations; `income` drifts (CRITICAL) in the last four, `age` gets a WARNING in the last one. */
export function creditEvaluations(count = 10): Evaluation[] {
  const out: Evaluation[] = [];
  for (let i = 0; i < count; i++) {
    const start = T0 + i * MINUTE;
    const drifting = i >= count - 4;
    const shift = drifting ? 0.05 * (i - (count - 5)) : 0;
    const incomeCurrent = drifting
      ? [0.01, 0.02, 0.03, 0.04, 0.05, 0.1, 0.15, 0.2, 0.2, 0.2]
      : [0.1, 0.09, 0.11, 0.1, 0.1, 0.1, 0.1, 0.1, 0.11, 0.09];
    const incomePsi = drifting ? 0.45 + shift : 0.01 + 0.001 * i;
    const ageWarn = i === count - 1;
    out.push({
      evaluationId: `credit-risk|1m|${start}`,
      modelId: 'credit-risk',
      modelVersion: 'v3',
      windowName: '1m',
      windowStart: start,
      windowEnd: start + MINUTE,
      sampleSize: 1000,
      referenceId: 'ref-credit-1',
      evaluatedAt: start + MINUTE + 31_000,
      datasetDrift: { share: (drifting ? 1 : 0) / 3 + (ageWarn ? 1 / 3 : 0), drift: ageWarn },
      features: {
        age: numericResult(ageWarn ? 0.14 : 0.02, ageWarn ? 'WARNING' : 'NONE', ageWarn ? [0.05, 0.06, 0.08, 0.1, 0.1, 0.11, 0.12, 0.12, 0.13, 0.13] : Array(10).fill(0.1), AGE_EDGES),
        income: numericResult(incomePsi, drifting ? 'CRITICAL' : 'NONE', incomeCurrent, INCOME_EDGES),
        region: {
          type: 'categorical',
          nReference: 5000,
          nCurrent: 1000,
          missing: 0,
          missingRate: 0,
          psi: 0.004,
          chiSquare: { statistic: 2.1, pValue: 0.55, dof: 3 },
          jensenShannon: 0.02,
          hellinger: 0.018,
          drift: false,
          severity: 'NONE',
          verdict: { verdict: 'insufficient', test: 'categoryShare', pValue: 0.55, level: 1e-5, metric: 'totalVariation', effect: 0, floor: { warning: 0.1, critical: 0.2 }, n: 1000, mde: null, nNeeded: null, tests: { categoryShare: 0.55, chiSquare: 0.55 } },
          histogram: { categories: REGIONS, reference: [0.32, 0.28, 0.24, 0.16], current: [0.3, 0.3, 0.24, 0.16] },
        },
      },
      proxy: { positiveRate: 0.12 + (drifting ? 0.08 : 0), scoreMean: 0.2, scoreStd: 0.1 },
      performance: { labelled: 600, predictions: 1000, coverage: 0.6, metrics: { accuracy: drifting ? 0.81 : 0.9, auc: drifting ? 0.77 : 0.88 } },
      estimatedPerformance: {
        status: 'estimated',
        n: 1000,
        confusion: { tp: 100, fp: 40, fn: 50, tn: 810 },
        metrics: { accuracy: drifting ? 0.83 : 0.91, precision: 0.71, recall: 0.67, f1: 0.69, rocAuc: drifting ? 0.78 : 0.87 },
        standardError: { accuracy: 0.01, precision: 0.04, recall: 0.04, f1: 0.03, rocAuc: 0.02 },
        interval: { accuracy: drifting ? [0.81, 0.85] : [0.89, 0.93], precision: null, recall: null, f1: null, rocAuc: null },
        calibration: { labelled: 5000, calibrationError: 0.012 },
      },
      alertable: true,
    });
  }
  return out;
}

export function creditAlerts(): DriftAlert[] {
  const base = {
    modelId: 'credit-risk',
    modelVersion: 'v3',
    kind: 'FEATURE_DRIFT' as const,
    statistic: 'psi',
    windowName: '1m',
    sampleSize: 1000,
    referenceId: 'ref-credit-1',
    details: {},
  };
  return [
    { ...base, alertId: 'a-income', feature: 'income', value: 0.45, threshold: 0.25, severity: 'CRITICAL', status: 'FIRING', windowStart: T0 + 6 * MINUTE, windowEnd: T0 + 7 * MINUTE, detectedAt: T0 + 7 * MINUTE + 31_000 },
    { ...base, alertId: 'a-age', feature: 'age', value: 0.14, threshold: 0.1, severity: 'WARNING', status: 'FIRING', windowStart: T0 + 9 * MINUTE, windowEnd: T0 + 10 * MINUTE, detectedAt: T0 + 10 * MINUTE + 31_000 },
    { ...base, alertId: 'a-old', feature: 'region', statistic: 'chi_square', value: 0.12, threshold: 0.1, severity: 'WARNING', status: 'RESOLVED', windowStart: T0 - 60 * MINUTE, windowEnd: T0 - 59 * MINUTE, detectedAt: T0 - 50 * MINUTE },
  ];
}

/** Collects log lines for assertions (redaction, request ids). */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    cb();
  }
}

export interface TestApp {
  app: Awaited<ReturnType<typeof buildApp>>;
  models: MemoryModelRepository;
  results: MemoryResultRepository;
  deps: HttpDeps;
  logs: LogCapture;
}

/** An app over memory repositories seeded with the credit-risk model, its reference, evaluations and alerts. */
export async function seededApp(overrides: Partial<HttpDeps> = {}, env: Record<string, string> = {}, seed = true): Promise<TestApp> {
  const models = new MemoryModelRepository();
  const results = new MemoryResultRepository();
  if (seed) {
    await models.putModel(CREDIT_MODEL);
    await models.addReference('credit-risk', 'ref-credit-1', creditProfile());
    await results.saveEvaluations(creditEvaluations());
    await results.saveAlerts(creditAlerts());
  }
  const logs = new LogCapture();
  const deps: HttpDeps = {
    config: httpConfig(env),
    models,
    results,
    healthChecks: [],
    metrics: createMetrics({ defaultMetrics: false }),
    logger: createLogger('info', logs),
    now: () => T0 + 3_600_000,
    ...overrides,
  };
  const app = await buildApp(deps);
  return { app, models, results, deps, logs };
}
