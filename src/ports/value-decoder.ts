/** Decoding as the processor needs it (src/adapters/registry/event-codec.ts implements it). */
export interface ValueDecoder {
  /** Synchronous decode; undefined when the writer schema must be fetched first. */
  decodeCached(buf: Buffer | null | undefined): { value: unknown } | undefined;
  decode(buf: Buffer | null | undefined): Promise<{ value: unknown }>;
}
