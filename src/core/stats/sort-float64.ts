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

/** Runs shorter than this are insertion-sorted; a bucket longer than {@link BUCKET_MAX} goes to the built-in sort. */
const INSERTION_MAX = 32;
const BUCKET_MAX = 48;
let scratchValues = new Float64Array(512);
let scratchBuckets = new Uint16Array(512);
let scratchCounts = new Int32Array(129);

/**
 * Sorts finite values in place, exactly as `Float64Array.prototype.sort` does
 * (-0 before +0; NaN must not occur), for the short buffers a t-digest merges
 * (up to a few hundred values): one bucket per four values on the range
 * between the buffer's minimum and maximum (the bucket is monotone in the
 * value, so sorted buckets in turn are the sorted buffer), each bucket
 * insertion-sorted. About a third less work than the built-in sort on the
 * load tests' features; a bucket that skew fills goes to the built-in sort.
 */
export function sortShort(a: Float64Array): void {
  const n = a.length;
  if (n < INSERTION_MAX) {
    insertionSort(a, 0, n);
    return;
  }
  let lo = a[0];
  let hi = a[0];
  for (let i = 1; i < n; i++) {
    const x = a[i];
    if (x < lo) lo = x;
    else if (x > hi) hi = x;
  }
  if (lo === hi) {
    // All equal: only zeros can still be out of order (-0 before +0).
    if (lo === 0) signedZeros(a);
    return;
  }
  const nb = Math.min(n >>> 2, 65535);
  const scale = nb / (hi - lo);
  if (!(scale > 0 && scale < Infinity)) {
    a.sort();
    return;
  }
  if (scratchValues.length < n) {
    scratchValues = new Float64Array(n);
    scratchBuckets = new Uint16Array(n);
  }
  if (scratchCounts.length < nb + 1) scratchCounts = new Int32Array(nb + 1);
  const tmp = scratchValues;
  const bucket = scratchBuckets;
  const counts = scratchCounts;
  counts.fill(0, 0, nb + 1);
  for (let i = 0; i < n; i++) {
    let b = Math.floor((a[i] - lo) * scale);
    if (b >= nb) b = nb - 1;
    bucket[i] = b;
    counts[b + 1]++;
  }
  for (let b = 0; b < nb; b++) counts[b + 1] += counts[b];
  for (let i = 0; i < n; i++) tmp[counts[bucket[i]]++] = a[i];
  // counts[b] is now where bucket b ends.
  let start = 0;
  for (let b = 0; b < nb; b++) {
    const end = counts[b];
    const len = end - start;
    if (len > BUCKET_MAX) tmp.subarray(start, end).sort();
    else if (len > 1) insertionSort(tmp, start, end);
    start = end;
  }
  a.set(tmp.subarray(0, n));
}

/** Insertion sort of a[from..to), -0 before +0. */
function insertionSort(a: Float64Array, from: number, to: number): void {
  for (let i = from + 1; i < to; i++) {
    const x = a[i];
    let j = i - 1;
    while (j >= from && (a[j] > x || (x === 0 && a[j] === 0 && 1 / a[j] > 1 / x))) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = x;
  }
}

/** Orders an array of zeros: every -0 first. */
function signedZeros(a: Float64Array): void {
  let negative = 0;
  for (let i = 0; i < a.length; i++) if (1 / a[i] < 0) negative++;
  a.fill(-0, 0, negative);
  a.fill(0, negative);
}
