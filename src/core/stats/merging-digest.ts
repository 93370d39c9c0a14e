/**
 * A merging t-digest (Dunning & Ertl, "Computing extremely accurate quantiles
 * using t-digests", 2019), with an exact mode for small or discrete inputs.
 *
 * Values are appended to a flat buffer; when it fills, the buffer is sorted and
 * merged with the centroids in one linear pass. While the number of distinct
 * values stays at or below `exactLimit`, centroids are never combined, so the
 * digest is an exact weighted sample: its CDF and quantiles equal those of the
 * data (ties included, which matters for integer-valued features). Past that
 * limit the digest compresses with the k1 (arcsine) scale function.
 *
 * The CDF is a piecewise-linear function through "knots" (see {@link knots}):
 * a non-singleton centroid spreads half its weight on each side of its mean, a
 * singleton (or, in exact mode, any centroid) is a point mass. KS and
 * Wasserstein work on those knots directly.
 */

import { base64ToFloat64, float64ToBase64 } from './float64-base64.js';
import { sortShort } from './sort-float64.js';

/** Compact serialized form of a {@link MergingDigest}. */
export interface DigestJSON {
  /** Compression (delta). */
  c: number;
  /** Exact-mode limit on distinct values. */
  x: number;
  /** True while the digest is an exact weighted sample. */
  e: boolean;
  /** Total weight. */
  n: number;
  min: number;
  max: number;
  /** Centroid means, ascending. */
  m: number[];
  /** Centroid weights. */
  w: number[];
}

/**
 * Smaller serialized form of a {@link MergingDigest}, for what is written
 * often (pane partials, checkpoints): the means as base64 of their bytes
 * (exact, ~11 characters a value), the weights left out when all are 1.
 */
export interface CompactDigestJSON extends Omit<DigestJSON, 'm' | 'w'> {
  /** Centroid means, ascending: base64 of little-endian doubles, or numbers (a big-endian writer). */
  m: string | number[];
  /** Centroid weights; absent when every weight is 1. */
  w?: number[];
}

/** Knots of the piecewise-linear CDF: cumulative weight `y[i]` at `x[i]`; `x` is non-decreasing. */
export interface CdfKnots {
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly total: number;
}

/** Options of a {@link MergingDigest}. */
export interface MergingDigestOptions {
  /** Compression (delta): at most about delta centroids once compressing. Default 300. */
  compression?: number;
  /** Stay exact up to this many distinct values. Default: the compression (a compressed digest holds about as many centroids). */
  exactLimit?: number;
}

/** Default compression: CDF error about 1e-3 on smooth data, at most about 300 centroids. */
export const DEFAULT_COMPRESSION = 300;
/** Values buffered before the first merge; the capacity doubles after each merge up to {@link MAX_BUFFER}. */
const MIN_BUFFER = 64;
const MAX_BUFFER = 512;
/** The first allocation of the insert buffer; it grows by doubling up to the capacity. */
const FIRST_ALLOCATION = 16;
/** The insert buffer of a digest that holds no pending value: allocated on the first value. */
const NO_BUFFER = new Float64Array(0);

// Merge scratch space shared by all digests: JavaScript is single-threaded and
// a merge never re-enters, so one growable pair is enough and saves garbage.
let scratchMeans = new Float64Array(4096);
let scratchWeights = new Float64Array(4096);
function ensureScratch(n: number): void {
  if (scratchMeans.length < n) {
    let size = scratchMeans.length;
    while (size < n) size *= 2;
    scratchMeans = new Float64Array(size);
    scratchWeights = new Float64Array(size);
  }
}

/**
 * Mergeable quantile sketch with `accept` / `merge` / `quantile` / `cdf` verbs
 * and one serialization boundary ({@link toJSON} / {@link MergingDigest.fromJSON}).
 */
export class MergingDigest {
  /** Compression (delta). */
  readonly compression: number;
  /** Distinct values kept exactly before compression starts. */
  readonly exactLimit: number;

  private means: Float64Array;
  /**
   * Centroid weights; null while every weight is 1 (distinct values in exact
   * mode), which halves a small digest. {@link trim} stores whole weights
   * below 2^24 (exact in single precision) as a Float32Array.
   */
  private weights: Float64Array | Float32Array | null;
  private size = 0;
  /** Pending values; allocated as they come, up to {@link bufCap}. */
  private buffer: Float64Array;
  private bufLen = 0;
  /**
   * Values buffered before the next merge. Where merges happen decides where
   * centroids are cut once the digest compresses, so this schedule (64, 128,
   * ... 512, back to 64 after {@link trim}) is kept apart from how much room
   * is allocated: a digest of a few values holds a few values.
   */
  private bufCap = MIN_BUFFER;
  private merged = 0;
  private lo = Infinity;
  private hi = -Infinity;
  private exactMode = true;
  private cachedKnots: CdfKnots | null = null;

  constructor(options: MergingDigestOptions = {}) {
    this.compression = options.compression ?? DEFAULT_COMPRESSION;
    if (!(this.compression >= 10)) throw new RangeError('compression must be >= 10');
    this.exactLimit = options.exactLimit ?? this.compression;
    this.means = new Float64Array(0);
    this.weights = null;
    this.buffer = NO_BUFFER;
  }

  /** Adds one finite value (callers filter missing and non-finite values). */
  accept(x: number): void {
    if (this.bufLen === this.buffer.length) this.makeRoom();
    this.buffer[this.bufLen++] = x;
    if (x < this.lo) this.lo = x;
    if (x > this.hi) this.hi = x;
    this.cachedKnots = null;
  }

  /**
   * Adds an ascending run of finite values in bulk, skipping the buffer sort
   * (a profile builder already holds its values sorted). Equivalent to
   * accepting them one by one, up to where centroid boundaries fall.
   */
  acceptSorted(sorted: Float64Array): void {
    const n = sorted.length;
    if (n === 0) return;
    this.flush();
    for (let i = 1; i < n; i++) {
      if (!(sorted[i] >= sorted[i - 1])) throw new RangeError('acceptSorted: values must be ascending and finite');
    }
    // Chunks keep the shared scratch space small; each merge pass is linear.
    const chunk = 1 << 16;
    for (let start = 0; start < n; start += chunk) {
      this.mergeSorted(sorted.subarray(start, Math.min(n, start + chunk)), null, Math.min(chunk, n - start), true);
    }
    if (sorted[0] < this.lo) this.lo = sorted[0];
    if (sorted[n - 1] > this.hi) this.hi = sorted[n - 1];
  }

  /** Adds `other`'s data to this digest; `other` is left unchanged. */
  merge(other: MergingDigest): this {
    other.flush();
    if (other.size === 0) return this;
    this.flush();
    this.mergeSorted(other.means, other.weights, other.size, other.exactMode);
    if (other.lo < this.lo) this.lo = other.lo;
    if (other.hi > this.hi) this.hi = other.hi;
    return this;
  }

  /** Total weight (number of values). */
  get count(): number {
    return this.merged + this.bufLen;
  }

  get min(): number {
    return this.count === 0 ? NaN : this.lo;
  }

  get max(): number {
    return this.count === 0 ? NaN : this.hi;
  }

  /** True while no two distinct values share a centroid (CDF and quantiles are exact). */
  get isExact(): boolean {
    this.flush();
    return this.exactMode;
  }

  /** Number of centroids (after flushing the buffer). */
  get centroidCount(): number {
    this.flush();
    return this.size;
  }

  /** Sorted centroids, copied. */
  centroids(): { means: Float64Array; weights: Float64Array } {
    this.flush();
    const weights = this.weights === null ? new Float64Array(this.size).fill(1) : Float64Array.from(this.weights.subarray(0, this.size));
    return { means: this.means.slice(0, this.size), weights };
  }

  /**
   * Quantile at `q` in [0, 1]. In exact mode this is numpy's default (linear
   * interpolation between order statistics); otherwise the inverse of the
   * interpolated CDF. NaN when empty.
   */
  quantile(q: number): number {
    this.flush();
    const n = this.merged;
    if (n === 0) return NaN;
    if (q <= 0) return this.lo;
    if (q >= 1) return this.hi;
    if (this.exactMode) {
      const h = (n - 1) * q;
      const i = Math.floor(h);
      const a = this.valueAtRank(i);
      const b = this.valueAtRank(Math.min(i + 1, n - 1));
      return lerpNumpy(a, b, h - i);
    }
    const { x, y } = this.knots();
    const t = q * n;
    let lo = 0;
    let hi = y.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (y[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return x[0];
    const dy = y[lo] - y[lo - 1];
    if (dy <= 0) return x[lo];
    return x[lo - 1] + ((t - y[lo - 1]) / dy) * (x[lo] - x[lo - 1]);
  }

  /** P(X <= x), right-continuous. NaN when empty. */
  cdf(x: number): number {
    const k = this.knots();
    if (k.total === 0) return NaN;
    return evalKnotsRight(k, x) / k.total;
  }

  /** P(X < x), the left limit of {@link cdf}. NaN when empty. */
  cdfBelow(x: number): number {
    const k = this.knots();
    if (k.total === 0) return NaN;
    return evalKnotsLeft(k, x) / k.total;
  }

  /**
   * Largest error of {@link cdf} at any point, as a fraction of the count: 0 in
   * exact mode, otherwise the heaviest non-singleton centroid's share (the
   * interpolation can misplace at most about one centroid's mass).
   */
  rankErrorBound(): number {
    return this.heaviestSpreadShare(false);
  }

  /** Knots of the CDF (cached until the next update). */
  knots(): CdfKnots {
    this.flush();
    if (this.cachedKnots) return this.cachedKnots;
    this.cachedKnots = this.buildKnots(false);
    return this.cachedKnots;
  }

  /**
   * Knots of the CDF where a centroid whose mean is the digest's minimum or
   * maximum is a point mass (every value in it equals that mean): the zeros
   * of a zero-inflated feature stay one jump instead of being spread half
   * below and half above zero. Not cached; {@link knots} is the CDF of
   * DESIGN.md's statistics.
   */
  endMassKnots(): CdfKnots {
    this.flush();
    return this.buildKnots(true);
  }

  /**
   * {@link rankErrorBound} of {@link endMassKnots}: the heaviest centroid
   * that is neither a singleton nor a point mass at the minimum or maximum.
   */
  interiorRankErrorBound(): number {
    return this.heaviestSpreadShare(true);
  }

  /** Share of the heaviest centroid the knots spread around its mean (with `endMasses`, not one at the minimum or maximum). */
  private heaviestSpreadShare(endMasses: boolean): number {
    this.flush();
    if (this.exactMode || this.merged === 0 || this.weights === null) return 0;
    let maxW = 0;
    for (let i = 0; i < this.size; i++) {
      const w = this.weights[i];
      const m = this.means[i];
      if (w > 1 && w > maxW && !(endMasses && (m === this.lo || m === this.hi))) maxW = w;
    }
    return maxW / this.merged;
  }

  private buildKnots(endMasses: boolean): CdfKnots {
    const n = this.size;
    const xs = new Float64Array(2 * n + 2);
    const ys = new Float64Array(2 * n + 2);
    let k = 0;
    if (n > 0) {
      xs[k] = this.lo;
      ys[k++] = 0;
      let cum = 0;
      const weights = this.weights;
      for (let i = 0; i < n; i++) {
        const m = this.means[i];
        const w = weights === null ? 1 : weights[i];
        if (this.exactMode || w === 1 || (endMasses && (m === this.lo || m === this.hi))) {
          xs[k] = m;
          ys[k++] = cum;
          xs[k] = m;
          ys[k++] = cum + w;
        } else {
          xs[k] = m;
          ys[k++] = cum + w / 2;
        }
        cum += w;
      }
      xs[k] = this.hi;
      ys[k++] = cum;
    }
    // Copies, not views: a view would keep the whole 2n + 2 allocation alive while cached (a reference's digests stay cached).
    return { x: k < xs.length ? xs.slice(0, k) : xs, y: k < ys.length ? ys.slice(0, k) : ys, total: this.merged };
  }

  /** Compact JSON form; round-trips through {@link MergingDigest.fromJSON}. */
  toJSON(): DigestJSON {
    this.flush();
    return {
      c: this.compression,
      x: this.exactLimit,
      e: this.exactMode,
      n: this.merged,
      min: this.merged === 0 ? 0 : this.lo,
      max: this.merged === 0 ? 0 : this.hi,
      m: Array.from(this.means.subarray(0, this.size)),
      w: this.weights === null ? new Array<number>(this.size).fill(1) : Array.from(this.weights.subarray(0, this.size)),
    };
  }

  /** The {@link CompactDigestJSON} form; round-trips through {@link MergingDigest.fromJSON}. */
  toCompactJSON(): CompactDigestJSON {
    this.flush();
    const means = this.means.subarray(0, this.size);
    const out: CompactDigestJSON = {
      c: this.compression,
      x: this.exactLimit,
      e: this.exactMode,
      n: this.merged,
      min: this.merged === 0 ? 0 : this.lo,
      max: this.merged === 0 ? 0 : this.hi,
      m: float64ToBase64(means) ?? Array.from(means),
    };
    if (this.weights !== null) out.w = Array.from(this.weights.subarray(0, this.size));
    return out;
  }

  /** Restores a digest written by {@link toJSON} or {@link toCompactJSON}; throws TypeError on a malformed value. */
  static fromJSON(json: DigestJSON | CompactDigestJSON): MergingDigest {
    const means = json && (typeof json.m === 'string' ? base64ToFloat64(json.m) : Array.isArray(json.m) ? Float64Array.from(json.m) : undefined);
    const w = json?.w;
    if (!means || (w !== undefined && (!Array.isArray(w) || w.length !== means.length))) {
      throw new TypeError('malformed digest: m and w must be arrays of equal length');
    }
    const d = new MergingDigest({ compression: json.c, exactLimit: json.x });
    const n = means.length;
    d.means = means;
    const weights = w === undefined ? new Float64Array(n).fill(1) : Float64Array.from(w);
    d.size = n;
    let total = 0;
    for (let i = 0; i < n; i++) {
      if (!(weights[i] > 0) || (i > 0 && d.means[i] < d.means[i - 1])) {
        throw new TypeError('malformed digest: weights must be positive and means ascending');
      }
      total += weights[i];
    }
    d.weights = weights.every((w) => w === 1) ? null : weights;
    d.merged = total;
    d.exactMode = json.e;
    if (n > 0) {
      d.lo = json.min;
      d.hi = json.max;
    }
    return d;
  }

  /** Sorts the buffer into the centroids. Idempotent; called by every query. */
  flush(): void {
    if (this.bufLen === 0) return;
    const buf = this.buffer.subarray(0, this.bufLen);
    sortShort(buf);
    this.mergeSorted(buf, null, this.bufLen, true);
    this.bufLen = 0;
  }

  /**
   * Flushes, releases the insert buffer (a later value allocates a small
   * one again), cuts the centroid arrays to their size, and drops the cached
   * CDF knots (about as large as the centroids again), for digests that will
   * not take more values or queries soon (a closed or evaluated pane).
   */
  trim(): void {
    this.flush();
    this.cachedKnots = null;
    this.buffer = NO_BUFFER;
    this.bufCap = MIN_BUFFER;
    if (this.means.length > this.size) this.means = this.means.slice(0, this.size);
    const w = this.weights;
    if (w !== null && (w.length > this.size || w instanceof Float64Array)) this.weights = compactWeights(w.subarray(0, this.size));
  }

  /** Merges a full buffer (and doubles the capacity), or allocates more room up to the capacity. */
  private makeRoom(): void {
    if (this.bufLen >= this.bufCap) {
      this.flush();
      if (this.bufCap < MAX_BUFFER) this.bufCap *= 2;
      return;
    }
    const room = new Float64Array(Math.min(this.bufCap, Math.max(FIRST_ALLOCATION, 2 * this.buffer.length)));
    room.set(this.buffer.subarray(0, this.bufLen));
    this.buffer = room;
  }

  /** Merges an ascending run of (mean, weight) into the centroids; weights null means all 1. */
  private mergeSorted(inMeans: Float64Array, inWeights: Float64Array | Float32Array | null, inLen: number, inExact: boolean): void {
    const cap = this.size + inLen;
    ensureScratch(cap);
    const sm = scratchMeans;
    const sw = scratchWeights;
    const means = this.means;
    const weights = this.weights;
    const size = this.size;
    let i = 0;
    let j = 0;
    let k = 0;
    let added = 0;
    // Every merged weight is 1 as long as no input weight differs from 1 and no two means tie.
    let unit = true;
    while (i < size || j < inLen) {
      let m: number;
      let w: number;
      if (j >= inLen || (i < size && means[i] <= inMeans[j])) {
        m = means[i];
        w = weights === null ? 1 : weights[i];
        i++;
      } else {
        m = inMeans[j];
        w = inWeights === null ? 1 : inWeights[j];
        added += w;
        j++;
      }
      // Equal means combine without loss, which keeps ties as one point mass.
      if (k > 0 && sm[k - 1] === m) {
        sw[k - 1] += w;
        unit = false;
      } else {
        sm[k] = m;
        sw[k] = w;
        if (w !== 1) unit = false;
        k++;
      }
    }
    this.merged += added;
    this.cachedKnots = null;
    if (this.exactMode && inExact && k <= this.exactLimit) {
      this.keepExact(sm, sw, k, unit);
      return;
    }
    this.exactMode = false;
    this.compress(sm, sw, k);
  }

  /** Copies `k` merged items into the centroid arrays; the weights only when some is not 1. */
  private keepExact(sm: Float64Array, sw: Float64Array, k: number, unit: boolean): void {
    if (this.means.length < k) this.means = new Float64Array(Math.min(this.exactLimit, Math.max(k, 2 * this.means.length)));
    this.means.set(sm.subarray(0, k));
    if (unit) this.weights = null;
    else {
      if (!(this.weights instanceof Float64Array) || this.weights.length < k) this.weights = new Float64Array(this.means.length);
      this.weights.set(sw.subarray(0, k));
    }
    this.size = k;
  }

  /** One k1-scale merge pass over the sorted scratch items into the centroid arrays. */
  private compress(sm: Float64Array, sw: Float64Array, k: number): void {
    const total = this.merged;
    const delta = this.compression;
    const outCap = Math.min(k, Math.ceil(delta) + 8);
    let om = this.means.length >= outCap && this.means.length <= 4 * outCap ? this.means : new Float64Array(outCap);
    let ow = om === this.means && this.weights instanceof Float64Array && this.weights.length === om.length ? this.weights : new Float64Array(om.length);
    let last = 0;
    om[0] = sm[0];
    ow[0] = sw[0];
    let wSoFar = 0;
    let wLimit = total * q1(k1(0, delta) + 1, delta);
    for (let i = 1; i < k; i++) {
      const proposed = ow[last] + sw[i];
      // The extremes stay separate so min and max keep their own centroids.
      if (i !== 1 && i !== k - 1 && wSoFar + proposed <= wLimit) {
        ow[last] = proposed;
        om[last] += ((sm[i] - om[last]) * sw[i]) / proposed;
      } else {
        wSoFar += ow[last];
        wLimit = total * q1(k1(wSoFar / total, delta) + 1, delta);
        last++;
        if (last >= om.length) {
          const bm = new Float64Array(om.length * 2);
          const bw = new Float64Array(om.length * 2);
          bm.set(om);
          bw.set(ow);
          om = bm;
          ow = bw;
        }
        om[last] = sm[i];
        ow[last] = sw[i];
      }
    }
    this.means = om;
    this.weights = ow;
    this.size = last + 1;
  }

  /** Value at 0-based rank `r` of the expanded exact sample. */
  private valueAtRank(r: number): number {
    const weights = this.weights;
    if (weights === null) return this.means[Math.min(r, this.size - 1)];
    let cum = 0;
    for (let i = 0; i < this.size; i++) {
      cum += weights[i];
      if (r < cum) return this.means[i];
    }
    return this.means[this.size - 1];
  }
}

/** Largest whole number single precision holds exactly, with every smaller one. */
const FLOAT32_EXACT = 2 ** 24;

/** The weights in single precision when that holds each exactly (whole numbers below 2^24), else a copy. */
function compactWeights(w: Float64Array | Float32Array): Float64Array | Float32Array {
  for (let i = 0; i < w.length; i++) {
    const x = w[i];
    if (!(x <= FLOAT32_EXACT) || x !== Math.floor(x)) return Float64Array.from(w);
  }
  return Float32Array.from(w);
}

function k1(q: number, delta: number): number {
  return (delta / (2 * Math.PI)) * Math.asin(2 * q - 1);
}

function q1(k: number, delta: number): number {
  if (k >= delta / 4) return 1;
  return (Math.sin((k * 2 * Math.PI) / delta) + 1) / 2;
}

/** numpy's `_lerp`: interpolates from the nearer end so results are monotone and exact at the ends. */
export function lerpNumpy(a: number, b: number, t: number): number {
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** Cumulative weight at or below `x` (right-continuous). */
export function evalKnotsRight(k: CdfKnots, x: number): number {
  const xs = k.x;
  const ys = k.y;
  const n = xs.length;
  if (n === 0 || x < xs[0]) return 0;
  if (x >= xs[n - 1]) return ys[n - 1];
  // last index with xs[i] <= x
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid] <= x) lo = mid;
    else hi = mid;
  }
  const x0 = xs[lo];
  const x1 = xs[lo + 1];
  return ys[lo] + ((ys[lo + 1] - ys[lo]) * (x - x0)) / (x1 - x0);
}

/** Cumulative weight strictly below `x` (the left limit). */
export function evalKnotsLeft(k: CdfKnots, x: number): number {
  const xs = k.x;
  const ys = k.y;
  const n = xs.length;
  if (n === 0 || x <= xs[0]) return 0;
  if (x > xs[n - 1]) return ys[n - 1];
  // last index with xs[i] < x
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid] < x) lo = mid;
    else hi = mid;
  }
  const x0 = xs[lo];
  const x1 = xs[lo + 1];
  return ys[lo] + ((ys[lo + 1] - ys[lo]) * (x - x0)) / (x1 - x0);
}

/** Every knot position of two sketches' CDFs, ascending: the breakpoints of any integral over both. */
export function mergedKnotPositions(a: CdfKnots, b: CdfKnots): Float64Array {
  const xs = new Float64Array(a.x.length + b.x.length);
  xs.set(a.x);
  xs.set(b.x, a.x.length);
  return xs.sort();
}

/**
 * The sum of `term(x0, x1)` over the non-empty intervals between consecutive
 * knot positions of two sketches, left to right: an integral over both CDFs,
 * piece by piece.
 */
export function sumOverKnotIntervals(a: CdfKnots, b: CdfKnots, term: (x0: number, x1: number) => number): number {
  const xs = mergedKnotPositions(a, b);
  let w = 0;
  for (let i = 0; i + 1 < xs.length; i++) {
    const x0 = xs[i];
    const x1 = xs[i + 1];
    if (x1 - x0 <= 0) continue;
    w += term(x0, x1);
  }
  return w;
}
