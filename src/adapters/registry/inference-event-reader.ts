/**
 * A reader of Avro bodies written with the project's InferenceEvent schema
 * (schemas/InferenceEvent.avsc), for the hot path. It yields what avsc's
 * decoder yields for that schema, with two savings: the strings that repeat
 * from event to event (feature names, categories, model ids, classes,
 * attribute values) are taken from a small table of strings already seen
 * instead of being decoded and allocated again, and it notes on the way
 * whether any string holds a NUL byte, so the validator does not search each
 * one. Only used for a writer schema with the same fingerprint as the
 * project's; any other writer schema goes through avsc.
 *
 * Given the layout of the event's model ({@link InferenceEventReader.read}'s
 * `target`), it reads the features straight into the layout's scratch space
 * (as `gatherFeatures` would) and skips the features the layout does not use
 * without decoding them: no feature object, no boxed number per feature.
 */

import type { PaneLayout } from '../../core/windows/pane-layout.js';
import type { FeatureTarget } from '../../ports/value-decoder.js';

/** Strings at most this long are looked up in the table; longer ones are decoded. */
const INTERN_MAX_BYTES = 48;
const TABLE_BITS = 12;
const TABLE_SIZE = 1 << TABLE_BITS;

/** Thrown for a body that does not hold an InferenceEvent; the codec reports it as `avro_decode`. */
export class AvroBodyError extends Error {}

function truncated(): never {
  throw new AvroBodyError('truncated Avro body');
}

/** The decoded event, shaped as avsc returns it (maps as plain objects, unions unwrapped). */
export interface RawInferenceEvent {
  eventId: string;
  modelId: string;
  modelVersion: string | null;
  timestamp: number;
  features: Record<string, number | string | boolean | null>;
  prediction: number | string | null;
  score: number | null;
  attributes: Record<string, string>;
}

const NO_ATTRIBUTES: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** The features of an event read into its layout's scratch space: none are left in the event. */
const GATHERED: Record<string, never> = Object.freeze({}) as Record<string, never>;

/** The slot of a feature the layout does not use. */
const UNUSED = 0x40000000;
/** Feature names remembered by position, per layout. */
const MAX_LEARNED_KEYS = 1024;

/**
 * Where each feature a layout uses goes in its scratch space (`slots`: i >= 0
 * numeric i, -(j + 1) categorical j), and the feature names in the order the
 * last event of the model wrote them, with their slots: a writer sends its
 * map entries in the same order event after event, so a key is mostly matched
 * by its bytes at its position, without decoding or hashing it.
 */
interface FeaturePlan {
  readonly slots: Map<string, number>;
  readonly keys: (Buffer | undefined)[];
  readonly keySlots: number[];
}

const plans = new WeakMap<PaneLayout, FeaturePlan>();

function planOf(layout: PaneLayout): FeaturePlan {
  let plan = plans.get(layout);
  if (plan === undefined) {
    const slots = new Map<string, number>();
    layout.numericNames.forEach((n, i) => slots.set(n, i));
    layout.categoricalNames.forEach((n, j) => slots.set(n, -(j + 1)));
    plan = { slots, keys: [], keySlots: [] };
    plans.set(layout, plan);
  }
  return plan;
}

const EMPTY = Buffer.alloc(0);

/** One reader per codec; not reentrant (it keeps its position in fields), which the synchronous decode never needs. */
export class InferenceEventReader {
  private buf: Buffer = EMPTY;
  private pos = 0;
  private end = 0;
  /** True once a string of the current body held a NUL byte. */
  private nul = false;
  private readonly bytes: (Buffer | undefined)[] = new Array(TABLE_SIZE);
  private readonly strings: string[] = new Array(TABLE_SIZE);
  private readonly nuls = new Uint8Array(TABLE_SIZE);

  /**
   * Reads the body `buf[offset..]`; throws {@link AvroBodyError} when it is not exactly one event.
   * With `target`, an event whose model has a layout has its features read into that layout's
   * scratch space (`gathered`; `value.features` is then empty), provided nothing in it needs a
   * closer look: a feature of the wrong type, a number that is not finite, a feature string over
   * the limit or a NUL anywhere makes
   * it read in full instead, so validation finds and reports it as it would have. Features the
   * layout does not use are skipped unread (and so not validated).
   */
  read(buf: Buffer, offset: number, target?: FeatureTarget): { value: RawInferenceEvent; nulFree: boolean; gathered?: PaneLayout } {
    if (target !== undefined) {
      const gathered = this.readGathering(buf, offset, target);
      if (gathered !== undefined) return gathered;
    }
    this.buf = buf;
    this.pos = offset;
    this.end = buf.length;
    this.nul = false;
    const value: RawInferenceEvent = {
      eventId: this.string(false),
      modelId: this.string(true),
      modelVersion: this.union2() === 0 ? null : this.string(true),
      timestamp: this.safeLong(),
      features: this.features(),
      prediction: null,
      score: null,
      attributes: {},
    };
    const p = this.union3();
    value.prediction = p === 0 ? null : p === 1 ? this.double() : this.string(true);
    value.score = this.union2() === 0 ? null : this.double();
    value.attributes = this.attributes();
    if (this.pos !== this.end) throw new AvroBodyError(`${this.end - this.pos} trailing bytes after the Avro body`);
    this.buf = EMPTY;
    return { value, nulFree: !this.nul };
  }

  private readGathering(buf: Buffer, offset: number, target: FeatureTarget): { value: RawInferenceEvent; nulFree: true; gathered: PaneLayout } | undefined {
    this.buf = buf;
    this.pos = offset;
    this.end = buf.length;
    this.nul = false;
    try {
      const eventId = this.string(false);
      const modelId = this.string(true);
      const layout = target.layoutOf(modelId);
      if (layout === undefined) return undefined;
      const modelVersion = this.union2() === 0 ? null : this.string(true);
      const timestamp = this.safeLong();
      if (!this.gather(layout, target.maxStringBytes)) return undefined;
      const p = this.union3();
      const prediction = p === 0 ? null : p === 1 ? this.double() : this.string(true);
      const score = this.union2() === 0 ? null : this.double();
      const attributes = this.attributes(true);
      if (this.pos !== this.end || this.nul) return undefined;
      return { value: { eventId, modelId, modelVersion, timestamp, features: GATHERED, prediction, score, attributes }, nulFree: true, gathered: layout };
    } catch (err) {
      // The full read reports what is wrong with the body, as without a layout.
      if (err instanceof AvroBodyError) return undefined;
      throw err;
    } finally {
      this.buf = EMPTY;
    }
  }

  /** Reads the features map into the layout's scratch space; false when the event needs the full read. */
  private gather(layout: PaneLayout, maxStringBytes: number): boolean {
    const plan = planOf(layout);
    const num = layout.scratchNumeric;
    const cat = layout.scratchCategorical;
    num.fill(NaN);
    cat.fill(null);
    let k = 0;
    for (let n = this.blockSize(); n > 0; n = this.blockSize()) {
      for (; n > 0; n--, k++) {
        const slot = this.featureSlot(plan, k);
        const branch = this.long();
        if (slot === UNUSED) this.skipFeature(branch);
        else if (slot >= 0) {
          if (branch === 1) {
            const v = this.double();
            if (v - v !== 0) return false;
            num[slot] = v;
          } else if (branch === 0) num[slot] = NaN;
          else return false;
        } else if (branch === 0) cat[-slot - 1] = null;
        else if (branch === 2) {
          const v = this.string(true);
          if (v.length * 3 > maxStringBytes && Buffer.byteLength(v) > maxStringBytes) return false;
          cat[-slot - 1] = v;
        }
        else if (branch === 1) {
          const v = this.double();
          if (v - v !== 0) return false;
          cat[-slot - 1] = v;
        } else if (branch === 3) cat[-slot - 1] = this.boolean();
        else return false;
      }
    }
    return true;
  }

  /** The slot of the k-th feature name of the map: matched by its bytes against the last event's k-th name, else decoded and looked up. */
  private featureSlot(plan: FeaturePlan, k: number): number {
    const len = this.long();
    const start = this.pos;
    if (len < 0 || start + len > this.end) truncated();
    const known = plan.keys[k];
    if (known !== undefined && known.length === len && sameBytes(known, this.buf, start, len)) {
      this.pos = start + len;
      return plan.keySlots[k];
    }
    const key = this.stringBody(start, len, true);
    const slot = plan.slots.get(key) ?? UNUSED;
    // A name with a NUL makes the event read in full: it is never matched by its bytes.
    if (k < MAX_LEARNED_KEYS && !hasZero(this.buf, start, len)) {
      plan.keys[k] = Buffer.from(this.buf.subarray(start, start + len));
      plan.keySlots[k] = slot;
    }
    return slot;
  }

  /** Moves past a feature value the layout does not use. */
  private skipFeature(branch: number): void {
    let len: number;
    if (branch === 0) return;
    else if (branch === 1) len = 8;
    else if (branch === 2) {
      len = this.long();
      if (len < 0) truncated();
    } else if (branch === 3) len = 1;
    else throw new AvroBodyError(`invalid union index: ${branch}`);
    if (this.pos + len > this.end) truncated();
    this.pos += len;
  }

  private features(): Record<string, number | string | boolean | null> {
    const out: Record<string, number | string | boolean | null> = {};
    for (let n = this.blockSize(); n > 0; n = this.blockSize()) {
      for (; n > 0; n--) {
        const key = this.string(true);
        const branch = this.long();
        if (branch === 0) out[key] = null;
        else if (branch === 1) out[key] = this.double();
        else if (branch === 2) out[key] = this.string(true);
        else if (branch === 3) out[key] = this.boolean();
        else throw new AvroBodyError(`invalid union index: ${branch}`);
      }
    }
    return out;
  }

  /** The attributes map; `shareEmpty`: an empty one is a shared frozen object (nothing to allocate per event). */
  private attributes(shareEmpty = false): Record<string, string> {
    let n = this.blockSize();
    if (n === 0 && shareEmpty) return NO_ATTRIBUTES;
    const out: Record<string, string> = {};
    for (; n > 0; n = this.blockSize()) {
      for (; n > 0; n--) {
        const key = this.string(true);
        out[key] = this.string(true);
      }
    }
    return out;
  }

  /** A map block's item count; a negative count is followed by the block's size in bytes, skipped. */
  private blockSize(): number {
    const n = this.long();
    if (n >= 0) return n;
    this.long();
    return -n;
  }

  private union2(): number {
    const i = this.long();
    if (i !== 0 && i !== 1) throw new AvroBodyError(`invalid union index: ${i}`);
    return i;
  }

  private union3(): number {
    const i = this.long();
    if (i !== 0 && i !== 1 && i !== 2) throw new AvroBodyError(`invalid union index: ${i}`);
    return i;
  }

  private boolean(): boolean {
    if (this.pos >= this.end) truncated();
    return this.buf[this.pos++] !== 0;
  }

  private double(): number {
    const p = this.pos;
    if (p + 8 > this.end) truncated();
    this.pos = p + 8;
    return this.buf.readDoubleLE(p);
  }

  private safeLong(): number {
    const n = this.long();
    if (!Number.isSafeInteger(n)) throw new AvroBodyError('potential precision loss');
    return n;
  }

  /** A zig-zag varint, as avsc reads it (integer arithmetic for 4 bytes, floating point past them). */
  private long(): number {
    const buf = this.buf;
    let n = 0;
    let k = 0;
    let b: number;
    do {
      if (this.pos >= this.end) truncated();
      b = buf[this.pos++];
      n |= (b & 0x7f) << k;
      k += 7;
    } while (b & 0x80 && k < 28);
    if (b & 0x80) {
      let f = n;
      let fk = 268435456;
      do {
        if (this.pos >= this.end || fk > 2 ** 70) truncated();
        b = buf[this.pos++];
        f += (b & 0x7f) * fk;
        fk *= 128;
      } while (b & 0x80);
      return (f % 2 ? -(f + 1) : f) / 2;
    }
    return (n >> 1) ^ -(n & 1);
  }

  private string(intern: boolean): string {
    const len = this.long();
    const start = this.pos;
    if (len < 0 || start + len > this.end) truncated();
    return this.stringBody(start, len, intern);
  }

  /** The string of `len` bytes at `start` (its length already read and checked). */
  private stringBody(start: number, len: number, intern: boolean): string {
    this.pos = start + len;
    const buf = this.buf;
    if (!intern || len > INTERN_MAX_BYTES) {
      if (hasZero(buf, start, len)) this.nul = true;
      return buf.toString('utf8', start, start + len);
    }
    // FNV-1a over the bytes picks the slot; the slot holds the last string that hashed there.
    let h = 0x811c9dc5 ^ len;
    for (let i = start; i < start + len; i++) h = Math.imul(h ^ buf[i], 0x01000193);
    const slot = (h ^ (h >>> TABLE_BITS)) & (TABLE_SIZE - 1);
    const known = this.bytes[slot];
    if (known !== undefined && known.length === len && sameBytes(known, buf, start, len)) {
      if (this.nuls[slot] === 1) this.nul = true;
      return this.strings[slot];
    }
    const copy = Buffer.from(buf.subarray(start, start + len));
    const s = copy.toString('utf8');
    const hasNul = copy.indexOf(0) !== -1;
    if (hasNul) this.nul = true;
    this.bytes[slot] = copy;
    this.strings[slot] = s;
    this.nuls[slot] = hasNul ? 1 : 0;
    return s;
  }
}

function hasZero(buf: Buffer, start: number, len: number): boolean {
  if (len > INTERN_MAX_BYTES) {
    const at = buf.indexOf(0, start);
    return at !== -1 && at < start + len;
  }
  for (let i = start; i < start + len; i++) if (buf[i] === 0) return true;
  return false;
}

function sameBytes(known: Buffer, buf: Buffer, start: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (known[i] !== buf[start + i]) return false;
  return true;
}
