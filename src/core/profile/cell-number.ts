/** A cell of a sample: typed (Parquet, Arrow, JSON) or text (CSV). */
export type CellValue = string | number | boolean | null | undefined;

// A plain decimal or scientific number; excludes hex, "Infinity" and blanks,
// which Number() would accept.
const NUMERIC_RE = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** The number a cell holds: null when missing, undefined when it is text. */
export function cellNumber(v: CellValue): number | null | undefined {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string' || v.length === 0) return undefined;
  // Fast path for the common plain number (this runs once per cell): starts
  // with a digit, sign or dot, ends with a digit or dot, and is not a 0x / 0b
  // / 0o literal, which Number() would also accept.
  const c0 = v.charCodeAt(0);
  const cl = v.charCodeAt(v.length - 1);
  if ((isDigit(c0) || c0 === 45 || c0 === 43 || c0 === 46) && (isDigit(cl) || cl === 46)) {
    const c1 = v.length > 1 ? v.charCodeAt(1) | 0x20 : 0;
    if (!(c0 === 48 && (c1 === 120 || c1 === 98 || c1 === 111))) {
      const n = +v;
      if (n - n === 0) return n;
      return Number.isNaN(n) ? undefined : null; // overflow to Infinity counts as missing
    }
    return undefined;
  }
  return NUMERIC_RE.test(v) ? Number(v) : undefined;
}

/** A number as a numeric column reads it (numbers, and text cells that hold plain numbers), else null. */
export function numberOf(v: unknown): number | null {
  if (typeof v === 'number') return v - v === 0 ? v : null;
  return cellNumber(v as CellValue) ?? null;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
