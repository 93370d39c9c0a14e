/**
 * Broker errors that reject a record for what it is (its size, its format, a
 * topic policy) rather than for the broker's state: sending it again can
 * never succeed, so it must not be retried as an outage.
 */
const PERMANENT = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'INVALID_TIMESTAMP',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
  'POLICY_VIOLATION',
  'UNSUPPORTED_COMPRESSION_TYPE',
]);

/** The Kafka protocol error type when `err` (or an error it wraps) rejects the records permanently; undefined otherwise. */
export function permanentRejectionOf(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  const stack: unknown[] = [err];
  while (stack.length > 0) {
    const e = stack.pop();
    if (typeof e !== 'object' || e === null || seen.has(e)) continue;
    seen.add(e);
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string' && PERMANENT.has(type)) return type;
    stack.push((e as { cause?: unknown }).cause, (e as { originalError?: unknown }).originalError);
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors)) stack.push(...errors);
  }
  return undefined;
}

/** Bytes a record takes on the wire, near enough for chunking and limits (key, value, header names and values). */
export function recordBytes(m: { key?: Buffer | string | null; value: Buffer | string | null; headers?: Record<string, unknown> }): number {
  let n = 64 + byteLength(m.key) + byteLength(m.value);
  if (m.headers) {
    for (const [k, v] of Object.entries(m.headers)) {
      n += Buffer.byteLength(k) + 8;
      if (Array.isArray(v)) for (const x of v) n += byteLength(x as Buffer | string);
      else n += byteLength(v as Buffer | string | undefined);
    }
  }
  return n;
}

function byteLength(v: Buffer | string | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

/**
 * Splits records into sends of at most `maxBytes` each (a record larger than
 * that is sent alone), so one produce request never carries a batch the
 * broker refuses as a whole.
 */
export function chunkByBytes<T>(records: readonly T[], size: (r: T) => number, maxBytes: number): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const r of records) {
    const b = size(r);
    if (cur.length > 0 && bytes + b > maxBytes) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(r);
    bytes += b;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
