import { OTHER_SEGMENT, segmentValueOf } from '../profile/segment-profiles.js';
import type { PaneLayout, SegmentLayout } from './pane-layout.js';

/** What a segment keeps per value: a pane on the value's layout (src/core/windows/pane.ts). */
export interface SegmentPane<P> {
  readonly count: number;
  acceptGathered(score: number | null, prediction: number | string | null, modelVersion: string | null): void;
  merge(other: P): unknown;
  toJSON(): unknown;
}

/** One attribute's panes: per kept value (created on its first event) and the pooled rest. */
export interface AttributePanes<P> {
  readonly attribute: string;
  readonly values: Map<string, P>;
  other: P | undefined;
}

/**
 * The segment panes of one pane: for each segment attribute, a pane per
 * value the reference kept (its top K by traffic) and one for every other
 * value, so state is bounded by (K + 1) panes per attribute however many
 * distinct values arrive. Each counts the event its parent pane just
 * counted (the gathered features are shared). Merges value by value.
 */
export class SegmentPanes<P extends SegmentPane<P>> {
  readonly attributes: AttributePanes<P>[];

  constructor(
    private readonly layouts: readonly SegmentLayout[],
    private readonly create: (layout: PaneLayout) => P,
  ) {
    this.attributes = layouts.map((l) => ({ attribute: l.attribute, values: new Map<string, P>(), other: undefined }));
  }

  /** Counts the gathered event in its segment of every attribute (`modelVersion` is also an attribute). */
  acceptGathered(attributes: Readonly<Record<string, string>> | null | undefined, score: number | null, prediction: number | string | null, modelVersion: string | null): void {
    for (let i = 0; i < this.layouts.length; i++) {
      const l = this.layouts[i];
      const v = l.attribute === 'modelVersion' ? modelVersion : segmentValueOf(attributes ?? undefined, l.attribute);
      this.paneOf(i, v).acceptGathered(score, prediction, modelVersion);
    }
  }

  private paneOf(i: number, value: string | null): P {
    const l = this.layouts[i];
    const a = this.attributes[i];
    const layout = value === null ? undefined : l.values.get(value);
    if (layout === undefined) return (a.other ??= this.create(l.other));
    let p = a.values.get(value!);
    if (p === undefined) a.values.set(value!, (p = this.create(layout)));
    return p;
  }

  /** Adds `other`'s segments (same layouts) into these. */
  merge(other: SegmentPanes<P>): this {
    other.attributes.forEach((a, i) => {
      for (const [v, p] of a.values) this.paneOf(i, v).merge(p);
      if (a.other) this.paneOf(i, null).merge(a.other);
    });
    return this;
  }

  /** `{attribute: {value: pane JSON}}`, `__other__` for the pooled rest; only segments that saw events. */
  toJSON(): Record<string, Record<string, unknown>> {
    const out: Record<string, Record<string, unknown>> = {};
    for (const a of this.attributes) {
      const m: Record<string, unknown> = {};
      for (const [v, p] of a.values) m[v] = p.toJSON();
      if (a.other) m[OTHER_SEGMENT] = a.other.toJSON();
      out[a.attribute] = m;
    }
    return out;
  }

  /** Restores segments written by {@link toJSON}; values the layouts no longer keep are pooled. */
  restore<J>(json: Record<string, Record<string, J>>, restore: (json: J, layout: PaneLayout) => P): this {
    this.layouts.forEach((l, i) => {
      for (const [v, pj] of Object.entries(json[l.attribute] ?? {})) {
        const layout = v === OTHER_SEGMENT ? l.other : l.values.get(v);
        if (layout === undefined) continue;
        this.paneOf(i, v === OTHER_SEGMENT ? null : v).merge(restore(pj, layout));
      }
    });
    return this;
  }
}
