import { parseModelConfig, type ModelConfig } from '../../../../src/core/model/model-config.js';
import { ReferenceProfileBuilder, type ReferenceProfile } from '../../../../src/core/profile/reference-profile.js';
import { createPaneLayout, type PaneLayout } from '../../../../src/core/windows/pane-layout.js';
import { mulberry32 } from '../../../../src/core/random.js';

/** Deterministic pseudo-random numbers (mulberry32). */
export const rng = mulberry32;

export function normal(r: () => number): number {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

export const REGIONS = ['north', 'south', 'east', 'west'];

export interface Row {
  features: Record<string, number | string | null>;
  score: number;
  prediction: string;
}

/** A row of the test model: x ~ N(shift, 1), y ~ N(10, 2), region uniform (or skewed). */
export function row(r: () => number, opts: { shift?: number; skewRegion?: boolean } = {}): Row {
  const x = normal(r) + (opts.shift ?? 0);
  const y = 10 + 2 * normal(r);
  const region = opts.skewRegion ? (r() < 0.7 ? 'north' : REGIONS[Math.floor(r() * 4)]) : REGIONS[Math.floor(r() * 4)];
  const score = 1 / (1 + Math.exp(-x));
  return { features: { x, y, region }, score, prediction: score >= 0.5 ? '1' : '0' };
}

export function testModel(overrides: Record<string, unknown> = {}): ModelConfig {
  return parseModelConfig({
    modelId: 'm1',
    features: { x: 'numeric', y: 'numeric', region: 'categorical' },
    windows: [{ name: '10s', size: '10s' }, { name: '30s', size: '30s', slide: '10s' }],
    allowedLateness: '2s',
    resolveAfter: 2,
    ...overrides,
  });
}

export function testReference(n = 5000, seed = 1): ReferenceProfile {
  const b = new ReferenceProfileBuilder({ x: 'numeric', y: 'numeric', region: 'categorical', score: 'numeric', prediction: 'categorical' });
  const r = rng(seed);
  for (let i = 0; i < n; i++) {
    const e = row(r);
    b.accept({ ...e.features, score: e.score, prediction: e.prediction });
  }
  return b.build({ createdAt: 0, id: 'ref-1', modelId: 'm1' });
}

export function testLayout(model = testModel(), profile = testReference()): PaneLayout {
  return createPaneLayout(model, profile.id, profile);
}
