import {
  PerformanceCounters,
  labelIncrements,
  paneStartOf,
  visitPredictionIncrements,
  type InferenceRecord,
  type LabelRecord,
} from '../../core/stats/performance.js';
import {
  DEFAULT_LABEL_HORIZON_MS,
  emptyOutcome,
  type JoinOutcome,
  type LabelJoin,
  type LabelJoinOptions,
  type LabelJoinStats,
  type PaneRef,
} from '../../stream/label-join.js';

interface Expiring<T> {
  value: T;
  expiresAt: number;
}

/** The counters of one pane, with its key and reference built once (not per event). */
interface PaneEntry {
  readonly ref: PaneRef;
  readonly key: string;
  readonly counters: PerformanceCounters;
  expiresAt: number;
}

/** Default bound of pending inferences (and of labels waiting for theirs) of {@link MemoryLabelJoin}. */
export const DEFAULT_MEMORY_LABEL_CAPACITY = 100_000;

/** Options of {@link MemoryLabelJoin}. */
export interface MemoryLabelJoinOptions extends LabelJoinOptions {
  clock?: () => number;
  /**
   * Most inferences kept waiting for their label, and most labels kept
   * waiting for their inference (each). When full the oldest goes first: an
   * evicted inference is counted in `evicted` (its label, if it comes, waits
   * and expires), an evicted label is counted as expired. Default 100,000.
   */
  capacity?: number;
}

/**
 * Insertion order of a map's keys, to find the oldest in O(1). `Map` keeps
 * insertion order too, but V8 leaves a hole per deleted entry until the
 * table is rehashed, so taking `keys().next()` after many deletions walks
 * all the holes: evicting one per insert at 100,000 entries cost ~30 µs.
 * A key may be queued more than once or outlive its entry; the sequence
 * number tells the live position from stale ones.
 */
class EvictionQueue {
  private keys: string[] = [];
  private seqs: number[] = [];
  private head = 0;
  private nextSeq = 0;

  push(key: string): number {
    const seq = this.nextSeq++;
    this.keys.push(key);
    this.seqs.push(seq);
    return seq;
  }

  /** The oldest queued key whose entry `isLive` confirms, removed from the queue. */
  shift(isLive: (key: string, seq: number) => boolean): string | undefined {
    while (this.head < this.keys.length) {
      const key = this.keys[this.head];
      const seq = this.seqs[this.head];
      this.head++;
      if (isLive(key, seq)) {
        this.compactIfSparse();
        return key;
      }
    }
    this.compactIfSparse();
    return undefined;
  }

  /** Drops stale positions once the queue is mostly stale (amortized O(1) per push). */
  maybeCompact(liveCount: number, isLive: (key: string, seq: number) => boolean): void {
    if (this.keys.length - this.head <= 2 * liveCount + 1024) return;
    const keys: string[] = [];
    const seqs: number[] = [];
    for (let i = this.head; i < this.keys.length; i++) {
      if (isLive(this.keys[i], this.seqs[i])) {
        keys.push(this.keys[i]);
        seqs.push(this.seqs[i]);
      }
    }
    this.keys = keys;
    this.seqs = seqs;
    this.head = 0;
  }

  private compactIfSparse(): void {
    if (this.head > 4096 && this.head * 2 > this.keys.length) {
      this.keys = this.keys.slice(this.head);
      this.seqs = this.seqs.slice(this.head);
      this.head = 0;
    }
  }
}

interface Pending<T> extends Expiring<T> {
  seq: number;
}

function emptyStats(): LabelJoinStats {
  return { inferences: 0, inferenceDuplicates: 0, labels: 0, joined: 0, labelDuplicates: 0, waited: 0, expired: 0, evicted: 0 };
}

// Model and event ids may hold any character; a length prefix keeps the pair unambiguous.
function idKey(modelId: string, eventId: string): string {
  return `${modelId.length}:${modelId}:${eventId}`;
}

function paneKey(p: PaneRef): string {
  return `${p.modelId.length}:${p.modelId}:${p.paneMs}:${p.paneStart}`;
}

/**
 * The label join in process memory, with the same semantics as the Redis
 * adapter (horizon, duplicates, waiting labels, expiry). For the no-Redis
 * mode and tests: a restart loses pending joins. Unlike Redis it is bounded
 * ({@link MemoryLabelJoinOptions.capacity}): at 50,000 events/s a 7-day
 * horizon would otherwise hold every event of the week.
 */
export class MemoryLabelJoin implements LabelJoin {
  private readonly horizonMs: number;
  private readonly counterTtlMs: number;
  private readonly inferences = new Map<string, Pending<InferenceRecord>>();
  private readonly waiting = new Map<string, Pending<LabelRecord>>();
  private readonly inferenceOrder = new EvictionQueue();
  private readonly waitingOrder = new EvictionQueue();
  private readonly liveInference = (key: string, seq: number) => this.inferences.get(key)?.seq === seq;
  private readonly liveWaiting = (key: string, seq: number) => this.waiting.get(key)?.seq === seq;
  private readonly joinedMarks = new Map<string, number>();
  private readonly counters = new Map<string, PaneEntry>();
  // The pane each model's last inference went to, per pane length: consecutive events mostly share it.
  private readonly lastPanes = new Map<string, PaneEntry[]>();
  private readonly dirty = new Map<string, PaneRef>();
  private readonly modelStats = new Map<string, LabelJoinStats>();
  private readonly capacity: number;
  // Labels evicted to make room, counted as expired by the next expireWaitingLabels.
  private evictedLabels: Record<string, number> = {};

  constructor(options: MemoryLabelJoinOptions = {}) {
    this.horizonMs = options.horizonMs ?? DEFAULT_LABEL_HORIZON_MS;
    this.counterTtlMs = options.counterTtlMs ?? this.horizonMs + 3_600_000;
    this.clock = options.clock ?? Date.now;
    this.capacity = Math.max(1, options.capacity ?? DEFAULT_MEMORY_LABEL_CAPACITY);
  }

  private readonly clock: () => number;

  private stat(modelId: string): LabelJoinStats {
    let s = this.modelStats.get(modelId);
    if (!s) this.modelStats.set(modelId, (s = emptyStats()));
    return s;
  }

  // Expired entries are left in place: waiting labels stay until expireWaitingLabels counts them.
  private live<T>(map: Map<string, Expiring<T>>, key: string, now: number): T | undefined {
    // Without labels the waiting map stays empty: skip hashing the key for it.
    if (map.size === 0) return undefined;
    const e = map.get(key);
    return e && e.expiresAt > now ? e.value : undefined;
  }

  private isJoined(key: string, now: number): boolean {
    if (this.joinedMarks.size === 0) return false;
    const t = this.joinedMarks.get(key);
    if (t === undefined) return false;
    if (t <= now) {
      this.joinedMarks.delete(key);
      return false;
    }
    return true;
  }

  private pane(modelId: string, paneMs: number, paneStart: number, now: number): PaneEntry {
    let last = this.lastPanes.get(modelId);
    if (!last) this.lastPanes.set(modelId, (last = []));
    let slot = -1;
    for (let i = 0; i < last.length; i++) {
      if (last[i].ref.paneMs !== paneMs) continue;
      // A live entry is still in the map: purge drops only what expired.
      if (last[i].ref.paneStart === paneStart && last[i].expiresAt > now) return last[i];
      slot = i;
      break;
    }
    const ref: PaneRef = { modelId, paneMs, paneStart };
    const key = paneKey(ref);
    let e = this.counters.get(key);
    if (!e || e.expiresAt <= now) this.counters.set(key, (e = { ref, key, counters: new PerformanceCounters(), expiresAt: 0 }));
    if (slot >= 0) last[slot] = e;
    else last.push(e);
    return e;
  }

  private touch(e: PaneEntry, now: number): void {
    e.expiresAt = now + this.counterTtlMs;
    this.dirty.set(e.key, e.ref);
  }

  private applyPrediction(r: InferenceRecord, now: number): void {
    for (const paneMs of r.paneSizes) {
      const e = this.pane(r.modelId, paneMs, paneStartOf(r.timestamp, paneMs), now);
      visitPredictionIncrements(r, e.counters);
      this.touch(e, now);
    }
  }

  private applyLabel(r: InferenceRecord, l: LabelRecord, now: number): void {
    const increments = labelIncrements(r, l);
    for (const paneMs of r.paneSizes) {
      const e = this.pane(r.modelId, paneMs, paneStartOf(r.timestamp, paneMs), now);
      e.counters.add(increments);
      this.touch(e, now);
    }
  }

  private join(r: InferenceRecord, l: LabelRecord, key: string, now: number, out: JoinOutcome): void {
    this.joinedMarks.set(key, now + this.horizonMs);
    this.applyLabel(r, l, now);
    this.stat(r.modelId).joined++;
    out.joined++;
    out.joinedByModel[r.modelId] = (out.joinedByModel[r.modelId] ?? 0) + 1;
  }

  async recordInferences(records: readonly InferenceRecord[], now = this.clock()): Promise<JoinOutcome> {
    const out = emptyOutcome();
    for (const r of records) {
      const key = idKey(r.modelId, r.eventId);
      const s = this.stat(r.modelId);
      if (this.isJoined(key, now) || this.live(this.inferences, key, now)) {
        s.inferenceDuplicates++;
        out.duplicates++;
        continue;
      }
      s.inferences++;
      this.applyPrediction(r, now);
      const label = this.live(this.waiting, key, now);
      if (label) {
        this.waiting.delete(key);
        this.join(r, label, key, now, out);
      } else {
        // A key whose record expired is set anew, with a new place in the eviction order.
        this.inferences.set(key, { value: r, expiresAt: now + this.horizonMs, seq: this.inferenceOrder.push(key) });
        out.stored++;
        if (this.inferences.size > this.capacity) this.evictInference(out);
        else this.inferenceOrder.maybeCompact(this.inferences.size, this.liveInference);
      }
    }
    return out;
  }

  // Drops the oldest pending inference: counted, never silent.
  private evictInference(out: JoinOutcome): void {
    const key = this.inferenceOrder.shift(this.liveInference);
    const oldest = key === undefined ? undefined : this.inferences.get(key);
    if (key === undefined || !oldest) return;
    this.inferences.delete(key);
    const modelId = oldest.value.modelId;
    this.stat(modelId).evicted = (this.stat(modelId).evicted ?? 0) + 1;
    const by = (out.evictedByModel ??= {});
    by[modelId] = (by[modelId] ?? 0) + 1;
  }

  // Drops the oldest waiting label; the next expireWaitingLabels reports it as expired.
  private evictWaitingLabel(): void {
    const key = this.waitingOrder.shift(this.liveWaiting);
    const oldest = key === undefined ? undefined : this.waiting.get(key);
    if (key === undefined || !oldest) return;
    this.waiting.delete(key);
    const modelId = oldest.value.modelId;
    this.stat(modelId).expired++;
    this.evictedLabels[modelId] = (this.evictedLabels[modelId] ?? 0) + 1;
  }

  async recordLabels(labels: readonly LabelRecord[], now = this.clock()): Promise<JoinOutcome> {
    const out = emptyOutcome();
    for (const l of labels) {
      const key = idKey(l.modelId, l.eventId);
      const s = this.stat(l.modelId);
      s.labels++;
      if (this.isJoined(key, now)) {
        s.labelDuplicates++;
        out.duplicates++;
        continue;
      }
      const r = this.live(this.inferences, key, now);
      if (r) {
        this.inferences.delete(key);
        this.join(r, l, key, now, out);
      } else if (this.live(this.waiting, key, now)) {
        s.labelDuplicates++;
        out.duplicates++;
      } else {
        // A label whose earlier wait ran out (not yet swept) waits anew and is counted once, when this wait ends.
        this.waiting.set(key, { value: l, expiresAt: now + this.horizonMs, seq: this.waitingOrder.push(key) });
        s.waited++;
        out.stored++;
        if (this.waiting.size > this.capacity) this.evictWaitingLabel();
        else this.waitingOrder.maybeCompact(this.waiting.size, this.liveWaiting);
      }
    }
    return out;
  }

  async readCounters(modelId: string, paneMs: number, from: number, to: number): Promise<PerformanceCounters> {
    const now = this.clock();
    const merged = new PerformanceCounters();
    for (const e of this.counters.values()) {
      const { ref, counters } = e;
      if (e.expiresAt > now && ref.modelId === modelId && ref.paneMs === paneMs && ref.paneStart >= from && ref.paneStart < to) merged.merge(counters);
    }
    return merged;
  }

  async readPanes(modelId: string, paneMs: number, from: number, to: number): Promise<Map<number, PerformanceCounters>> {
    const now = this.clock();
    const out = new Map<number, PerformanceCounters>();
    for (const e of this.counters.values()) {
      const { ref, counters } = e;
      if (e.expiresAt > now && ref.modelId === modelId && ref.paneMs === paneMs && ref.paneStart >= from && ref.paneStart < to) {
        out.set(ref.paneStart, new PerformanceCounters().merge(counters));
      }
    }
    return out;
  }

  async paneStarts(modelId: string, paneMs: number, from = -Infinity, to = Infinity): Promise<number[]> {
    const now = this.clock();
    const out: number[] = [];
    for (const e of this.counters.values()) {
      const { ref } = e;
      if (e.expiresAt > now && ref.modelId === modelId && ref.paneMs === paneMs && ref.paneStart >= from && ref.paneStart < to) out.push(ref.paneStart);
    }
    return out.sort((a, b) => a - b);
  }

  async takeDirtyPanes(max: number): Promise<PaneRef[]> {
    const out: PaneRef[] = [];
    for (const [k, ref] of this.dirty) {
      if (out.length >= max) break;
      // A copy: the stored reference is shared by the pane's entry.
      out.push({ ...ref });
      this.dirty.delete(k);
    }
    return out;
  }

  async markDirty(panes: readonly PaneRef[]): Promise<void> {
    for (const p of panes) this.dirty.set(paneKey(p), { ...p });
  }

  async expireWaitingLabels(now = this.clock(), max = 10_000): Promise<Record<string, number>> {
    this.purge(now);
    const out: Record<string, number> = this.evictedLabels;
    this.evictedLabels = {};
    let n = 0;
    for (const [k, e] of this.waiting) {
      if (n >= max) break;
      if (e.expiresAt > now) continue;
      this.waiting.delete(k);
      this.stat(e.value.modelId).expired++;
      out[e.value.modelId] = (out[e.value.modelId] ?? 0) + 1;
      n++;
    }
    return out;
  }

  // Drops what expired, as Redis does with its TTLs.
  private purge(now: number): void {
    for (const [k, e] of this.inferences) if (e.expiresAt <= now) this.inferences.delete(k);
    for (const [k, t] of this.joinedMarks) if (t <= now) this.joinedMarks.delete(k);
    for (const [k, e] of this.counters) if (e.expiresAt <= now) this.counters.delete(k);
  }

  async stats(modelId: string): Promise<LabelJoinStats> {
    return { ...(this.modelStats.get(modelId) ?? emptyStats()) };
  }

  async close(): Promise<void> {}
}
