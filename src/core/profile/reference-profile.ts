import { randomUUID } from 'node:crypto';
import { CategoricalSummary, DEFAULT_TOP_K, OTHER_CATEGORY } from '../stats/categorical-summary.js';
import { DEFAULT_COMPRESSION, MergingDigest, type DigestJSON } from '../stats/merging-digest.js';
import { NumericSummary } from '../stats/numeric-summary.js';
import { quantileEdges } from '../stats/quantile-edges.js';
import { binIndex } from '../stats/bin-index.js';
import { sortFloat64 } from '../stats/sort-float64.js';
import type { ReferencePerformance } from '../performance/reference-performance.js';
import { computeNumericCalibration, storedCalibration, type StoredCalibration } from './calibration.js';
import { checkMultivariateProfile, type MultivariateProfile } from './multivariate-profile.js';
import { checkEstimationProfile, type EstimationProfile } from './estimation-profile.js';
import type { SegmentProfiles } from './segment-profiles.js';

/** Type of a profiled column. */
export type ColumnType = 'numeric' | 'categorical';

/** Version of the serialized profile layout; bumped on incompatible changes. */
export const PROFILE_FORMAT_VERSION = 1;

/** Reference distribution of one numeric column. */
export interface NumericFeatureProfile {
  readonly type: 'numeric';
  /** Present (finite) values. */
  readonly count: number;
  readonly missing: number;
  readonly missingRate: number;
  /** Interior bin edges: the k/bins quantiles (numpy linear), duplicates removed. */
  readonly edges: readonly number[];
  /** Reference counts per bin (`edges.length + 1`). */
  readonly counts: readonly number[];
  /** Serialized digest of the present values. */
  readonly digest: DigestJSON;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  /** Sample standard deviation (ddof 1); 0 below two values. */
  readonly std: number;
  /** Power calibration of the drift tests (profiles built before it compute it on first use). */
  readonly calibration?: StoredCalibration;
}

/** Reference distribution of one categorical column. */
export interface CategoricalFeatureProfile {
  readonly type: 'categorical';
  readonly count: number;
  readonly missing: number;
  readonly missingRate: number;
  readonly topK: number;
  /** Counts of the top K categories; `__other__` holds the rest when non-zero. */
  readonly categories: Readonly<Record<string, number>>;
}

/** Reference distribution of one column, by type. */
export type FeatureProfile = NumericFeatureProfile | CategoricalFeatureProfile;

/**
 * An immutable, versioned reference profile (DESIGN.md section 3). Columns are
 * generic: features, and prediction or score distributions, are columns the
 * caller names (for example `prediction` and `score`).
 */
export interface ReferenceProfile {
  readonly formatVersion: number;
  readonly id: string;
  readonly modelId: string | null;
  /** Version of this model's reference (1, 2, ...). */
  readonly version: number;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** Rows (records) the profile was built from. */
  readonly rows: number;
  readonly features: Readonly<Record<string, FeatureProfile>>;
  /** Model performance on the sample, when it had a label column (src/core/performance/). */
  readonly performance?: ReferencePerformance;
  /** Reconstruction of the numeric features and its error's null distribution, when fitted (multivariate drift). */
  readonly multivariate?: MultivariateProfile;
  /** Score calibration on the labelled rows, when the sample had labels and scores (estimated performance). */
  readonly estimation?: EstimationProfile;
  /** Per segment attribute, a profile per kept value and `__other__` (segments and attribution). */
  readonly segments?: SegmentProfiles<ReferenceProfile>;
}

/** Options of a {@link ReferenceProfileBuilder}. */
export interface ReferenceProfileBuilderOptions {
  /** Quantile bins per numeric column. Default 10. */
  bins?: number;
  /** Categories kept by name per categorical column. Default 1000. */
  topK?: number;
  /** Digest compression. Default 300. */
  compression?: number;
}

/** Identity of a profile passed to {@link ReferenceProfileBuilder.build}; time is passed in. */
export interface ProfileMeta {
  createdAt: number;
  id?: string;
  modelId?: string | null;
  version?: number;
}

/**
 * Builds a {@link ReferenceProfile} from sample records.
 *
 * Bin edges must be the exact numpy quantiles of the reference, which needs
 * the exact values: the builder keeps each numeric column's present values in
 * a growable Float64Array (8 bytes per value; a 1e6-row reference with 10
 * numeric columns holds 80 MB while building) and sorts it once in
 * {@link build}. The digest, moments and bin counts then come from the same
 * {@link NumericSummary} the stream uses, fed the sorted values in bulk
 * ({@link NumericSummary.acceptSorted}).
 */
export class ReferenceProfileBuilder {
  readonly columns: Readonly<Record<string, ColumnType>>;
  private readonly bins: number;
  private readonly topK: number;
  private readonly compression: number;
  private readonly numeric = new Map<string, { values: Float64Array; n: number; missing: number }>();
  private readonly categorical = new Map<string, CategoricalSummary>();
  private rowCount = 0;

  constructor(columns: Record<string, ColumnType>, options: ReferenceProfileBuilderOptions = {}) {
    this.columns = Object.freeze({ ...columns });
    this.bins = options.bins ?? 10;
    this.topK = options.topK ?? DEFAULT_TOP_K;
    this.compression = options.compression ?? DEFAULT_COMPRESSION;
    if (!(this.bins >= 1)) throw new RangeError('bins must be >= 1');
    for (const [name, type] of Object.entries(columns)) {
      if (type === 'numeric') this.numeric.set(name, { values: new Float64Array(1024), n: 0, missing: 0 });
      else if (type === 'categorical') this.categorical.set(name, new CategoricalSummary({ topK: this.topK }));
      else throw new RangeError(`column ${name}: unknown type ${String(type)}`);
    }
  }

  /** Adds one record; absent, null or non-finite values count as missing. */
  accept(record: Readonly<Record<string, unknown>>): void {
    this.rowCount++;
    for (const name in this.columns) this.acceptValue(name, record[name]);
  }

  /**
   * Adds one value of one column without counting a row (for columnar input;
   * call {@link countRow} per row). Numeric columns take numbers only.
   */
  acceptValue(name: string, value: unknown): void {
    const num = this.numeric.get(name);
    if (num !== undefined) {
      if (typeof value === 'number' && value - value === 0) {
        if (num.n === num.values.length) {
          const grown = new Float64Array(num.values.length * 2);
          grown.set(num.values);
          num.values = grown;
        }
        num.values[num.n++] = value;
      } else num.missing++;
      return;
    }
    const cat = this.categorical.get(name);
    if (cat === undefined) return;
    if (value === null || value === undefined) cat.accept(null);
    else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') cat.accept(value);
    else cat.accept(String(value));
  }

  /** Counts one row for {@link ReferenceProfile.rows} when feeding values column by column. */
  countRow(): void {
    this.rowCount++;
  }

  /** Builds the frozen profile. The builder may be discarded afterwards. */
  build(meta: ProfileMeta): ReferenceProfile {
    const features: Record<string, FeatureProfile> = {};
    for (const name of Object.keys(this.columns)) {
      const num = this.numeric.get(name);
      if (num !== undefined) {
        features[name] = this.buildNumeric(num.values.subarray(0, num.n), num.missing);
        continue;
      }
      const cat = this.categorical.get(name)!;
      features[name] = freezeDeep({
        type: 'categorical',
        count: cat.count,
        missing: cat.missing,
        missingRate: cat.missingRate,
        topK: cat.topK,
        categories: Object.fromEntries(cat.counts()),
      } satisfies CategoricalFeatureProfile);
    }
    return freezeDeep({
      formatVersion: PROFILE_FORMAT_VERSION,
      id: meta.id ?? randomUUID(),
      modelId: meta.modelId ?? null,
      version: meta.version ?? 1,
      createdAt: meta.createdAt,
      rows: this.rowCount,
      features,
    });
  }

  private buildNumeric(values: Float64Array, missing: number): NumericFeatureProfile {
    const sorted = sortFloat64(values);
    const edges = quantileEdges(sorted, this.bins);
    const summary = new NumericSummary(edges, { compression: this.compression });
    summary.acceptSorted(sorted);
    summary.missing = missing;
    return profileFromSummary(summary);
  }
}

/** Profile of a numeric column from a summary (whose edges become the profile's edges). */
export function profileFromSummary(summary: NumericSummary): NumericFeatureProfile {
  const empty = summary.count === 0;
  const edges = Array.from(summary.edges);
  const counts = Array.from(summary.counts);
  const std = summary.count > 1 ? summary.std : 0;
  const calibration = computeNumericCalibration({ edges, counts }, (q) => summary.digest.quantile(q));
  return freezeDeep({
    type: 'numeric',
    count: summary.count,
    missing: summary.missing,
    missingRate: summary.missingRate,
    edges,
    counts,
    digest: summary.digest.toJSON(),
    min: empty ? 0 : summary.min,
    max: empty ? 0 : summary.max,
    mean: summary.mean,
    std,
    calibration: storedCalibration(calibration),
  } satisfies NumericFeatureProfile);
}

/**
 * An empty window summary matching a column's profile: a {@link NumericSummary}
 * on the profile's edges (same compression), or a {@link CategoricalSummary}
 * with the same top K.
 */
export function createSummary(feature: NumericFeatureProfile): NumericSummary;
export function createSummary(feature: CategoricalFeatureProfile): CategoricalSummary;
export function createSummary(feature: FeatureProfile): NumericSummary | CategoricalSummary;
export function createSummary(feature: FeatureProfile): NumericSummary | CategoricalSummary {
  if (feature.type === 'numeric') {
    return new NumericSummary(profileEdges(feature), { compression: feature.digest.c, exactLimit: feature.digest.x });
  }
  return new CategoricalSummary({ topK: feature.topK });
}

const edgesCache = new WeakMap<NumericFeatureProfile, Float64Array>();

/** The profile's bin edges as one Float64Array per profile object, shared by every summary on it (do not mutate it). */
export function profileEdges(feature: NumericFeatureProfile): Float64Array {
  let edges = edgesCache.get(feature);
  if (!edges) edgesCache.set(feature, (edges = Float64Array.from(feature.edges)));
  return edges;
}

const digestCache = new WeakMap<NumericFeatureProfile, MergingDigest>();

/** The profile's digest, deserialized once per profile object and cached (do not mutate it). */
export function referenceDigest(feature: NumericFeatureProfile): MergingDigest {
  let d = digestCache.get(feature);
  if (d === undefined) {
    d = MergingDigest.fromJSON(feature.digest);
    // Held as long as the profile: whole weights in single precision (exact).
    d.trim();
    digestCache.set(feature, d);
  }
  return d;
}

/**
 * Drops what the cached digests of a reference's numeric columns keep beside
 * their centroids (the CDF knots an evaluation left, about as large again),
 * between evaluations: with many models, references are most of what stays.
 */
export function trimReferenceDigests(features: Iterable<FeatureProfile | undefined>): void {
  for (const f of features) if (f?.type === 'numeric') digestCache.get(f)?.trim();
}

/** Bin counts of `values` on `edges` (helper for callers holding raw values). */
export function binCounts(edges: readonly number[], values: ArrayLike<number>): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) counts[binIndex(edges, values[i])]++;
  return counts;
}

/** Compact JSON text of a profile. */
export function serializeProfile(profile: ReferenceProfile): string {
  return JSON.stringify(profile);
}

/**
 * Parses and validates a profile written by {@link serializeProfile} (text or
 * an already-parsed object) and returns it frozen. Throws TypeError when the
 * value is not a profile of a known format version.
 */
export function parseProfile(input: string | unknown): ReferenceProfile {
  const raw = (typeof input === 'string' ? JSON.parse(input) : input) as Partial<ReferenceProfile> | null;
  if (!raw || typeof raw !== 'object') throw new TypeError('reference profile: not an object');
  if (raw.formatVersion !== PROFILE_FORMAT_VERSION) {
    throw new TypeError(`reference profile: unsupported formatVersion ${String(raw.formatVersion)}`);
  }
  if (typeof raw.id !== 'string' || typeof raw.createdAt !== 'number' || typeof raw.version !== 'number') {
    throw new TypeError('reference profile: id, version and createdAt are required');
  }
  if (!raw.features || typeof raw.features !== 'object') throw new TypeError('reference profile: features missing');
  for (const [name, f] of Object.entries(raw.features)) {
    if (f?.type === 'numeric') {
      if (!Array.isArray(f.edges) || !Array.isArray(f.counts) || f.counts.length !== f.edges.length + 1 || !f.digest) {
        throw new TypeError(`reference profile: numeric feature ${name} is malformed`);
      }
      MergingDigest.fromJSON(f.digest);
    } else if (f?.type === 'categorical') {
      if (!f.categories || typeof f.categories !== 'object') throw new TypeError(`reference profile: categorical feature ${name} is malformed`);
    } else throw new TypeError(`reference profile: feature ${name} has an unknown type`);
  }
  if (raw.multivariate !== undefined) checkMultivariateProfile(raw.multivariate);
  if (raw.estimation !== undefined) checkEstimationProfile(raw.estimation);
  const segments = raw.segments === undefined ? undefined : parseSegments(raw.segments);
  return freezeDeep({ modelId: null, rows: 0, ...raw, ...(segments ? { segments } : {}) } as ReferenceProfile);
}

function parseSegments(raw: unknown): SegmentProfiles<ReferenceProfile> {
  if (!raw || typeof raw !== 'object') throw new TypeError('reference profile: segments is malformed');
  const out: Record<string, { counts: Record<string, number>; profiles: Record<string, ReferenceProfile> }> = {};
  for (const [attribute, a] of Object.entries(raw as Record<string, { counts?: unknown; profiles?: unknown }>)) {
    if (!a || typeof a.counts !== 'object' || !a.profiles || typeof a.profiles !== 'object') throw new TypeError(`reference profile: segment ${attribute} is malformed`);
    const profiles: Record<string, ReferenceProfile> = {};
    for (const [v, p] of Object.entries(a.profiles as Record<string, unknown>)) profiles[v] = parseProfile(p);
    out[attribute] = { counts: a.counts as Record<string, number>, profiles };
  }
  return out;
}

/** Names of the categories a categorical profile knows by name (without `__other__`). */
export function knownCategories(feature: CategoricalFeatureProfile): string[] {
  return Object.keys(feature.categories).filter((c) => c !== OTHER_CATEGORY);
}

function freezeDeep<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) freezeDeep(v);
  }
  return value;
}
