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

/** What {@link buildSegmentProfiles} builds a segment's profile with (a ReferenceProfileBuilder). */
export interface SegmentProfileBuilder<P> {
  build(meta: { createdAt: number; id: string; modelId: string | null; version?: number }): P;
}

/** The segment value of a row's attributes: a string, a number or boolean as text; null when absent. */
export function segmentValueOf(attributes: Readonly<Record<string, unknown>> | undefined, attribute: string): string | null {
  const v = attributes?.[attribute];
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

/**
 * Builds the segment references of a reference sample in two passes: the
 * values of each attribute are counted, the `topK` most frequent kept, and
 * each kept value (and `__other__`) gets a profile of its own rows, built by
 * `feed` into a builder from `newBuilder`. Memory while building: one
 * builder per kept value, so (topK + 1) x the rows' values at most.
 */
export function buildSegmentProfiles<R, P, B extends SegmentProfileBuilder<P>>(
  rows: readonly R[],
  attributes: readonly string[],
  topK: number,
  segmentOf: (row: R) => Readonly<Record<string, unknown>> | undefined,
  newBuilder: () => B,
  feed: (builder: B, row: R) => void,
  meta: { createdAt: number; id: string; modelId: string | null; version?: number },
): SegmentProfiles<P> | undefined {
  if (attributes.length === 0) return undefined;
  const out: Record<string, SegmentAttributeProfile<P>> = {};
  for (const attribute of attributes) {
    const tally = new Map<string, number>();
    for (const row of rows) {
      const v = segmentValueOf(segmentOf(row), attribute);
      if (v !== null && v !== OTHER_SEGMENT) tally.set(v, (tally.get(v) ?? 0) + 1);
    }
    const kept = [...tally.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, topK).map(([v]) => v);
    const builders = new Map<string, B>([...kept, OTHER_SEGMENT].map((v) => [v, newBuilder()]));
    const counts: Record<string, number> = Object.fromEntries([...builders.keys()].map((v) => [v, 0]));
    for (const row of rows) {
      const v = segmentValueOf(segmentOf(row), attribute);
      const key = v !== null && builders.has(v) ? v : OTHER_SEGMENT;
      counts[key]++;
      feed(builders.get(key)!, row);
    }
    const profiles: Record<string, P> = {};
    for (const [v, b] of builders) profiles[v] = b.build({ ...meta, id: `${meta.id}#${attribute}=${v}` });
    out[attribute] = Object.freeze({ counts: Object.freeze(counts), profiles: Object.freeze(profiles) });
  }
  return Object.freeze(out);
}
