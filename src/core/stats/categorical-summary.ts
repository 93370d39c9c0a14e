/** Bucket that holds the categories beyond the top K. */
export const OTHER_CATEGORY = '__other__';

/** Default number of categories kept by name. */
export const DEFAULT_TOP_K = 1000;

/** Compact serialized form of a {@link CategoricalSummary}. */
export interface CategoricalSummaryJSON {
  /** Top K. */
  k: number;
  /** Missing values. */
  miss: number;
  /** Counts by category (at most k of them). */
  c: Record<string, number>;
  /** Count folded into {@link OTHER_CATEGORY}. */
  o: number;
}

/** Options of a {@link CategoricalSummary}. */
export interface CategoricalSummaryOptions {
  /** Categories kept by name; the rest fold into `__other__`. Default 1000. */
  topK?: number;
}

/**
 * Bounded, mergeable category counts: up to `topK` categories by name plus an
 * `__other__` bucket, and a missing count.
 *
 * Up to 2 x topK names are tracked; when that fills, the least frequent names
 * beyond the top K fold into `__other__`. Below topK distinct categories the
 * counts are exact and merging is lossless.
 */
export class CategoricalSummary {
  readonly topK: number;
  /** Missing values seen (null or undefined). */
  missing = 0;
  /** Count folded into `__other__`. */
  other = 0;
  private readonly map = new Map<string, number>();
  private present = 0;

  constructor(options: CategoricalSummaryOptions = {}) {
    this.topK = options.topK ?? DEFAULT_TOP_K;
    if (!(this.topK >= 1)) throw new RangeError('topK must be >= 1');
  }

  /** Adds one value; numbers and booleans count under their string form. */
  accept(value: string | number | boolean | null | undefined): void {
    if (value === null || value === undefined) {
      this.missing++;
      return;
    }
    const key = typeof value === 'string' ? value : String(value);
    this.present++;
    const c = this.map.get(key);
    if (c !== undefined) {
      this.map.set(key, c + 1);
      return;
    }
    if (this.map.size >= 2 * this.topK) this.prune(this.topK - 1);
    this.map.set(key, 1);
  }

  /** Adds `count` occurrences of `category` (used by merge and deserialization). */
  add(category: string, count: number): void {
    if (count <= 0) return;
    this.present += count;
    if (category === OTHER_CATEGORY) {
      this.other += count;
      return;
    }
    this.map.set(category, (this.map.get(category) ?? 0) + count);
    if (this.map.size > 2 * this.topK) this.prune(this.topK);
  }

  /** Adds `other` into this summary; `other` is unchanged. */
  merge(other: CategoricalSummary): this {
    this.missing += other.missing;
    for (const [k, v] of other.map) this.add(k, v);
    if (other.other > 0) this.add(OTHER_CATEGORY, other.other);
    return this;
  }

  /** Present (non-missing) values. */
  get count(): number {
    return this.present;
  }

  /** Share of missing values among all values seen. */
  get missingRate(): number {
    const total = this.present + this.missing;
    return total === 0 ? 0 : this.missing / total;
  }

  /** Count of one category (0 when unknown); `__other__` gives the folded count. */
  countOf(category: string): number {
    if (category === OTHER_CATEGORY) return this.other;
    return this.map.get(category) ?? 0;
  }

  /**
   * Counts of the top K categories by name, most frequent first (ties by
   * name), with `__other__` last when non-zero.
   */
  counts(): Map<string, number> {
    const entries = [...this.map].sort(byCountThenName);
    const out = new Map<string, number>();
    let other = this.other;
    for (let i = 0; i < entries.length; i++) {
      if (i < this.topK) out.set(entries[i][0], entries[i][1]);
      else other += entries[i][1];
    }
    if (other > 0) out.set(OTHER_CATEGORY, other);
    return out;
  }

  /** Compact JSON form; round-trips through {@link CategoricalSummary.fromJSON}. */
  toJSON(): CategoricalSummaryJSON {
    const counts = this.counts();
    const o = counts.get(OTHER_CATEGORY) ?? 0;
    counts.delete(OTHER_CATEGORY);
    return { k: this.topK, miss: this.missing, c: Object.fromEntries(counts), o };
  }

  /** Restores a summary written by {@link toJSON}. */
  static fromJSON(json: CategoricalSummaryJSON): CategoricalSummary {
    if (!json || typeof json.c !== 'object' || json.c === null) throw new TypeError('malformed categorical summary');
    const s = new CategoricalSummary({ topK: json.k });
    s.missing = json.miss;
    for (const [k, v] of Object.entries(json.c)) s.add(k, v);
    s.add(OTHER_CATEGORY, json.o);
    return s;
  }

  private prune(keep: number): void {
    const entries = [...this.map].sort(byCountThenName);
    for (let i = keep; i < entries.length; i++) {
      this.other += entries[i][1];
      this.map.delete(entries[i][0]);
    }
  }
}

function byCountThenName(a: [string, number], b: [string, number]): number {
  return b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}
