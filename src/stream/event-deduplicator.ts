import { deflateRawSync, inflateRawSync, constants as zlib } from 'node:zlib';
import bloomFilters from 'bloom-filters';

// A CommonJS package: Node's ESM loader gives its exports as the default one.
const { BloomFilter } = bloomFilters;
type BloomFilter = InstanceType<typeof BloomFilter>;

/** False-positive rate of each generation of the filter. */
export const DEDUP_ERROR_RATE = 0.001;

/**
 * One generation of the filter inside a checkpoint: its bits in base64, raw-deflated (`deflate`)
 * while the generation is sparse enough for that to pay, as they are (`raw`) once it is not.
 */
interface GenerationJSON {
  ids: number;
  enc: 'deflate' | 'raw';
  bits: string;
}

/** A generation holding fewer ids than this share of its capacity is deflated (3.5% of its bits set, or fewer): that pays in size and time; fuller ones are stored raw. */
const DEFLATE_BELOW = 0.05;

interface Generation {
  filter: BloomFilter;
  ids: number;
}

/**
 * The filter as a partition checkpoint holds it (format version 1). The
 * filter's geometry (`size` bits, `hashes`, the hash `seed`) is stored with
 * it: a checkpoint whose geometry differs from the running configuration (a
 * changed capacity, another library version) is not restored, the partition
 * starts with an empty filter instead.
 */
export interface DedupStateJSON {
  v: 1;
  size: number;
  hashes: number;
  seed: number;
  windowMs: number;
  rotatedAt: number;
  current: GenerationJSON;
  previous?: GenerationJSON;
}

/**
 * Remembers the eventIds of one partition for at least `windowMs` (at most
 * twice that) in two generations of a Bloom filter: bounded memory, about
 * 14.4 bits per id per generation at {@link DEDUP_ERROR_RATE} (1.8 MB per
 * generation for a million ids, so 3.6 MB per partition), and a false
 * positive, an event taken for a duplicate it is not, for at most 0.2% of
 * events when a generation holds `capacity` ids (more beyond). Both
 * generations are consulted; the older is dropped each `windowMs`.
 *
 * The filter is part of the partition's checkpoint ({@link toJSON},
 * {@link restore}): it always holds exactly the ids of the records before the
 * checkpoint's offset, so a restart or a rebalance neither forgets the ids
 * already counted nor takes a replayed record for a duplicate of itself.
 */
export class EventDeduplicator {
  private current: Generation;
  private previous: Generation | undefined;
  private rotatedAt: number;
  /** The last {@link toJSON}, while no id was added or generation dropped since. */
  private saved: DedupStateJSON | undefined;

  constructor(
    private readonly windowMs: number,
    private readonly capacity: number,
    now: number,
  ) {
    this.current = this.empty();
    this.rotatedAt = now;
  }

  private empty(): Generation {
    return { filter: BloomFilter.create(this.capacity, DEDUP_ERROR_RATE), ids: 0 };
  }

  /** True when `eventId` was seen within the window (it is then not counted again); remembers it otherwise. */
  seen(eventId: string, now: number): boolean {
    if (now - this.rotatedAt >= this.windowMs) {
      this.previous = now - this.rotatedAt >= 2 * this.windowMs ? undefined : this.current;
      this.current = this.empty();
      this.rotatedAt = now;
      this.saved = undefined;
    }
    if (this.current.filter.has(eventId) || this.previous?.filter.has(eventId)) return true;
    this.current.filter.add(eventId);
    this.current.ids++;
    this.saved = undefined;
    return false;
  }

  /** Bytes of bit array held in memory (both generations). */
  get memoryBytes(): number {
    return this.current.filter._filter.array.length + (this.previous?.filter._filter.array.length ?? 0);
  }

  /** The filter for a checkpoint: its geometry and both generations (an unchanged filter is not encoded again). */
  toJSON(): DedupStateJSON {
    if (this.saved) return this.saved;
    const f = this.current.filter;
    this.saved = {
      v: 1,
      size: f._size,
      hashes: f._nbHashes,
      seed: f.seed,
      windowMs: this.windowMs,
      rotatedAt: this.rotatedAt,
      current: this.encode(this.current),
      ...(this.previous ? { previous: this.encode(this.previous) } : {}),
    };
    return this.saved;
  }

  private encode(g: Generation): GenerationJSON {
    const bytes = g.filter._filter.array;
    // A sparse filter is mostly zero bytes and deflates to little; a fuller one would not pay for the time.
    if (g.ids < this.capacity * DEFLATE_BELOW) {
      return { ids: g.ids, enc: 'deflate', bits: deflateRawSync(bytes, { level: zlib.Z_BEST_SPEED }).toString('base64') };
    }
    return { ids: g.ids, enc: 'raw', bits: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64') };
  }

  /**
   * Restores the filter a checkpoint holds. Returns false, leaving the filter
   * as it is, when the checkpoint holds none, an unknown format or another
   * geometry (the caller then starts with an empty filter and says so).
   */
  restore(json: unknown): boolean {
    const s = json as Partial<DedupStateJSON> | undefined;
    const f = this.current.filter;
    if (!s || s.v !== 1 || s.size !== f._size || s.hashes !== f._nbHashes || s.seed !== f.seed || s.windowMs !== this.windowMs) return false;
    if (typeof s.rotatedAt !== 'number' || !s.current) return false;
    const current = this.decode(s.current);
    const previous = s.previous ? this.decode(s.previous) : undefined;
    if (current === undefined || (s.previous && previous === undefined)) return false;
    this.current = current;
    this.previous = previous;
    this.rotatedAt = s.rotatedAt;
    this.saved = undefined;
    return true;
  }

  private decode(g: GenerationJSON): Generation | undefined {
    if (typeof g.bits !== 'string' || !Number.isInteger(g.ids)) return undefined;
    let bytes: Buffer;
    try {
      const encoded = Buffer.from(g.bits, 'base64');
      if (g.enc === 'deflate') bytes = inflateRawSync(encoded);
      else if (g.enc === 'raw') bytes = encoded;
      else return undefined;
    } catch {
      return undefined;
    }
    const gen = this.empty();
    if (bytes.length !== gen.filter._filter.array.length) return undefined;
    gen.filter._filter.array.set(bytes);
    gen.ids = g.ids;
    return gen;
  }
}
