import { CategoricalSummary, OTHER_CATEGORY } from '../stats/categorical-summary.js';

/** The value that pools every segment value outside the top K. */
export const OTHER_SEGMENT = '__other__';

/** The reference of one segment attribute: its values' counts, and one profile per kept value and `__other__`. */
export interface SegmentAttributeProfile<P> {
  /** Reference rows per kept value, and `__other__` for the rest (rows without the attribute included). */
  readonly counts: Readonly<Record<string, number>>;
  /** A reference profile (src/core/profile/reference-profile.ts) per kept value and `__other__`. */
  readonly profiles: Readonly<Record<string, P>>;
}

/** Segment references by attribute name. */
export type SegmentProfiles<P> = Readonly<Record<string, SegmentAttributeProfile<P>>>;

/** The segment value of a cell: a string, a number or boolean as text; null when absent. */
export function segmentValueOfCell(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

/** The segment value of a row's attributes: a string, a number or boolean as text; null when absent. */
export function segmentValueOf(attributes: Readonly<Record<string, unknown>> | undefined, attribute: string): string | null {
  return segmentValueOfCell(attributes?.[attribute]);
}

/**
 * Counts the values of each segment attribute in a sample, so that the
 * `topK` most frequent are known before the rows are profiled (a first
 * pass). Memory is bounded: per attribute, a {@link CategoricalSummary} of
 * `max(4 topK, 1000)` values by name (exact below twice that many distinct
 * values; beyond it, the least frequent names fold away as category counts
 * do).
 */
export class SegmentValueTally {
  private readonly counts: Map<string, CategoricalSummary>;

  constructor(
    readonly attributes: readonly string[],
    private readonly topK: number,
  ) {
    this.counts = new Map(attributes.map((a) => [a, new CategoricalSummary({ topK: Math.max(4 * topK, 1000) })]));
  }

  /** Counts one row's value of `attribute` (null: the row lacks it). */
  accept(attribute: string, value: string | null): void {
    if (value !== null && value !== OTHER_SEGMENT) this.counts.get(attribute)?.accept(value);
  }

  /** Per attribute, the `topK` most frequent values, most frequent first (ties by name). */
  kept(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [a, c] of this.counts) out[a] = [...c.counts().keys()].filter((v) => v !== OTHER_CATEGORY).slice(0, this.topK);
    return out;
  }
}
