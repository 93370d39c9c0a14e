import type { InferenceRecord, LabelRecord } from '../../core/performance/records.js';

/**
 * The compact stored forms of the Redis label join (the layout is described
 * in label-join-scripts.ts, which decodes them).
 */

const KIND_CODE = { score: 's', class: 'c', regression: 'r' } as const;

/** Two 32-bit murmur3 hashes of a string's UTF-16 code units, seeds 0x9747b28c and 0x5bd1e995, written big-endian at `pos`. */
function writeMurmurPair(s: string, out: Buffer, pos: number): void {
  let h1 = 0x9747b28c;
  let h2 = 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    let k = Math.imul(s.charCodeAt(i), 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h1 ^= k;
    h1 = Math.imul((h1 << 13) | (h1 >>> 19), 5) + 0xe6546b64;
    h2 ^= k;
    h2 = Math.imul((h2 << 13) | (h2 >>> 19), 5) + 0xe6546b64;
  }
  out.writeUInt32BE(fmix(h1 ^ s.length), pos);
  out.writeUInt32BE(fmix(h2 ^ s.length), pos + 4);
}

function fmix(h: number): number {
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
  writeMurmurPair(eventId, b, 0);
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

/** Bytes of an event in a chunk besides its entry: the fingerprint and the entry's length. */
const EVENT_HEAD = 12;

interface InferenceLayout {
  flags: number;
  wide: boolean;
  score: { code: number; bytes: number };
  value: { code: number; bytes: number };
  classBytes: number;
  size: number;
}

function inferenceLayout(r: InferenceRecord, generationStart: number): InferenceLayout {
  const delta = r.timestamp - generationStart;
  const wide = !(Number.isInteger(delta) && delta >= -INT32 && delta < INT32);
  const score = scoreCode(r.score);
  const value = valueCode(r.predictedValue);
  const classBytes = r.predictedClass === null ? -1 : Buffer.byteLength(r.predictedClass, 'utf8');
  const pp = r.predictedPositive === null ? 0 : r.predictedPositive + 1;
  const flags = pp | (score.code << 2) | (classBytes >= 0 ? 16 : 0) | (value.code << 5) | (wide ? 128 : 0);
  return { flags, wide, score, value, classBytes, size: 1 + (wide ? 8 : 4) + score.bytes + value.bytes + Math.max(0, classBytes) };
}

function writeInferenceEntry(r: InferenceRecord, generationStart: number, l: InferenceLayout, out: Buffer, pos: number): number {
  out[pos++] = l.flags;
  pos = l.wide ? out.writeDoubleLE(r.timestamp, pos) : out.writeInt32LE(r.timestamp - generationStart, pos);
  if (l.score.code === 1) pos = out.writeUInt16LE(Math.round(r.score! * 10_000), pos);
  else if (l.score.code === 2) pos = out.writeDoubleLE(r.score!, pos);
  if (l.value.code === 1) pos = out.writeFloatLE(r.predictedValue!, pos);
  else if (l.value.code === 2) pos = out.writeDoubleLE(r.predictedValue!, pos);
  if (l.classBytes > 0) pos += out.write(r.predictedClass!, pos, 'utf8');
  return pos;
}

/**
 * An inference's entry without its spec id: flags, event time (ms from the
 * start of generation `generationStart` when it fits in 32 bits), score,
 * predicted value, predicted class. Values round-trip exactly.
 */
export function encodeInferenceEntry(r: InferenceRecord, generationStart: number): Buffer {
  const l = inferenceLayout(r, generationStart);
  const out = Buffer.allocUnsafe(l.size);
  writeInferenceEntry(r, generationStart, l, out, 0);
  return out;
}

function labelEntrySize(l: LabelRecord, classBytes: number): number {
  return 10 + (l.labelValue !== null ? 8 : 0) + classBytes;
}

function writeLabelEntry(l: LabelRecord, out: Buffer, pos: number): number {
  out[pos] = 0x4c;
  pos = out.writeDoubleLE(l.timestamp, pos + 1);
  const hasValue = l.labelValue !== null;
  out[pos++] = hasValue ? 1 : 0;
  if (hasValue) pos = out.writeDoubleLE(l.labelValue!, pos);
  return pos + out.write(l.labelClass, pos, 'utf8');
}

/** A waiting label's entry: `L`, event time, whether a numeric value follows, the value, the class. */
export function encodeLabelEntry(l: LabelRecord): Buffer {
  const out = Buffer.allocUnsafe(labelEntrySize(l, Buffer.byteLength(l.labelClass, 'utf8')));
  writeLabelEntry(l, out, 0);
  return out;
}

/**
 * Events `[from, to)` of a list as one script argument, one buffer for the
 * whole chunk: per event its fingerprint (8 bytes), the length of its entry
 * (uint32 LE) and the entry. Lua reads it with struct.unpack and string.sub,
 * so a chunk is one bulk string on the wire and in Redis, not two per event.
 */
function encodeChunk<T extends { eventId: string }, S>(
  items: readonly T[],
  from: number,
  to: number,
  measure: (item: T) => S & { size: number },
  write: (item: T, layout: S, out: Buffer, pos: number) => number,
): Buffer {
  const layouts = new Array<S & { size: number }>(to - from);
  let total = 0;
  for (let i = from; i < to; i++) {
    const l = measure(items[i]);
    layouts[i - from] = l;
    total += EVENT_HEAD + l.size;
  }
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  for (let i = from; i < to; i++) {
    const item = items[i];
    const l = layouts[i - from];
    writeMurmurPair(item.eventId, out, pos);
    out.writeUInt32LE(l.size, pos + 8);
    pos = write(item, l, out, pos + EVENT_HEAD);
  }
  return out;
}

/** Inferences `[from, to)` as one chunk argument (entries without the spec id). */
export function encodeInferenceChunk(records: readonly InferenceRecord[], from: number, to: number, generationStart: number): Buffer {
  return encodeChunk(
    records,
    from,
    to,
    (r) => inferenceLayout(r, generationStart),
    (r, l, out, pos) => writeInferenceEntry(r, generationStart, l, out, pos),
  );
}

/** Labels `[from, to)` as one chunk argument; nothing is allocated per label. */
export function encodeLabelChunk(labels: readonly LabelRecord[], from: number, to: number): Buffer {
  let total = 0;
  for (let i = from; i < to; i++) total += EVENT_HEAD + labelEntrySize(labels[i], Buffer.byteLength(labels[i].labelClass, 'utf8'));
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  for (let i = from; i < to; i++) {
    const l = labels[i];
    writeMurmurPair(l.eventId, out, pos);
    const end = writeLabelEntry(l, out, pos + EVENT_HEAD);
    out.writeUInt32LE(end - pos - EVENT_HEAD, pos + 8);
    pos = end;
  }
  return out;
}
