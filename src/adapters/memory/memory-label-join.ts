import { PerformanceCounters, labelIncrements, visitPredictionIncrements } from '../../core/performance/counters.js';
import { type InferenceRecord, type LabelRecord } from '../../core/performance/records.js';
import { paneStartOf } from '../../core/windows/window-spec.js';
import { DEFAULT_LABEL_HORIZON_MS, emptyOutcome, type JoinOutcome, type LabelJoin, type LabelJoinOptions, type LabelJoinStats, type PaneRef } from '../../ports/label-join.js';

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
 * Insertion order of the pending entries, to find the oldest in O(1). `Map`
 * keeps insertion order too, but V8 leaves a hole per deleted entry until the
 * table is rehashed, so taking `keys().next()` after many deletions walks
 * all the holes: evicting one per insert at 100,000 entries cost ~30 µs.
 * An entry may be queued more than once or outlive its place; the sequence
 * number tells the live position from stale ones.
 */
class EvictionQueue {
  private models: string[] = [];
  private ids: string[] = [];
  private seqs: number[] = [];
  private head = 0;
  private nextSeq = 0;

  push(modelId: string, eventId: string): number {
    const seq = this.nextSeq++;
    this.models.push(modelId);
    this.ids.push(eventId);
    this.seqs.push(seq);
    return seq;
  }

  /** The oldest queued entry whose place `isLive` confirms, removed from the queue. */
  shift(isLive: IsLive): [modelId: string, eventId: string] | undefined {
    while (this.head < this.ids.length) {
      const i = this.head++;
      if (isLive(this.models[i], this.ids[i], this.seqs[i])) {
        const out: [string, string] = [this.models[i], this.ids[i]];
        this.compactIfSparse();
        return out;
      }
    }
    this.compactIfSparse();
    return undefined;
  }

  /** Drops stale positions once the queue is mostly stale (amortized O(1) per push). */
  maybeCompact(liveCount: number, isLive: IsLive): void {
    if (this.ids.length - this.head <= 2 * liveCount + 1024) return;
    const models: string[] = [];
    const ids: string[] = [];
    const seqs: number[] = [];
    for (let i = this.head; i < this.ids.length; i++) {
      if (isLive(this.models[i], this.ids[i], this.seqs[i])) {
        models.push(this.models[i]);
        ids.push(this.ids[i]);
        seqs.push(this.seqs[i]);
      }
    }
    this.models = models;
    this.ids = ids;
    this.seqs = seqs;
    this.head = 0;
  }

  private compactIfSparse(): void {
    if (this.head > 4096 && this.head * 2 > this.ids.length) {
      this.models = this.models.slice(this.head);
      this.ids = this.ids.slice(this.head);
      this.seqs = this.seqs.slice(this.head);
      this.head = 0;
    }
  }
}

type IsLive = (modelId: string, eventId: string, seq: number) => boolean;

interface Pending<T> extends Expiring<T> {
  seq: number;
}

/** What inferences of a model share, kept once per model instead of in every pending record. */
interface RecordShape {
  readonly modelId: string;
  readonly kind: InferenceRecord['kind'];
  readonly positiveClass: string;
  readonly paneSizes: readonly number[];
  readonly scoreOf: InferenceRecord['scoreOf'];
}

/**
 * A pending inference as the join keeps it: the fields of its record that
 * differ from event to event, beside its model's shape. One object of eight
 * fields instead of a record of ten inside a wrapper (about 90 bytes instead
 * of 200 per inference; up to the capacity of 100,000 are kept).
 */
interface PendingInference {
  readonly shape: RecordShape;
  readonly timestamp: number;
  readonly predictedPositive: 0 | 1 | null;
  readonly score: number | null;
  readonly predictedClass: string | null;
  readonly predictedValue: number | null;
  readonly expiresAt: number;
  readonly seq: number;
}

function recordOf(p: PendingInference, eventId: string): InferenceRecord {
  const { modelId, kind, positiveClass, paneSizes, scoreOf } = p.shape;
  const record: InferenceRecord = { modelId, eventId, timestamp: p.timestamp, kind, predictedPositive: p.predictedPositive, score: p.score, predictedClass: p.predictedClass, predictedValue: p.predictedValue, positiveClass, paneSizes };
  return scoreOf === undefined ? record : { ...record, scoreOf };
}

/**
 * What the join holds for one model, keyed by event id: one lookup of the
 * model per event, then plain event-id keys (no `modelId:eventId` string to
 * build and hash per event).
 */
interface ModelEntries {
  readonly stats: LabelJoinStats;
  readonly inferences: Map<string, PendingInference>;
  /** The shape of the model's last recorded inference (a new one when its configuration changed). */
  shape?: RecordShape;
  readonly waiting: Map<string, Pending<LabelRecord>>;
  readonly joinedMarks: Map<string, number>;
}

function emptyStats(): LabelJoinStats {
  return { inferences: 0, inferenceDuplicates: 0, labels: 0, joined: 0, labelDuplicates: 0, waited: 0, expired: 0, evicted: 0, firstInferenceAt: null, lastLabelAt: null };
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
  private readonly models = new Map<string, ModelEntries>();
  // Totals over every model's maps: the bound, and the skip of waiting-label lookups while none wait.
  private inferenceCount = 0;
  private waitingCount = 0;
  private readonly inferenceOrder = new EvictionQueue();
  private readonly waitingOrder = new EvictionQueue();
  private readonly liveInference: IsLive = (m, id, seq) => this.models.get(m)?.inferences.get(id)?.seq === seq;
  private readonly liveWaiting: IsLive = (m, id, seq) => this.models.get(m)?.waiting.get(id)?.seq === seq;
  private readonly counters = new Map<string, PaneEntry>();
  // The pane each model's last inference went to, per pane length: consecutive events mostly share it.
  private readonly lastPanes = new Map<string, PaneEntry[]>();
  private readonly dirty = new Map<string, PaneRef>();
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

  private of(modelId: string): ModelEntries {
    let m = this.models.get(modelId);
    if (!m) this.models.set(modelId, (m = { stats: emptyStats(), inferences: new Map(), waiting: new Map(), joinedMarks: new Map(), shape: undefined }));
    return m;
  }

  // Expired entries are left in place: waiting labels stay until expireWaitingLabels counts them.
  private live<T>(map: Map<string, Expiring<T>>, eventId: string, now: number): T | undefined {
    // Without labels the waiting maps stay empty: skip hashing the id for them.
    if (map.size === 0) return undefined;
    const e = map.get(eventId);
    return e && e.expiresAt > now ? e.value : undefined;
  }

  private hasLiveInference(m: ModelEntries, eventId: string, now: number): boolean {
    const e = m.inferences.get(eventId);
    return e !== undefined && e.expiresAt > now;
  }

  private pendingRecord(m: ModelEntries, eventId: string, now: number): InferenceRecord | undefined {
    const e = m.inferences.get(eventId);
    return e && e.expiresAt > now ? recordOf(e, eventId) : undefined;
  }

  private pendingOf(m: ModelEntries, r: InferenceRecord, expiresAt: number, seq: number): PendingInference {
    let shape = m.shape;
    if (shape === undefined || shape.modelId !== r.modelId || shape.kind !== r.kind || shape.positiveClass !== r.positiveClass || shape.paneSizes !== r.paneSizes || shape.scoreOf !== r.scoreOf) {
      m.shape = shape = { modelId: r.modelId, kind: r.kind, positiveClass: r.positiveClass, paneSizes: r.paneSizes, scoreOf: r.scoreOf };
    }
    return { shape, timestamp: r.timestamp, predictedPositive: r.predictedPositive, score: r.score, predictedClass: r.predictedClass, predictedValue: r.predictedValue, expiresAt, seq };
  }

  private isJoined(m: ModelEntries, eventId: string, now: number): boolean {
    if (m.joinedMarks.size === 0) return false;
    const t = m.joinedMarks.get(eventId);
    if (t === undefined) return false;
    if (t <= now) {
      m.joinedMarks.delete(eventId);
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

  private join(m: ModelEntries, r: InferenceRecord, l: LabelRecord, now: number, out: JoinOutcome): void {
    m.joinedMarks.set(r.eventId, now + this.horizonMs);
    this.applyLabel(r, l, now);
    m.stats.joined++;
    out.joined++;
    out.joinedByModel[r.modelId] = (out.joinedByModel[r.modelId] ?? 0) + 1;
  }

  async recordInferences(records: readonly InferenceRecord[], now = this.clock()): Promise<JoinOutcome> {
    const out = emptyOutcome();
    let m: ModelEntries | undefined;
    let modelId: string | undefined;
    for (const r of records) {
      const id = r.eventId;
      // Batches are mostly runs of one model's events (the topic is keyed by model).
      if (m === undefined || r.modelId !== modelId) {
        modelId = r.modelId;
        m = this.of(modelId);
      }
      const s = m.stats;
      s.firstInferenceAt ??= now;
      if (this.isJoined(m, id, now) || this.hasLiveInference(m, id, now)) {
        s.inferenceDuplicates++;
        out.duplicates++;
        continue;
      }
      s.inferences++;
      this.applyPrediction(r, now);
      const label = this.waitingCount === 0 ? undefined : this.live(m.waiting, id, now);
      if (label) {
        m.waiting.delete(id);
        this.waitingCount--;
        this.join(m, r, label, now, out);
      } else {
        // An id whose record expired is set anew, with a new place in the eviction order.
        const before = m.inferences.size;
        m.inferences.set(id, this.pendingOf(m, r, now + this.horizonMs, this.inferenceOrder.push(r.modelId, id)));
        this.inferenceCount += m.inferences.size - before;
        out.stored++;
        if (this.inferenceCount > this.capacity) this.evictInference(out);
        else this.inferenceOrder.maybeCompact(this.inferenceCount, this.liveInference);
      }
    }
    return out;
  }

  // Drops the oldest pending inference: counted, never silent.
  private evictInference(out: JoinOutcome): void {
    const place = this.inferenceOrder.shift(this.liveInference);
    if (place === undefined) return;
    const [modelId, eventId] = place;
    const m = this.models.get(modelId);
    if (!m?.inferences.delete(eventId)) return;
    this.inferenceCount--;
    m.stats.evicted = (m.stats.evicted ?? 0) + 1;
    const by = (out.evictedByModel ??= {});
    by[modelId] = (by[modelId] ?? 0) + 1;
  }

  // Drops the oldest waiting label; the next expireWaitingLabels reports it as expired.
  private evictWaitingLabel(): void {
    const place = this.waitingOrder.shift(this.liveWaiting);
    if (place === undefined) return;
    const [modelId, eventId] = place;
    const m = this.models.get(modelId);
    if (!m?.waiting.delete(eventId)) return;
    this.waitingCount--;
    m.stats.expired++;
    this.evictedLabels[modelId] = (this.evictedLabels[modelId] ?? 0) + 1;
  }

  async recordLabels(labels: readonly LabelRecord[], now = this.clock()): Promise<JoinOutcome> {
    const out = emptyOutcome();
    for (const l of labels) {
      const id = l.eventId;
      const m = this.of(l.modelId);
      const s = m.stats;
      s.labels++;
      s.lastLabelAt = now;
      if (this.isJoined(m, id, now)) {
        s.labelDuplicates++;
        out.duplicates++;
        continue;
      }
      const r = this.pendingRecord(m, id, now);
      if (r) {
        m.inferences.delete(id);
        this.inferenceCount--;
        this.join(m, r, l, now, out);
      } else if (this.live(m.waiting, id, now)) {
        s.labelDuplicates++;
        out.duplicates++;
      } else {
        // A label whose earlier wait ran out (not yet swept) waits anew and is counted once, when this wait ends.
        const before = m.waiting.size;
        m.waiting.set(id, { value: l, expiresAt: now + this.horizonMs, seq: this.waitingOrder.push(l.modelId, id) });
        this.waitingCount += m.waiting.size - before;
        s.waited++;
        out.stored++;
        if (this.waitingCount > this.capacity) this.evictWaitingLabel();
        else this.waitingOrder.maybeCompact(this.waitingCount, this.liveWaiting);
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
    for (const [modelId, m] of this.models) {
      if (n >= max) break;
      for (const [id, e] of m.waiting) {
        if (n >= max) break;
        if (e.expiresAt > now) continue;
        m.waiting.delete(id);
        this.waitingCount--;
        m.stats.expired++;
        out[modelId] = (out[modelId] ?? 0) + 1;
        n++;
      }
    }
    return out;
  }

  // Drops what expired, as Redis does with its TTLs.
  private purge(now: number): void {
    for (const m of this.models.values()) {
      for (const [id, e] of m.inferences) {
        if (e.expiresAt > now) continue;
        m.inferences.delete(id);
        this.inferenceCount--;
      }
      for (const [id, t] of m.joinedMarks) if (t <= now) m.joinedMarks.delete(id);
    }
    for (const [k, e] of this.counters) if (e.expiresAt <= now) this.counters.delete(k);
  }

  async stats(modelId: string): Promise<LabelJoinStats> {
    return { ...(this.models.get(modelId)?.stats ?? emptyStats()) };
  }

  async close(): Promise<void> {}
}
