import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { AvroBodyError, InferenceEventReader } from '../../../../src/adapters/registry/inference-event-reader.js';
import { loadSchema } from '../../../../src/adapters/registry/schemas.js';
import { gatherFeatures } from '../../../../src/core/windows/pane-layout.js';
import { DecodeError } from '../../../../src/errors.js';
import { stringChecksFor, validateInference } from '../../../../src/stream/validate-inference.js';
import { rng, testLayout } from '../../core/windows/fixtures.js';

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

describe('InferenceEventReader reading features into a pane layout', () => {
  // The layout of the test model: x and y numeric, region categorical.
  const layout = testLayout();
  const layoutOf = (modelId: string) => (modelId === 'm1' ? layout : undefined);
  const UNUSED = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];
  const ODD = [NaN, Infinity, 'text', true, 'nul\u0000', 'é'.repeat(40)];

  /** An event of model m1 (or another), with the used features sometimes missing or odd, and valid unused ones. */
  function event(r: () => number): Record<string, unknown> {
    const pick = <T>(a: readonly T[]) => a[Math.floor(r() * a.length)];
    const odd = () => r() < 0.05;
    const features: Record<string, unknown> = {};
    for (const f of UNUSED) if (r() < 0.6) features[r() < 0.02 ? `${f}\u0000` : f] = pick([null, (r() - 0.5) * 1e6, -0, 'west', 'w'.repeat(12), r() < 0.5]);
    for (const f of ['x', 'y']) if (r() < 0.85) features[f] = odd() ? pick(ODD) : r() < 0.1 ? null : (r() - 0.5) * 100;
    if (r() < 0.85) features.region = odd() ? pick(ODD) : pick([null, 'north', 'south', 3, false, -0]);
    // Map order is the writer's: mostly the same from event to event, sometimes shuffled.
    const entries = r() < 0.3 ? Object.entries(features).sort(() => r() - 0.5) : Object.entries(features);
    return {
      eventId: r() < 0.02 ? 'e\u0000' : `e-${Math.floor(r() * 1e9)}`,
      modelId: r() < 0.1 ? 'other' : 'm1',
      modelVersion: r() < 0.3 ? null : 'v1',
      timestamp: r() < 0.02 ? 5 : Date.UTC(2026, 0, 1) + Math.floor(r() * 1e6),
      features: Object.fromEntries(entries),
      prediction: r() < 0.3 ? null : r() < 0.5 ? r() : pick(['0', '1', 'p\u0000', 'p'.repeat(100)]),
      score: r() < 0.3 ? null : r(),
      attributes: r() < 0.5 ? {} : { seg: pick(['a', 'b', 'a\u0000', 's'.repeat(100)]) },
    };
  }

  /** What ingest makes of an event: refused with a reason, or counted with these features gathered and fields. */
  function ingestOutcome(reader: InferenceEventReader, buf: Buffer, max: number, target: boolean): unknown {
    try {
      const d = reader.read(buf, 0, target ? { layoutOf, maxStringBytes: max } : undefined);
      const ev = validateInference(d.value, max, stringChecksFor(d, buf.length, max));
      const l = layoutOf(ev.modelId);
      if (l === undefined) return { unknownModel: ev };
      const bad = d.gathered === l ? undefined : gatherFeatures(l, ev.features);
      if (bad !== undefined) return { mismatch: bad };
      const { features: _, ...fields } = ev;
      // Missing is missing: null and undefined count alike in a categorical summary.
      return { numeric: [...l.scratchNumeric], categorical: l.scratchCategorical.map((v) => v ?? null), fields };
    } catch (err) {
      if (err instanceof DecodeError) return { refused: err.reason, message: err.message };
      if (err instanceof AvroBodyError) return { avro: err.message };
      throw err;
    }
  }

  it('counts and refuses every event as reading it in full does, and reads most straight into the layout', () => {
    const r = rng(31);
    const reader = new InferenceEventReader();
    let gathered = 0;
    for (let i = 0; i < 5000; i++) {
      const e = event(r);
      const buf = type.toBuffer(e);
      const max = [16, 64, 1024][Math.floor(r() * 3)];
      expect(ingestOutcome(reader, buf, max, true), JSON.stringify(e)).toEqual(ingestOutcome(reader, buf, max, false));
      if (reader.read(buf, 0, { layoutOf, maxStringBytes: max }).gathered !== undefined) gathered++;
    }
    expect(gathered).toBeGreaterThan(2000);
  });

  it('skips the features the layout does not use, reads missing ones as missing, and reads other models in full', () => {
    const reader = new InferenceEventReader();
    const base = { eventId: 'e1', modelId: 'm1', modelVersion: 'v1', timestamp: Date.UTC(2026, 0, 1), prediction: '1', score: 0.7, attributes: { seg: 'a' } };
    const target = { layoutOf, maxStringBytes: 1024 };
    // Unused features are skipped unread, whatever they hold (they are not validated either).
    const buf = type.toBuffer({ ...base, features: { extra: NaN, y: 2.5, note: 'n\u0000'.repeat(600), flag: true, region: 'south', gone: null } });
    const d = reader.read(buf, 0, target);
    expect(d.gathered).toBe(layout);
    expect(d.nulFree).toBe(true);
    expect(d.value).toEqual({ ...base, features: {} });
    expect([...layout.scratchNumeric]).toEqual([NaN, 2.5]);
    expect(layout.scratchCategorical).toEqual(['south']);

    // Nothing left over from the event before: a feature not sent is missing.
    expect(reader.read(type.toBuffer({ ...base, features: { x: 1 } }), 0, target).gathered).toBe(layout);
    expect([...layout.scratchNumeric]).toEqual([1, NaN]);
    expect(layout.scratchCategorical).toEqual([null]);

    const other = reader.read(type.toBuffer({ ...base, modelId: 'other', features: { x: 1, extra: 2 } }), 0, target);
    expect(other.gathered).toBeUndefined();
    expect(other.value.features).toEqual({ x: 1, extra: 2 });

    // A used feature of the wrong type is read in full, so that ingest reports the mismatch.
    const wrong = reader.read(type.toBuffer({ ...base, features: { x: 'one', extra: 2 } }), 0, target);
    expect(wrong.gathered).toBeUndefined();
    expect(wrong.value.features).toEqual({ x: 'one', extra: 2 });
  });

  it('matches feature names by their place when the writer keeps its order, and reads a changed order or a NUL name right', () => {
    const reader = new InferenceEventReader();
    const target = { layoutOf, maxStringBytes: 1024 };
    const at = (features: Record<string, unknown>) => {
      const d = reader.read(type.toBuffer({ eventId: 'e', modelId: 'm1', modelVersion: null, timestamp: 1, features, prediction: null, score: null, attributes: {} }), 0, target);
      return d.gathered === undefined ? { full: d.value.features } : { numeric: [...layout.scratchNumeric], categorical: [...layout.scratchCategorical] };
    };
    expect(at({ x: 1, y: 2, region: 'a', extra: 3 })).toEqual({ numeric: [1, 2], categorical: ['a'] });
    expect(at({ x: 5, y: 6, region: 'b', extra: 3 })).toEqual({ numeric: [5, 6], categorical: ['b'] });
    // Same lengths, other names at the learned places.
    expect(at({ y: 7, x: 8, extra: 'e', region: 'c' })).toEqual({ numeric: [8, 7], categorical: ['c'] });
    expect(at({ y: 9, x: 10, extra: 'e', region: 'd' })).toEqual({ numeric: [10, 9], categorical: ['d'] });
    // A name with a NUL where `y` was learned: read in full, for validation to refuse.
    expect(at({ 'y\u0000': 1, x: 10, extra: 'e', region: 'd' })).toEqual({ full: { 'y\u0000': 1, x: 10, extra: 'e', region: 'd' } });
    expect(at({ 'y\u0000': 1, x: 10, extra: 'e', region: 'd' })).toEqual({ full: { 'y\u0000': 1, x: 10, extra: 'e', region: 'd' } });
    // An unused name where a used one was learned, and fewer entries.
    expect(at({ z: 1, x: 2 })).toEqual({ numeric: [2, NaN], categorical: [null] });
    expect(at({ x: 3 })).toEqual({ numeric: [3, NaN], categorical: [null] });
  });

  it('refuses a truncated body or trailing bytes as the full read does', () => {
    const r = rng(32);
    const reader = new InferenceEventReader();
    const target = { layoutOf, maxStringBytes: 1024 };
    for (let i = 0; i < 30; i++) {
      const buf = type.toBuffer({ ...event(r), modelId: 'm1' });
      for (let cut = 0; cut < buf.length; cut++) expect(() => reader.read(buf.subarray(0, cut), 0, target)).toThrow(AvroBodyError);
      expect(() => reader.read(Buffer.concat([buf, Buffer.from([0])]), 0, target)).toThrow('1 trailing bytes after the Avro body');
    }
  });
});
