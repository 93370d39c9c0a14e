import { ValidationError } from '../../errors.js';

/** Throws the model configuration's ValidationError (`MODEL_INVALID`), its message starting with the field's path. */
export function fail(field: string, message: string): never {
  throw new ValidationError(`${field}: ${message}`, { code: 'MODEL_INVALID' });
}

/** True for a plain object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `v` when it is a finite number in [min, max]; otherwise fails naming `field`. */
export function number(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) fail(field, `expected a number between ${min} and ${max}, got ${JSON.stringify(v)}`);
  return v;
}
