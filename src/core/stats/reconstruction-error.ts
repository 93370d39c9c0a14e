/**
 * A compiled linear reconstruction: standardize the features, project onto
 * orthonormal principal axes, and measure the squared distance between the
 * standardized row and its projection. Built once per (model, reference);
 * {@link error} allocates nothing.
 */
export class Reconstruction {
  private readonly z: Float64Array;
  private readonly axes: Float64Array[];

  /**
   * @param indices where each reconstructed feature sits in the value arrays passed to {@link error}
   * @param mean per reconstructed feature
   * @param std per reconstructed feature (positive)
   * @param components unit, orthogonal axes in standardized coordinates
   * @param cap largest error one row counts for (finite)
   */
  constructor(
    readonly indices: Int32Array,
    private readonly mean: Float64Array,
    private readonly std: Float64Array,
    components: readonly ArrayLike<number>[],
    private readonly cap: number,
  ) {
    this.z = new Float64Array(indices.length);
    this.axes = components.map((c) => Float64Array.from(c as ArrayLike<number>));
  }

  /**
   * Reconstruction error of one row (`values` indexed as {@link indices}
   * says): the Euclidean distance between the standardized row and its
   * projection, capped at `cap`; NaN when a reconstructed value is missing
   * or not finite.
   */
  error(values: ArrayLike<number>): number {
    const z = this.z;
    for (let i = 0; i < z.length; i++) {
      const v = values[this.indices[i]];
      if (!(v - v === 0)) return NaN;
      z[i] = (v - this.mean[i]) / this.std[i];
    }
    return this.residual();
  }

  /** {@link error} of an event's feature map, `names` being the names the {@link indices} point into. */
  errorOfRecord(names: readonly string[], features: Readonly<Record<string, unknown>>): number {
    const z = this.z;
    for (let i = 0; i < z.length; i++) {
      const v = features[names[this.indices[i]]];
      if (typeof v !== 'number' || !(v - v === 0)) return NaN;
      z[i] = (v - this.mean[i]) / this.std[i];
    }
    return this.residual();
  }

  private residual(): number {
    const z = this.z;
    let total = 0;
    for (let i = 0; i < z.length; i++) total += z[i] * z[i];
    for (const axis of this.axes) {
      let dot = 0;
      for (let i = 0; i < z.length; i++) dot += axis[i] * z[i];
      total -= dot * dot;
    }
    const d = total > 0 ? Math.sqrt(total) : 0;
    // An absurd value (1e300) gives an infinite or NaN total: it is an error at the cap, not a missing row.
    return d < this.cap ? d : this.cap;
  }
}

/** Serialized {@link ReconstructionSummary}: [rows, sum, sum of squares, rows left out as incomplete]. */
export type ReconstructionSummaryJSON = [number, number, number, number];

/**
 * Per-pane sums of the reconstruction error: rows counted, sum and sum of
 * squares of their errors, and rows left out because a reconstructed feature
 * was missing. Summaries of panes and partitions add.
 */
export class ReconstructionSummary {
  count = 0;
  sum = 0;
  sumSq = 0;
  incomplete = 0;

  /** Counts one row's error ({@link Reconstruction.error}); NaN counts as incomplete. */
  accept(error: number): void {
    if (Number.isNaN(error)) {
      this.incomplete++;
      return;
    }
    this.count++;
    this.sum += error;
    this.sumSq += error * error;
  }

  merge(other: ReconstructionSummary): this {
    this.count += other.count;
    this.sum += other.sum;
    this.sumSq += other.sumSq;
    this.incomplete += other.incomplete;
    return this;
  }

  get mean(): number {
    return this.count === 0 ? NaN : this.sum / this.count;
  }

  /** Sample variance (ddof 1) of the rows' errors; NaN below two rows. */
  get variance(): number {
    if (this.count < 2) return NaN;
    return Math.max(0, (this.sumSq - this.count * this.mean ** 2) / (this.count - 1));
  }

  toJSON(): ReconstructionSummaryJSON {
    return [this.count, this.sum, this.sumSq, this.incomplete];
  }

  static fromJSON(json: ReconstructionSummaryJSON): ReconstructionSummary {
    if (!Array.isArray(json) || json.length !== 4 || !json.every((v) => typeof v === 'number' && v >= 0)) {
      throw new TypeError('reconstruction summary: expected [rows, sum, sumSq, incomplete]');
    }
    const s = new ReconstructionSummary();
    [s.count, s.sum, s.sumSq, s.incomplete] = json;
    return s;
  }
}
