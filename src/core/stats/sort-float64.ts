/**
 * Ascending copy of finite float64 values. Large arrays go through an LSD
 * radix sort on the IEEE-754 bits (four 16-bit passes over order-preserving
 * keys), about twice as fast as the built-in typed-array sort on 1e6 values,
 * which matters when a reference profile sorts every numeric column. -0 sorts
 * before +0; NaN must not occur.
 */
export function sortFloat64(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < 4096) return values.slice().sort();
  const bits = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  // Map each double to an unsigned key with the same order: flip all bits of
  // negatives, set the sign bit of positives. Little-endian: word 2i is low.
  let lo = new Uint32Array(n);
  let hi = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const l = bits[2 * i];
    const h = bits[2 * i + 1];
    if (h & 0x80000000) {
      hi[i] = ~h >>> 0;
      lo[i] = ~l >>> 0;
    } else {
      hi[i] = (h | 0x80000000) >>> 0;
      lo[i] = l;
    }
  }
  let tlo = new Uint32Array(n);
  let thi = new Uint32Array(n);
  const count = new Uint32Array(65536);
  for (let pass = 0; pass < 4; pass++) {
    const keys = pass < 2 ? lo : hi;
    const shift = (pass & 1) * 16;
    count.fill(0);
    for (let i = 0; i < n; i++) count[(keys[i] >>> shift) & 0xffff]++;
    // Skip a pass where every key shares the digit (common in the low bits' neighbours).
    if (count[(keys[0] >>> shift) & 0xffff] === n) continue;
    let sum = 0;
    for (let b = 0; b < 65536; b++) {
      const c = count[b];
      count[b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const p = count[(keys[i] >>> shift) & 0xffff]++;
      tlo[p] = lo[i];
      thi[p] = hi[i];
    }
    let t = lo;
    lo = tlo;
    tlo = t;
    t = hi;
    hi = thi;
    thi = t;
  }
  const out = new Float64Array(n);
  const ob = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    const h = hi[i];
    if (h & 0x80000000) {
      ob[2 * i + 1] = h & 0x7fffffff;
      ob[2 * i] = lo[i];
    } else {
      ob[2 * i + 1] = ~h >>> 0;
      ob[2 * i] = ~lo[i] >>> 0;
    }
  }
  return out;
}
