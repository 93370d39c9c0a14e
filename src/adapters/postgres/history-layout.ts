import type { Evaluation, FeatureType } from '../../core/drift/types.js';

/** A feature (or output) of a layout: name, type, values in the reference. */
export type LayoutEntry = [name: string, type: FeatureType, nReference: number | null];

/**
 * What consecutive windows of a (model, window) share, stored once in
 * `history_layouts`: every per-feature array of an evaluation row has one
 * element per name of {@link layoutNames}, in this order. Absent keys are
 * left out (as `jsonb_strip_nulls` leaves them), so equal layouts have equal
 * JSON.
 */
export interface HistoryLayout {
  referenceId?: string;
  modelVersion?: string;
  features: LayoutEntry[];
  outputs: LayoutEntry[];
  /** Keys of the proxy metrics, when the evaluations have them. */
  proxy?: string[];
  /** Features of the data-quality share outside the reference range. */
  outOfRange?: string[];
  dataQuality: boolean;
}

/** jsonb's order of object keys (shorter first, then bytewise), so a layout the migrations built from stored JSON matches this one. */
function jsonbOrder(a: string, b: string): number {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length - bb.length || Buffer.compare(ba, bb);
}

const keysOf = (r: object) => Object.keys(r).sort(jsonbOrder);

const entries = (r: Evaluation['features'] | undefined): LayoutEntry[] =>
  keysOf(r ?? {}).map((name) => {
    const f = r![name];
    return [name, f.type, Number.isFinite(f.nReference) ? f.nReference : null];
  });

/** The layout of an evaluation. */
export function layoutOf(e: Evaluation): HistoryLayout {
  const layout: HistoryLayout = { features: entries(e.features), outputs: entries(e.prediction), dataQuality: e.dataQuality !== undefined };
  if (e.referenceId !== undefined && e.referenceId !== null) layout.referenceId = e.referenceId;
  if (e.modelVersion !== undefined && e.modelVersion !== null) layout.modelVersion = e.modelVersion;
  if (e.proxy) layout.proxy = keysOf(e.proxy);
  if (e.dataQuality) layout.outOfRange = keysOf(e.dataQuality.outOfRange ?? {});
  return layout;
}

/** The features then the outputs: what each element of a per-feature array is about. */
export function layoutNames(layout: HistoryLayout): string[] {
  return [...layout.features, ...layout.outputs].map(([name]) => name);
}
