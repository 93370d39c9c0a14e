import type { InferenceEvent } from '../core/events.js';
import { DecodeError } from '../errors.js';
import type { Decoded } from '../ports/value-decoder.js';

// The same bounds as src/core/events.ts (toInferenceEvent): epoch milliseconds between 2000 and 2200.
const MIN_TS = 946_684_800_000;
const MAX_TS = 7_258_118_400_000;
const EMPTY: Record<string, string> = Object.freeze({}) as Record<string, string>;

function invalid(message: string): never {
  throw new DecodeError('invalid_event', message);
}

/** Which per-string checks {@link validateInference} runs: both unless the raw record rules one out. */
export const CHECK_SIZE = 1;
export const CHECK_NUL = 2;
export const CHECK_STRINGS = CHECK_SIZE | CHECK_NUL;

/**
 * The per-string checks a record still needs, judged once from the record
 * instead of once per string: no string decoded from a value is longer in
 * UTF-8 than the value's raw bytes (Avro stores strings as raw UTF-8, JSON
 * escapes only lengthen them), and a decoder that saw no NUL in the raw
 * value says so (`nulFree`).
 */
export function stringChecksFor(decoded: Decoded, rawBytes: number, maxStringBytes: number): number {
  return (rawBytes > maxStringBytes ? CHECK_SIZE : 0) | (decoded.nulFree === true ? 0 : CHECK_NUL);
}

function id(o: Record<string, unknown>, field: 'eventId' | 'modelId', checks: number): void {
  const v = o[field];
  if (typeof v !== 'string' || v.length === 0) invalid(`${field} must be a non-empty string`);
  if (v.length > 256) invalid(`${field} is longer than 256 characters`);
  if (checks & CHECK_NUL && v.includes('\u0000')) throw new DecodeError('control_character', `${field} contains a NUL character`);
}

/**
 * A string value must fit `maxBytes` (UTF-8) and hold no NUL: PostgreSQL
 * cannot store one in a reference or history row, so it is refused here.
 */
function text(v: string, what: string, maxBytes: number, checks: number): void {
  // A UTF-16 unit is at most 3 UTF-8 bytes: only long strings need counting.
  if (checks & CHECK_SIZE && v.length * 3 > maxBytes && Buffer.byteLength(v) > maxBytes) {
    throw new DecodeError('value_too_long', `${what} is ${Buffer.byteLength(v)} bytes long, more than the limit of ${maxBytes}`);
  }
  if (checks & CHECK_NUL && v.includes('\u0000')) throw new DecodeError('control_character', `${what} contains a NUL character`);
}

function timestamp(v: unknown): number {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) invalid('timestamp must be finite epoch milliseconds');
  } else {
    if (typeof v === 'bigint') v = Number(v);
    else if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v)) v = Date.parse(v);
    else if (v instanceof Date) v = v.getTime();
    if (typeof v !== 'number' || !Number.isFinite(v) || !Number.isInteger(v)) invalid('timestamp must be finite epoch milliseconds');
  }
  if ((v as number) < MIN_TS || (v as number) > MAX_TS) invalid(`timestamp ${v} is not epoch milliseconds between 2000 and 2200`);
  return v as number;
}

/**
 * The hot-path twin of `toInferenceEvent`: the same checks and error
 * messages, but the freshly decoded value is normalized in place instead of
 * copied (no allocation per event or per feature). Only for values nobody
 * else holds, such as what the codec just decoded. `checks` may leave out the
 * string checks the raw record already ruled out ({@link stringChecksFor}).
 */
export function validateInference(value: unknown, maxStringBytes = Infinity, checks = CHECK_STRINGS): InferenceEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid('value must be an object');
  const o = value as Record<string, unknown>;
  id(o, 'eventId', checks);
  id(o, 'modelId', checks);
  o.timestamp = timestamp(o.timestamp);
  const mv = o.modelVersion;
  if (mv === undefined) o.modelVersion = null;
  else if (mv !== null && typeof mv !== 'string') invalid('modelVersion must be a string or null');
  let f = o.features;
  if (f === undefined || f === null) o.features = f = {};
  else if (typeof f !== 'object' || Array.isArray(f)) invalid('features must be an object');
  const features = f as Record<string, unknown>;
  for (const k in features) {
    if (checks & CHECK_NUL && k.includes('\u0000')) throw new DecodeError('control_character', 'a feature name contains a NUL character');
    const v = features[k];
    if (v === null || typeof v === 'boolean') continue;
    if (typeof v === 'string') {
      text(v, `feature ${k}`, maxStringBytes, checks);
      continue;
    }
    if (typeof v === 'number') {
      if (v - v !== 0) invalid(`feature ${k} is not a finite number`);
    } else if (v === undefined) features[k] = null;
    else invalid(`feature ${k} must be a number, string, boolean or null`);
  }
  const p = o.prediction;
  if (p === undefined) o.prediction = null;
  else if (typeof p === 'string') text(p, 'prediction', maxStringBytes, checks);
  else if (p !== null && !(typeof p === 'number' && p - p === 0)) invalid('prediction must be a finite number, a string or null');
  const s = o.score;
  if (s === undefined) o.score = null;
  else if (s !== null && !(typeof s === 'number' && s - s === 0)) invalid('score must be a finite number or null');
  const a = o.attributes;
  if (a === undefined || a === null) o.attributes = EMPTY;
  else {
    if (typeof a !== 'object' || Array.isArray(a)) invalid('attributes must be an object of strings');
    for (const k in a as Record<string, unknown>) {
      const av = (a as Record<string, unknown>)[k];
      if (typeof av !== 'string') invalid(`attribute ${k} must be a string`);
      text(av, `attribute ${k}`, maxStringBytes, checks);
    }
  }
  return o as unknown as InferenceEvent;
}
