import { MergingDigest, type CompactDigestJSON, type DigestJSON, type MergingDigestOptions } from './merging-digest.js';
import { binIndex } from './bin-index.js';

/** Compact serialized form of a {@link NumericSummary}. */
export interface NumericSummaryJSON {
  /** Interior bin edges. */
  e: number[];
  /** Bin counts (`e.length + 1` of them). */
  h: number[];
  /** Present (finite) values. */
  n: number;
  /** Missing values: null, undefined, NaN or infinite. */
  miss: number;
  min: number;
  max: number;
  mean: number;
  /** Sum of squared deviations from the mean. */
  m2: number;
  d: DigestJSON;
}

/**
 * Smaller serialized form of a {@link NumericSummary} whose bin edges the
 * reader knows (a pane's come from its layout): no edges, a compact digest.
 */
export interface CompactNumericSummaryJSON extends Omit<NumericSummaryJSON, 'e' | 'd'> {
  d: CompactDigestJSON;
}

/** Options of a {@link NumericSummary}. */
export type NumericSummaryOptions = MergingDigestOptions;

/**
 * Mergeable summary of one numeric feature in one pane or window: a histogram
 * on fixed (reference) edges, a {@link MergingDigest}, count, missing count,
 * min, max, mean and M2 (Welford updates, Chan et al. merge).
 *
 * Bins: with interior edges e(0) < ... < e(k-1) there are k + 1 bins; bin i
 * covers [e(i-1), e(i)), bin 0 is (-inf, e(0)) and bin k is [e(k-1), +inf).
 */
export class NumericSummary {
  /** Interior bin edges, ascending. */
  readonly edges: Float64Array;
  /** Bin counts, `edges.length + 1` of them. */
  readonly counts: Float64Array;
  /** The quantile sketch over present values. */
  readonly digest: MergingDigest;
  /** Present (finite) values seen. */
  count = 0;
  /** Missing values seen (null, undefined, NaN, +-Infinity). */
  missing = 0;
  min = Infinity;
  max = -Infinity;
  mean = 0;
  /** Sum of squared deviations from the mean. */
  m2 = 0;

  /**
   * @param edges interior bin edges; a Float64Array is kept, not copied (the
   *   summaries of one reference share its edges), and must not change.
   */
  constructor(edges: ArrayLike<number> = [], options: NumericSummaryOptions = {}) {
    this.edges = edges instanceof Float64Array ? edges : Float64Array.from(edges);
    for (let i = 1; i < this.edges.length; i++) {
      if (!(this.edges[i] > this.edges[i - 1])) throw new RangeError('bin edges must be strictly ascending');
    }
    this.counts = new Float64Array(this.edges.length + 1);
    this.digest = new MergingDigest(options);
  }

  /** Adds one value; null, undefined and non-finite numbers count as missing. */
  accept(x: number | null | undefined): void {
    if (x === null || x === undefined || x - x !== 0) {
      // x - x is NaN for NaN and +-Infinity: one test for both.
      this.missing++;
      return;
    }
    const n = ++this.count;
    const d = x - this.mean;
    this.mean += d / n;
    this.m2 += d * (x - this.mean);
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    this.counts[binIndex(this.edges, x)]++;
    this.digest.accept(x);
  }

  /**
   * Adds an ascending array of finite values in bulk: moments in one pass,
   * bin counts by binary search of the edges, the digest by one merge per
   * chunk. The same state as accepting each value, up to floating-point
   * rounding and the digest's centroid boundaries.
   */
  acceptSorted(sorted: Float64Array): void {
    const m = sorted.length;
    if (m === 0) return;
    if (!(sorted[0] - sorted[0] === 0 && sorted[m - 1] - sorted[m - 1] === 0)) throw new RangeError('acceptSorted: values must be finite');
    let mean = 0;
    let m2 = 0;
    for (let i = 0; i < m; i++) {
      const d = sorted[i] - mean;
      mean += d / (i + 1);
      m2 += d * (sorted[i] - mean);
    }
    let prev = 0;
    for (let b = 0; b < this.edges.length; b++) {
      const pos = lowerBound(sorted, this.edges[b]);
      this.counts[b] += pos - prev;
      prev = pos;
    }
    this.counts[this.edges.length] += m - prev;
    this.digest.acceptSorted(sorted);
    const part = new NumericSummary(this.edges);
    part.count = m;
    part.mean = mean;
    part.m2 = m2;
    part.min = sorted[0];
    part.max = sorted[m - 1];
    this.mergeMoments(part);
  }

  /** Adds `other` (same edges) into this summary; `other` is unchanged. */
  merge(other: NumericSummary): this {
    if (!sameEdges(this.edges, other.edges)) throw new RangeError('cannot merge numeric summaries with different bin edges');
    this.missing += other.missing;
    if (other.count === 0) return this;
    this.mergeMoments(other);
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i];
    this.digest.merge(other.digest);
    return this;
  }

  private mergeMoments(other: NumericSummary): void {
    const na = this.count;
    const nb = other.count;
    const n = na + nb;
    const d = other.mean - this.mean;
    this.mean = na === 0 ? other.mean : this.mean + (d * nb) / n;
    this.m2 = this.m2 + other.m2 + (d * d * na * nb) / n;
    this.count = n;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  /** Sample variance (ddof 1); NaN below two values. */
  get variance(): number {
    return this.count > 1 ? this.m2 / (this.count - 1) : NaN;
  }

  /** Sample standard deviation (ddof 1). */
  get std(): number {
    return Math.sqrt(this.variance);
  }

  /** Share of missing values among all values seen; 0 when nothing was seen. */
  get missingRate(): number {
    const total = this.count + this.missing;
    return total === 0 ? 0 : this.missing / total;
  }

  /** Quantile from the digest (exact while the digest is in exact mode). */
  quantile(q: number): number {
    return this.digest.quantile(q);
  }

  /** P(X <= x) from the digest. */
  cdf(x: number): number {
    return this.digest.cdf(x);
  }

  /** Compact JSON form; round-trips through {@link NumericSummary.fromJSON}. */
  toJSON(): NumericSummaryJSON {
    return {
      e: Array.from(this.edges),
      ...this.countsJSON(),
      d: this.digest.toJSON(),
    };
  }

  /** The fields both serialized forms share: counts and moments (no edges, no digest). */
  private countsJSON(): Omit<NumericSummaryJSON, 'e' | 'd'> {
    const empty = this.count === 0;
    return {
      h: Array.from(this.counts),
      n: this.count,
      miss: this.missing,
      min: empty ? 0 : this.min,
      max: empty ? 0 : this.max,
      mean: this.mean,
      m2: this.m2,
    };
  }

  /** The {@link CompactNumericSummaryJSON} form; read back with {@link NumericSummary.fromCompactJSON} on the same edges. */
  toCompactJSON(): CompactNumericSummaryJSON {
    return { ...this.countsJSON(), d: this.digest.toCompactJSON() };
  }

  /** Restores a summary written by {@link toCompactJSON} onto `edges` (kept, not copied). */
  static fromCompactJSON(json: CompactNumericSummaryJSON, edges: Float64Array): NumericSummary {
    if (!json || !Array.isArray(json.h) || json.h.length !== edges.length + 1) {
      throw new TypeError(`malformed numeric summary: h must have ${edges.length + 1} counts`);
    }
    return NumericSummary.restore(json, MergingDigest.fromJSON(json.d), edges);
  }

  /**
   * Restores a summary written by {@link toJSON}. `edges`, when given and
   * equal to the written ones, is shared instead of a copy.
   */
  static fromJSON(json: NumericSummaryJSON, edges?: Float64Array): NumericSummary {
    if (!json || !Array.isArray(json.e) || !Array.isArray(json.h) || json.h.length !== json.e.length + 1) {
      throw new TypeError('malformed numeric summary: h must have e.length + 1 counts');
    }
    const shared = edges !== undefined && sameEdges(edges, json.e) ? edges : json.e;
    return NumericSummary.restore(json, MergingDigest.fromJSON(json.d), shared);
  }

  private static restore(json: Omit<NumericSummaryJSON, 'd' | 'e'>, digest: MergingDigest, edges: ArrayLike<number>): NumericSummary {
    const s = new NumericSummary(edges, { compression: digest.compression, exactLimit: digest.exactLimit });
    (s as { digest: MergingDigest }).digest = digest;
    s.counts.set(json.h);
    s.count = json.n;
    s.missing = json.miss;
    if (json.n > 0) {
      s.min = json.min;
      s.max = json.max;
    }
    s.mean = json.mean;
    s.m2 = json.m2;
    return s;
  }
}

/** First index whose value is >= x (values ascending). */
function lowerBound(values: Float64Array, x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sameEdges(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
