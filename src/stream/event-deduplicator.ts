import bloomFilters from 'bloom-filters';

// A CommonJS package: Node's ESM loader gives its exports as the default one.
const { BloomFilter } = bloomFilters;
type BloomFilter = InstanceType<typeof BloomFilter>;

/** False-positive rate of each generation of the filter. */
export const DEDUP_ERROR_RATE = 0.001;

/**
 * Remembers the eventIds of one partition for at least `windowMs` (at most
 * twice that) in two generations of a Bloom filter: bounded memory, about
 * 14.4 bits per id per generation at {@link DEDUP_ERROR_RATE} (1.8 MB per
 * generation for a million ids, so 3.6 MB per partition), and a false
 * positive, an event taken for a duplicate it is not, for at most 0.2% of
 * events when a generation holds `capacity` ids (more beyond). Both
 * generations are consulted; the older is dropped each `windowMs`.
 *
 * It lives in memory only: after a restart or a rebalance the partition
 * starts with an empty filter (replays from the checkpoint are exact
 * already; this catches producers that send the same event twice).
 */
export class EventDeduplicator {
  private current: BloomFilter;
  private previous: BloomFilter | undefined;
  private rotatedAt: number;

  constructor(
    private readonly windowMs: number,
    private readonly capacity: number,
    now: number,
  ) {
    this.current = BloomFilter.create(capacity, DEDUP_ERROR_RATE);
    this.rotatedAt = now;
  }

  /** True when `eventId` was seen within the window (it is then not counted again); remembers it otherwise. */
  seen(eventId: string, now: number): boolean {
    if (now - this.rotatedAt >= this.windowMs) {
      this.previous = now - this.rotatedAt >= 2 * this.windowMs ? undefined : this.current;
      this.current = BloomFilter.create(this.capacity, DEDUP_ERROR_RATE);
      this.rotatedAt = now;
    }
    if (this.current.has(eventId) || this.previous?.has(eventId)) return true;
    this.current.add(eventId);
    return false;
  }
}
