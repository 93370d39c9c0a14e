import { describe, expect, it } from 'vitest';
import { toInferenceEvent } from '../../../src/core/events.js';
import { EventCodec } from '../../../src/adapters/registry/event-codec.js';
import { stringChecksFor, validateInference } from '../../../src/stream/validate-inference.js';
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

  describe('string checks judged from the raw record', () => {
    const codec = new EventCodec({ registryUrl: 'http://127.0.0.1:9/none' });
    const STRINGS: ((v: Record<string, unknown>, s: string) => void)[] = [
      (v, s) => (v.eventId = `e${s}`),
      (v, s) => (v.modelId = `m${s}`),
      (v, s) => ((v.features as Record<string, unknown>)[`f${s}`] = 1),
      (v, s) => ((v.features as Record<string, unknown>).b = s),
      (v, s) => (v.prediction = s),
      (v, s) => ((v.attributes as Record<string, unknown>).seg = s),
    ];
    const PIECES = ['', 'x', '\u0000', 'a\u0000b', '\\u0000', '\\', 'é'.repeat(40), '\n', 'z'.repeat(90), '\u2028'];

    it('reject and accept exactly as checking every string', () => {
      const r = rng(9);
      for (let i = 0; i < 3000; i++) {
        const v = base() as Record<string, unknown>;
        const n = 1 + Math.floor(r() * 3);
        for (let k = 0; k < n; k++) STRINGS[Math.floor(r() * STRINGS.length)](v, PIECES[Math.floor(r() * PIECES.length)]);
        const raw = EventCodec.encodeJson(v);
        const max = [64, 128, 1024][Math.floor(r() * 3)];
        const fast = () => {
          const d = codec.decodeCached(raw)!;
          return validateInference(d.value, max, stringChecksFor(d, raw.length, max));
        };
        const full = () => validateInference(codec.decodeCached(raw)!.value, max);
        expect(outcome(fast), raw.toString()).toEqual(outcome(full));
      }
    });

    it('skip the NUL search only when the JSON text has no NUL escape, and the size check only for short records', () => {
      const clean = EventCodec.encodeJson(base());
      const d = codec.decodeCached(clean)!;
      expect(d.nulFree).toBe(true);
      expect(stringChecksFor(d, clean.length, 1024)).toBe(0);
      expect(stringChecksFor(d, 2000, 1024)).not.toBe(0);
      const nul = EventCodec.encodeJson({ ...base(), eventId: 'a\u0000' });
      expect(codec.decodeCached(nul)!.nulFree).toBe(false);
      expect(() => validateInference(codec.decodeCached(nul)!.value, 1024, stringChecksFor(codec.decodeCached(nul)!, nul.length, 1024))).toThrow('eventId contains a NUL character');
    });
  });
});
