import { fail, isObject } from './config-checks.js';

/** A model's `segments` block (docs/detector.md, "Segments and attribution"). */
export interface SegmentsConfig {
  /** Event attributes to segment by (keys of the event's `attributes`, or `modelVersion`). Empty: no segments. */
  readonly attributes: readonly string[];
  /** Values of each attribute kept apart, the most frequent in the reference; the rest are pooled as `__other__`. Default 10. */
  readonly topK: number;
}

export const DEFAULT_SEGMENTS_CONFIG: SegmentsConfig = Object.freeze({ attributes: Object.freeze([]), topK: 10 });

/** Validates a model's `segments` block: `{attributes: [name, ...], topK?}` (at most 5 attributes, topK 1-50). */
export function parseSegmentsConfig(v: unknown): SegmentsConfig {
  if (v === undefined) return DEFAULT_SEGMENTS_CONFIG;
  if (!isObject(v)) fail('segments', 'expected an object {attributes, topK?}');
  const o = v;
  for (const k of Object.keys(o)) if (k !== 'attributes' && k !== 'topK') fail(`segments.${k}`, 'unknown field (expected one of attributes, topK)');
  const attributes = o.attributes ?? [];
  if (!Array.isArray(attributes) || attributes.length > 5 || !attributes.every((a) => typeof a === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(a))) {
    fail('segments.attributes', 'expected at most 5 attribute names of 1-64 letters, digits, _ . -');
  }
  if (new Set(attributes).size !== attributes.length) fail('segments.attributes', 'names an attribute twice');
  const topK = o.topK ?? DEFAULT_SEGMENTS_CONFIG.topK;
  if (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 1 || topK > 50) fail('segments.topK', `expected an integer between 1 and 50, got ${JSON.stringify(topK)}`);
  return Object.freeze({ attributes: Object.freeze([...(attributes as string[])]), topK });
}

/** The JSON form of a segments block. */
export function segmentsConfigToJson(c: SegmentsConfig): Record<string, unknown> {
  return { attributes: [...c.attributes], topK: c.topK };
}
