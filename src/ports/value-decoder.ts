/** A decoded record value. */
export interface Decoded {
  readonly value: unknown;
  /** True when the decoder saw that no string in the value holds a NUL character (so none is searched). */
  readonly nulFree?: boolean;
}

/** Decoding as the processor needs it (src/adapters/registry/event-codec.ts implements it). */
export interface ValueDecoder {
  /** Synchronous decode; undefined when the writer schema must be fetched first. */
  decodeCached(buf: Buffer | null | undefined): Decoded | undefined;
  decode(buf: Buffer | null | undefined): Promise<Decoded>;
}
