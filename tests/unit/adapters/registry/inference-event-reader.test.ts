import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { AvroBodyError, InferenceEventReader } from '../../../../src/adapters/registry/inference-event-reader.js';
import { loadSchema } from '../../../../src/adapters/registry/schemas.js';
import { rng } from '../../core/windows/fixtures.js';

const type = avro.Type.forSchema(loadSchema('InferenceEvent') as avro.Schema);
const STRINGS = ['', 'a', 'north', 'é', '日本', 'x'.repeat(47), 'y'.repeat(48), 'z'.repeat(49), 'emoji 🎯', 'nul\u0000inside', 'q'.repeat(300)];

function randomEvent(r: () => number): Record<string, unknown> {
  const pick = <T>(a: readonly T[]) => a[Math.floor(r() * a.length)];
  const features: Record<string, unknown> = {};
  const n = Math.floor(r() * 30);
  for (let i = 0; i < n; i++) {
    const kind = Math.floor(r() * 5);
    features[r() < 0.1 ? pick(STRINGS) : `f${i}`] = kind === 0 ? null : kind === 1 ? (r() - 0.5) * 10 ** Math.floor(r() * 20) : kind === 2 ? pick(STRINGS) : kind === 3 ? r() < 0.5 : -0;
  }
  const attributes: Record<string, string> = {};
  for (let i = 0; i < Math.floor(r() * 3); i++) attributes[pick(STRINGS)] = pick(STRINGS);
  return {
    eventId: r() < 0.2 ? pick(STRINGS) : `e-${Math.floor(r() * 1e9)}`,
    modelId: pick(['m', 'credit-risk', 'x'.repeat(60), 'm\u0000']),
    modelVersion: r() < 0.3 ? null : pick(STRINGS),
    timestamp: Math.floor(r() * 2 ** 53) * (r() < 0.1 ? -1 : 1),
    features,
    prediction: r() < 0.3 ? null : r() < 0.5 ? r() : pick(STRINGS),
    score: r() < 0.3 ? null : r(),
    attributes,
  };
}

function outcome(fn: () => unknown): unknown {
  try {
    return { ok: fn() };
  } catch (err) {
    return { error: true };
  }
}

function avsc(buf: Buffer): unknown {
  const res = type.decode(buf, 0);
  if (res.offset !== buf.length) throw new Error('not one event');
  return res.value;
}

describe('InferenceEventReader', () => {
  it('reads what avsc reads, and says whether any string holds a NUL', () => {
    const r = rng(21);
    const reader = new InferenceEventReader();
    for (let i = 0; i < 3000; i++) {
      const e = randomEvent(r);
      const buf = type.toBuffer(e);
      const { value, nulFree } = reader.read(buf, 0);
      expect(value).toEqual(avsc(buf));
      expect(Object.keys(value.features)).toEqual(Object.keys((avsc(buf) as { features: object }).features));
      expect(nulFree, JSON.stringify(e)).toBe(!JSON.stringify(e).includes('\\u0000'));
    }
  });

  it('reads the same bytes again to the same strings after other events filled its table', () => {
    const r = rng(22);
    const reader = new InferenceEventReader();
    const first = type.toBuffer(randomEvent(r));
    const before = structuredClone(reader.read(first, 0).value);
    for (let i = 0; i < 2000; i++) reader.read(type.toBuffer(randomEvent(r)), 0);
    expect(reader.read(first, 0).value).toEqual(before);
  });

  it('refuses every truncation and trailing bytes, as avsc does', () => {
    const r = rng(23);
    const reader = new InferenceEventReader();
    for (let i = 0; i < 40; i++) {
      const buf = type.toBuffer(randomEvent(r));
      for (let cut = 0; cut < buf.length; cut++) {
        const part = buf.subarray(0, cut);
        expect(() => reader.read(part, 0)).toThrow(AvroBodyError);
        expect(outcome(() => avsc(part))).toEqual({ error: true });
      }
      expect(() => reader.read(Buffer.concat([buf, Buffer.from([0])]), 0)).toThrow('1 trailing bytes after the Avro body');
    }
  });

  it('reads map blocks written with negative counts and byte sizes', () => {
    // eventId "e", modelId "m", modelVersion null, timestamp 1, features in two blocks (-1 with size, then 1), prediction null, score null, attributes {}.
    const str = (s: string) => Buffer.concat([Buffer.from([s.length * 2]), Buffer.from(s)]);
    const dbl = Buffer.alloc(8);
    dbl.writeDoubleLE(2.5);
    const entryA = Buffer.concat([str('a'), Buffer.from([2]), dbl]);
    const entryB = Buffer.concat([str('b'), Buffer.from([6, 1])]);
    const buf = Buffer.concat([str('e'), str('m'), Buffer.from([0, 2]), Buffer.from([1, entryA.length * 2]), entryA, Buffer.from([2]), entryB, Buffer.from([0, 0, 0, 0])]);
    const expected = { eventId: 'e', modelId: 'm', modelVersion: null, timestamp: 1, features: { a: 2.5, b: true }, prediction: null, score: null, attributes: {} };
    expect(avsc(buf)).toEqual(expected);
    expect(new InferenceEventReader().read(buf, 0).value).toEqual(expected);
  });

  it('refuses a union branch the schema does not have', () => {
    const buf = type.toBuffer({ eventId: 'e', modelId: 'm', modelVersion: null, timestamp: 1, features: {}, prediction: null, score: null, attributes: {} });
    buf[4] = 8; // modelVersion's branch index 4
    expect(() => new InferenceEventReader().read(buf, 0)).toThrow('invalid union index: 4');
  });
});
