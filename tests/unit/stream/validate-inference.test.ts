import { describe, expect, it } from 'vitest';
import { toInferenceEvent } from '../../../src/core/events.js';
import { validateInference } from '../../../src/stream/validate-inference.js';
import { rng } from '../core/windows/fixtures.js';

const T = 1_764_000_000_000;
const base = () => ({
  eventId: 'e1',
  modelId: 'm',
  modelVersion: 'v1',
  timestamp: T,
  features: { a: 1.5, b: 'x', c: true, d: null } as Record<string, unknown>,
  prediction: '1' as unknown,
  score: 0.7 as unknown,
  attributes: { seg: 'retail' } as Record<string, unknown>,
});

function setFeature(v: Record<string, unknown>, x: unknown): void {
  if (typeof v.features === 'object' && v.features !== null) (v.features as Record<string, unknown>).a = x;
}

const MUTATIONS: ((v: Record<string, unknown>) => void)[] = [
  () => {},
  (v) => delete v.eventId,
  (v) => (v.eventId = ''),
  (v) => (v.modelId = 'x'.repeat(300)),
  (v) => (v.modelId = 42),
  (v) => (v.timestamp = 1.5),
  (v) => (v.timestamp = Infinity),
  (v) => (v.timestamp = NaN),
  (v) => (v.timestamp = 12),
  (v) => (v.timestamp = '2026-01-01T00:00:00Z'),
  (v) => (v.timestamp = BigInt(T)),
  (v) => (v.timestamp = new Date(T)),
  (v) => (v.timestamp = 'yesterday'),
  (v) => delete v.timestamp,
  (v) => delete v.modelVersion,
  (v) => (v.modelVersion = 3),
  (v) => delete v.features,
  (v) => (v.features = null),
  (v) => (v.features = [1, 2]),
  (v) => setFeature(v, Infinity),
  (v) => setFeature(v, { x: 1 }),
  (v) => setFeature(v, undefined),
  (v) => delete v.prediction,
  (v) => (v.prediction = NaN),
  (v) => (v.prediction = 3),
  (v) => (v.prediction = {}),
  (v) => delete v.score,
  (v) => (v.score = '0.5'),
  (v) => (v.score = -Infinity),
  (v) => delete v.attributes,
  (v) => (v.attributes = { n: 1 }),
  (v) => (v.attributes = 'x'),
];

function outcome(fn: () => unknown): unknown {
  try {
    return { ok: structuredClone(fn()) };
  } catch (err) {
    return { error: (err as Error).message, reason: (err as { reason?: string }).reason };
  }
}

describe('validateInference', () => {
  it('accepts, rejects and normalizes exactly like toInferenceEvent', () => {
    const r = rng(5);
    for (let i = 0; i < 2000; i++) {
      const a = base();
      // One to three mutations, chosen at random.
      const n = 1 + Math.floor(r() * 3);
      for (let k = 0; k < n; k++) MUTATIONS[Math.floor(r() * MUTATIONS.length)](a);
      const b = structuredClone(a);
      expect(outcome(() => validateInference(b)), JSON.stringify(a, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))).toEqual(outcome(() => toInferenceEvent(a)));
    }
  });

  it('rejects what is not an object', () => {
    for (const v of [null, 3, 'x', [1]]) expect(() => validateInference(v)).toThrow('value must be an object');
  });
});
