import { PCA } from 'ml-pca';
import { mulberry32 } from '../random.js';
import { sortFloat64 } from '../stats/sort-float64.js';

/**
 * The linear reconstruction of a model's standardized numeric features fitted
 * at reference build, and the null distribution of its error: what the
 * multivariate drift check compares windows with (docs/detector.md).
 */
export interface MultivariateProfile {
  /** Numeric features in the order of {@link mean}, {@link std} and the components' coordinates. */
  readonly features: readonly string[];
  readonly mean: readonly number[];
  /** Sample standard deviation (ddof 1) of each feature over the fitted rows. */
  readonly std: readonly number[];
  /** Principal axes kept (unit vectors in standardized coordinates), strongest first. */
  readonly components: readonly (readonly number[])[];
  /** The share of variance the model asked the components to explain. */
  readonly varianceShare: number;
  /** The share they explain. */
  readonly explained: number;
  /** Rows the components were fitted on (complete rows only). */
  readonly fitRows: number;
  /**
   * Reconstruction error per row (the Euclidean distance between the
   * standardized row and its projection, capped at `cap`) on held-out
   * reference rows, which the fit never saw: its count, mean and variance,
   * and the cap, the held-out distances' {@link ERROR_CAP_QUANTILE} quantile.
   * The cap bounds what one row can add, so the window's mean obeys the
   * central limit theorem even for heavy-tailed features.
   */
  readonly error: { readonly rows: number; readonly mean: number; readonly variance: number; readonly cap: number };
}

/** Options of a {@link MultivariateProfileBuilder}. */
export interface MultivariateProfileOptions {
  /** Share of variance the kept components explain. Default 0.65. */
  varianceShare?: number;
  /** Most complete rows kept (a uniform reservoir sample beyond). Default 50,000. */
  maxRows?: number;
  /** Seed of the reservoir sample, so a build repeats. */
  seed?: number;
}

/** Quantile of the held-out reference errors at which one row's error is capped. */
export const ERROR_CAP_QUANTILE = 0.995;

/** Fewest complete rows a fit needs (half fit the components, half measure the error). */
export const MIN_MULTIVARIATE_ROWS = 200;

/**
 * Collects complete rows of a model's numeric features (a bounded uniform
 * reservoir) and fits a {@link MultivariateProfile}: standardization, then
 * the principal components of the even-numbered rows (ml-pca on their
 * correlation matrix) keeping the smallest number whose explained share
 * reaches `varianceShare`, then the error's moments on the odd-numbered rows.
 * Memory: `maxRows` x features x 8 bytes.
 */
export class MultivariateProfileBuilder {
  private readonly p: number;
  private readonly maxRows: number;
  private readonly varianceShare: number;
  private rows: Float64Array;
  private kept = 0;
  private seen = 0;
  private readonly random: () => number;

  constructor(
    readonly features: readonly string[],
    options: MultivariateProfileOptions = {},
  ) {
    this.p = features.length;
    this.maxRows = options.maxRows ?? 50_000;
    this.varianceShare = options.varianceShare ?? 0.65;
    this.random = mulberry32(options.seed ?? 0x5eed);
    this.rows = new Float64Array(Math.min(this.maxRows, 1024) * this.p);
  }

  /** Offers one row: `values[i]` is feature i's value; a row with a missing or non-finite value is left out. */
  accept(values: ArrayLike<number | null | undefined>): void {
    for (let i = 0; i < this.p; i++) {
      const v = values[i];
      if (typeof v !== 'number' || v - v !== 0) return;
    }
    this.seen++;
    let slot = this.kept;
    if (this.kept === this.maxRows) {
      slot = Math.floor(this.random() * this.seen);
      if (slot >= this.maxRows) return;
    } else {
      if ((this.kept + 1) * this.p > this.rows.length) this.grow();
      this.kept++;
    }
    for (let i = 0; i < this.p; i++) this.rows[slot * this.p + i] = values[i] as number;
  }

  /** {@link accept} of a record keyed by feature name (numbers only; anything else makes the row incomplete). */
  acceptRecord(record: Readonly<Record<string, unknown>>): void {
    const row = (this.scratch ??= new Array<unknown>(this.p));
    for (let i = 0; i < this.p; i++) row[i] = record[this.features[i]];
    this.accept(row as (number | null)[]);
  }

  private scratch: unknown[] | undefined;

  private grow(): void {
    const next = new Float64Array(Math.min(this.maxRows, (this.rows.length / this.p) * 2) * this.p);
    next.set(this.rows);
    this.rows = next;
  }

  /** The fitted profile, or undefined with fewer than two usable features or {@link MIN_MULTIVARIATE_ROWS} complete rows. */
  build(): MultivariateProfile | undefined {
    if (this.kept < MIN_MULTIVARIATE_ROWS) return undefined;
    const { mean, std } = this.moments();
    const usable = this.features.map((_, i) => i).filter((i) => std[i] > 0);
    if (usable.length < 2) return undefined;
    const fitRows: number[][] = [];
    const heldOut: number[][] = [];
    for (let r = 0; r < this.kept; r++) {
      const z = usable.map((i) => (this.rows[r * this.p + i] - mean[i]) / std[i]);
      (r % 2 === 0 ? fitRows : heldOut).push(z);
    }
    const { components, explained } = principalAxes(fitRows, this.varianceShare);
    const axes = components.map((c) => Float64Array.from(c));
    const distances = sortFloat64(Float64Array.from(heldOut, (z) => Math.sqrt(residualOfStandardized(z, axes))));
    const cap = distances[Math.min(distances.length - 1, Math.floor(ERROR_CAP_QUANTILE * distances.length))];
    let sum = 0;
    let sumSq = 0;
    for (const d of distances) {
      const e = Math.min(d, cap);
      sum += e;
      sumSq += e * e;
    }
    const errMean = sum / heldOut.length;
    const variance = Math.max(0, (sumSq - heldOut.length * errMean * errMean) / (heldOut.length - 1));
    return Object.freeze({
      features: Object.freeze(usable.map((i) => this.features[i])),
      mean: Object.freeze(usable.map((i) => mean[i])),
      std: Object.freeze(usable.map((i) => std[i])),
      components: Object.freeze(components.map((c) => Object.freeze(c))),
      varianceShare: this.varianceShare,
      explained,
      fitRows: fitRows.length,
      error: Object.freeze({ rows: heldOut.length, mean: errMean, variance, cap }),
    });
  }

  private moments(): { mean: number[]; std: number[] } {
    const mean = new Array<number>(this.p).fill(0);
    const m2 = new Array<number>(this.p).fill(0);
    for (let r = 0; r < this.kept; r++) for (let i = 0; i < this.p; i++) mean[i] += this.rows[r * this.p + i];
    for (let i = 0; i < this.p; i++) mean[i] /= this.kept;
    for (let r = 0; r < this.kept; r++) for (let i = 0; i < this.p; i++) m2[i] += (this.rows[r * this.p + i] - mean[i]) ** 2;
    return { mean, std: m2.map((s) => Math.sqrt(s / (this.kept - 1))) };
  }
}

/**
 * Principal axes of standardized rows (ml-pca on their covariance matrix,
 * centred, unscaled: the rows are standardized already), strongest first, keeping the fewest whose
 * cumulative explained share reaches `share` (at least one, fewer than the
 * number of features so some error remains).
 */
export function principalAxes(rows: readonly (readonly number[])[], share: number): { components: number[][]; explained: number } {
  const pca = new PCA(rows as number[][], { method: 'covarianceMatrix', center: true, scale: false });
  const cumulative = pca.getCumulativeVariance();
  const p = rows[0].length;
  let k = 1;
  while (k < p - 1 && cumulative[k - 1] < share) k++;
  const loadings = pca.getLoadings().to2DArray();
  return { components: loadings.slice(0, k), explained: cumulative[k - 1] };
}

/** Squared distance of a standardized row from its projection onto unit, orthogonal `components`. */
export function residualOfStandardized(z: ArrayLike<number>, components: readonly ArrayLike<number>[]): number {
  let total = 0;
  for (let i = 0; i < z.length; i++) total += z[i] * z[i];
  for (const c of components) {
    let dot = 0;
    for (let i = 0; i < z.length; i++) dot += c[i] * z[i];
    total -= dot * dot;
  }
  return total > 0 ? total : 0;
}

/** Throws TypeError unless `mv` has the shape of a {@link MultivariateProfile} (a stored profile being read). */
export function checkMultivariateProfile(mv: unknown): asserts mv is MultivariateProfile {
  const m = mv as Partial<MultivariateProfile> | null;
  const numbers = (a: unknown, n: number): boolean => Array.isArray(a) && a.length === n && a.every((v) => typeof v === 'number' && Number.isFinite(v));
  const p = Array.isArray(m?.features) ? m.features.length : -1;
  const ok =
    m !== null &&
    p >= 2 &&
    m.features!.every((f) => typeof f === 'string') &&
    numbers(m.mean, p) &&
    numbers(m.std, p) &&
    m.std!.every((s) => s > 0) &&
    Array.isArray(m.components) &&
    m.components.length >= 1 &&
    m.components.every((c) => numbers(c, p)) &&
    typeof m.error === 'object' &&
    m.error !== null &&
    numbers([m.error.rows, m.error.mean, m.error.variance, m.error.cap], 4);
  if (!ok) throw new TypeError('reference profile: multivariate is malformed');
}

/** `profile` with the builder's multivariate profile attached (the same profile when none could be fitted). */
export function withMultivariate<P extends object>(profile: P, builder: MultivariateProfileBuilder | undefined): P {
  const multivariate = builder?.build();
  return multivariate ? Object.freeze({ ...profile, multivariate }) : profile;
}

/**
 * A builder for the numeric features among `types` (in their order), or
 * undefined when there are fewer than two.
 */
export function multivariateBuilderFor(types: Readonly<Record<string, string>>, options: MultivariateProfileOptions = {}): MultivariateProfileBuilder | undefined {
  const numeric = Object.keys(types).filter((n) => types[n] === 'numeric');
  return numeric.length >= 2 ? new MultivariateProfileBuilder(numeric, options) : undefined;
}
