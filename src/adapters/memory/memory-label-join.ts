import {
  PerformanceCounters,
  labelIncrements,
  paneStartOf,
  predictionIncrements,
  type Increment,
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

function emptyStats(): LabelJoinStats {
  return { inferences: 0, inferenceDuplicates: 0, labels: 0, joined: 0, labelDuplicates: 0, waited: 0, expired: 0 };
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
 * mode and tests: a restart loses pending joins.
 */
export class MemoryLabelJoin implements LabelJoin {
  private readonly horizonMs: number;
  private readonly counterTtlMs: number;
  private readonly inferences = new Map<string, Expiring<InferenceRecord>>();
  private readonly waiting = new Map<string, Expiring<LabelRecord>>();
  private readonly joinedMarks = new Map<string, number>();
  private readonly counters = new Map<string, Expiring<{ ref: PaneRef; counters: PerformanceCounters }>>();
  private readonly dirty = new Map<string, PaneRef>();
  private readonly modelStats = new Map<string, LabelJoinStats>();

  constructor(options: LabelJoinOptions & { clock?: () => number } = {}) {
    this.horizonMs = options.horizonMs ?? DEFAULT_LABEL_HORIZON_MS;
    this.counterTtlMs = options.counterTtlMs ?? this.horizonMs + 3_600_000;
    this.clock = options.clock ?? Date.now;
  }

  private readonly clock: () => number;

  private stat(modelId: string): LabelJoinStats {
    let s = this.modelStats.get(modelId);
    if (!s) this.modelStats.set(modelId, (s = emptyStats()));
    return s;
  }

  // Expired entries are left in place: waiting labels stay until expireWaitingLabels counts them.
  private live<T>(map: Map<string, Expiring<T>>, key: string, now: number): T | undefined {
    const e = map.get(key);
    return e && e.expiresAt > now ? e.value : undefined;
  }

  private isJoined(key: string, now: number): boolean {
    const t = this.joinedMarks.get(key);
    if (t === undefined) return false;
    if (t <= now) {
      this.joinedMarks.delete(key);
      return false;
    }
    return true;
  }

  private apply(r: InferenceRecord, increments: Increment[], now: number): void {
    for (const paneMs of r.paneSizes) {
      const ref: PaneRef = { modelId: r.modelId, paneMs, paneStart: paneStartOf(r.timestamp, paneMs) };
      const key = paneKey(ref);
      let e = this.counters.get(key);
      if (!e || e.expiresAt <= now) this.counters.set(key, (e = { value: { ref, counters: new PerformanceCounters() }, expiresAt: 0 }));
      e.value.counters.add(increments);
      e.expiresAt = now + this.counterTtlMs;
      this.dirty.set(key, ref);
    }
  }

  private join(r: InferenceRecord, l: LabelRecord, key: string, now: number, out: JoinOutcome): void {
    this.joinedMarks.set(key, now + this.horizonMs);
    this.apply(r, labelIncrements(r, l), now);
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
      this.apply(r, predictionIncrements(r), now);
      const label = this.live(this.waiting, key, now);
      if (label) {
        this.waiting.delete(key);
        this.join(r, label, key, now, out);
      } else {
        this.inferences.set(key, { value: r, expiresAt: now + this.horizonMs });
        out.stored++;
      }
    }
    return out;
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
        this.waiting.set(key, { value: l, expiresAt: now + this.horizonMs });
        s.waited++;
        out.stored++;
      }
    }
    return out;
  }

  async readCounters(modelId: string, paneMs: number, from: number, to: number): Promise<PerformanceCounters> {
    const now = this.clock();
    const merged = new PerformanceCounters();
    for (const e of this.counters.values()) {
      const { ref, counters } = e.value;
      if (e.expiresAt > now && ref.modelId === modelId && ref.paneMs === paneMs && ref.paneStart >= from && ref.paneStart < to) merged.merge(counters);
    }
    return merged;
  }

  async readPanes(modelId: string, paneMs: number, from: number, to: number): Promise<Map<number, PerformanceCounters>> {
    const now = this.clock();
    const out = new Map<number, PerformanceCounters>();
    for (const e of this.counters.values()) {
      const { ref, counters } = e.value;
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
      const { ref } = e.value;
      if (e.expiresAt > now && ref.modelId === modelId && ref.paneMs === paneMs && ref.paneStart >= from && ref.paneStart < to) out.push(ref.paneStart);
    }
    return out.sort((a, b) => a - b);
  }

  async takeDirtyPanes(max: number): Promise<PaneRef[]> {
    const out: PaneRef[] = [];
    for (const [k, ref] of this.dirty) {
      if (out.length >= max) break;
      out.push(ref);
      this.dirty.delete(k);
    }
    return out;
  }

  async markDirty(panes: readonly PaneRef[]): Promise<void> {
    for (const p of panes) this.dirty.set(paneKey(p), { ...p });
  }

  async expireWaitingLabels(now = this.clock(), max = 10_000): Promise<Record<string, number>> {
    this.purge(now);
    const out: Record<string, number> = {};
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
