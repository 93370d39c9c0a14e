/** True where a Float64Array's bytes are little-endian (the byte order of the text form). */
const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

/**
 * The values as base64 of their little-endian IEEE 754 bytes: exact (every
 * bit, -0 and NaN payloads included) and about 11 characters a value,
 * against up to 24 for a double written as JSON. Undefined on a big-endian
 * platform (callers then write numbers).
 */
export function float64ToBase64(values: Float64Array): string | undefined {
  if (!LITTLE_ENDIAN) return undefined;
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

/** Reads what {@link float64ToBase64} wrote; throws TypeError when the text is not whole values. */
export function base64ToFloat64(text: string): Float64Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength % 8 !== 0) throw new TypeError('malformed base64 values: not a whole number of doubles');
  const out = new Float64Array(bytes.byteLength / 8);
  // The text's byte order is the platform's: the bytes are the values.
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(8 * i, true);
  return out;
}
