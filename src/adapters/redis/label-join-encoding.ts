import type { InferenceRecord, LabelRecord } from '../../core/performance/records.js';

/**
 * The compact stored forms of the Redis label join (the layout is described
 * in label-join-scripts.ts, which decodes them).
 */

const KIND_CODE = { score: 's', class: 'c', regression: 'r' } as const;

function murmur32(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    let k = Math.imul(s.charCodeAt(i), 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h ^= k;
    h = Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64;
  }
  h ^= s.length;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * 64 bits standing for an eventId: two independent 32-bit murmur3 hashes of
 * its UTF-16 code units. The first four bytes (big-endian) also address the
 * bucket. Two eventIds of one model share a fingerprint with a probability of
 * about n²/2⁶⁵ among n pending ones (3·10⁻⁸ at a million).
 */
export function eventFingerprint(eventId: string): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32BE(murmur32(eventId, 0x9747b28c), 0);
  b.writeUInt32BE(murmur32(eventId, 0x5bd1e995), 4);
  return b;
}

// Records of one model share their pane-lengths array, so the spec is built once per model, not per record.
const specCache = new WeakMap<readonly number[], Map<string, string>>();

/** What a model's records share, stored once per model (kind, positive class, pane lengths, and `o: "c"` when the score is the predicted class's confidence). */
export function specJsonOf(r: InferenceRecord): string {
  let byKind = specCache.get(r.paneSizes);
  if (!byKind) specCache.set(r.paneSizes, (byKind = new Map()));
  const k = `${r.kind}\u0000${r.scoreOf ?? ''}\u0000${r.positiveClass}`;
  let json = byKind.get(k);
  if (json === undefined) {
    json = JSON.stringify({ k: KIND_CODE[r.kind], p: r.positiveClass, z: r.paneSizes, ...(r.scoreOf === 'predictedClass' ? { o: 'c' } : {}) });
    byKind.set(k, json);
  }
  return json;
}

function scoreCode(score: number | null): { code: number; bytes: number } {
  if (score === null) return { code: 0, bytes: 0 };
  const k = Math.round(score * 10_000);
  return k / 10_000 === score ? { code: 1, bytes: 2 } : { code: 2, bytes: 8 };
}

function valueCode(value: number | null): { code: number; bytes: number } {
  if (value === null) return { code: 0, bytes: 0 };
  return Math.fround(value) === value ? { code: 1, bytes: 4 } : { code: 2, bytes: 8 };
}

const INT32 = 2 ** 31;

/**
 * An inference's entry without its spec id: flags, event time (ms from the
 * start of generation `generationStart` when it fits in 32 bits), score,
 * predicted value, predicted class. Values round-trip exactly.
 */
export function encodeInferenceEntry(r: InferenceRecord, generationStart: number): Buffer {
  const delta = r.timestamp - generationStart;
  const wide = !(Number.isInteger(delta) && delta >= -INT32 && delta < INT32);
  const score = scoreCode(r.score);
  const value = valueCode(r.predictedValue);
  const cls = r.predictedClass === null ? undefined : Buffer.from(r.predictedClass, 'utf8');
  const pp = r.predictedPositive === null ? 0 : r.predictedPositive + 1;
  const flags = pp | (score.code << 2) | (cls ? 16 : 0) | (value.code << 5) | (wide ? 128 : 0);
  const out = Buffer.allocUnsafe(1 + (wide ? 8 : 4) + score.bytes + value.bytes + (cls?.length ?? 0));
  out[0] = flags;
  let pos = 1;
  pos = wide ? out.writeDoubleLE(r.timestamp, pos) : out.writeInt32LE(delta, pos);
  if (score.code === 1) pos = out.writeUInt16LE(Math.round(r.score! * 10_000), pos);
  else if (score.code === 2) pos = out.writeDoubleLE(r.score!, pos);
  if (value.code === 1) pos = out.writeFloatLE(r.predictedValue!, pos);
  else if (value.code === 2) pos = out.writeDoubleLE(r.predictedValue!, pos);
  if (cls) cls.copy(out, pos);
  return out;
}

/** A waiting label's entry: `L`, event time, whether a numeric value follows, the value, the class. */
export function encodeLabelEntry(l: LabelRecord): Buffer {
  const cls = Buffer.from(l.labelClass, 'utf8');
  const hasValue = l.labelValue !== null;
  const out = Buffer.allocUnsafe(10 + (hasValue ? 8 : 0) + cls.length);
  out[0] = 0x4c;
  let pos = out.writeDoubleLE(l.timestamp, 1);
  out[pos++] = hasValue ? 1 : 0;
  if (hasValue) pos = out.writeDoubleLE(l.labelValue!, pos);
  cls.copy(out, pos);
  return out;
}
