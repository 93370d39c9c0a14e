import type { PaneLayout } from '../core/windows/pane-layout.js';

/** A decoded record value. */
export interface Decoded {
  readonly value: unknown;
  /** True when the decoder saw that no string in the value holds a NUL character (so none is searched). */
  readonly nulFree?: boolean;
  /**
   * The layout whose scratch space already holds the event's features (read straight from the
   * record, the features the layout does not use skipped); the value's `features` is then empty.
   */
  readonly gathered?: PaneLayout;
}

/** Where a decoder that can may read an event's features: straight into its model's pane layout. */
export interface FeatureTarget {
  /** The model's pane layout; undefined reads the event in full. */
  layoutOf(modelId: string): PaneLayout | undefined;
  /** A feature string longer than this (UTF-8 bytes) makes the event read in full, for validation to refuse. */
  readonly maxStringBytes: number;
}

/** Decoding as the processor needs it (src/adapters/registry/event-codec.ts implements it). */
export interface ValueDecoder {
  /** Synchronous decode; undefined when the writer schema must be fetched first. */
  decodeCached(buf: Buffer | null | undefined, target?: FeatureTarget): Decoded | undefined;
  decode(buf: Buffer | null | undefined): Promise<Decoded>;
}
