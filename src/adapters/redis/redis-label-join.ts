import type { Redis } from 'ioredis';
import { redisCall } from './redis-connection.js';
import { PerformanceCounters, predictionIncrements } from '../../core/performance/counters.js';
import { type InferenceRecord, type LabelRecord } from '../../core/performance/records.js';
import { paneStartOf } from '../../core/windows/window-spec.js';
import { DEFAULT_LABEL_HORIZON_MS, addOutcome, emptyOutcome, type JoinOutcome, type LabelJoin, type LabelJoinOptions, type LabelJoinStats, type PaneRef } from '../../ports/label-join.js';
import { EXPIRE_WAITING, RECORD_INFERENCES, RECORD_LABELS } from './label-join-scripts.js';

export interface RedisLabelJoinOptions extends LabelJoinOptions {
  /** Prefix of every key. Default `driftstream:labels:`. */
  keyPrefix?: string;
  /** Events per script call; the calls of one batch go out in one pipeline. Default 500. */
  chunkSize?: number;
}

const KIND_CODE = { score: 's', class: 'c', regression: 'r' } as const;

type ScriptClient = Redis & {
  dsRecordInferences(...args: (string | number)[]): Promise<string>;
  dsRecordLabels(...args: (string | number)[]): Promise<string>;
  dsExpireWaiting(...args: (string | number)[]): Promise<string>;
};

function modelTag(modelId: string): string {
  return `${Buffer.byteLength(modelId)}:${modelId}`;
}

/** The stored form of an inference (see label-join-scripts.ts). */
export function encodeInferenceRecord(r: InferenceRecord): string {
  return JSON.stringify([r.timestamp, KIND_CODE[r.kind], r.predictedPositive, r.score, r.predictedClass, r.predictedValue, r.positiveClass, r.paneSizes]);
}

/** The stored form of a waiting label. */
export function encodeLabelRecord(l: LabelRecord): string {
  return JSON.stringify([l.labelClass, l.labelValue, l.timestamp]);
}

/**
 * The prediction increments of a chunk summed per pane, as the inference
 * script reads them: pane count, then per pane modelId, paneMs, paneStart,
 * field count and field/delta pairs.
 */
function chunkPredictionIncrements(chunk: readonly InferenceRecord[]): (string | number)[] {
  const panes = new Map<string, { modelId: string; paneMs: number; paneStart: number; fields: Map<string, number> }>();
  for (const r of chunk) {
    const incs = predictionIncrements(r);
    for (const paneMs of r.paneSizes) {
      const paneStart = paneStartOf(r.timestamp, paneMs);
      const key = `${paneMs}:${paneStart}:${r.modelId}`;
      let p = panes.get(key);
      if (!p) panes.set(key, (p = { modelId: r.modelId, paneMs, paneStart, fields: new Map() }));
      for (const [f, d] of incs) p.fields.set(f, (p.fields.get(f) ?? 0) + d);
    }
  }
  const out: (string | number)[] = [panes.size];
  for (const p of panes.values()) {
    out.push(p.modelId, String(p.paneMs), String(p.paneStart), p.fields.size);
    for (const [f, d] of p.fields) out.push(f, String(d));
  }
  return out;
}

function parseOutcome(json: string): JoinOutcome {
  const o = JSON.parse(json) as { stored: number; joined: number; duplicates: number; joinedByModel: Record<string, number> | unknown[] };
  return {
    stored: o.stored,
    joined: o.joined,
    duplicates: o.duplicates,
    joinedByModel: Array.isArray(o.joinedByModel) ? {} : o.joinedByModel,
  };
}

/**
 * The label join in Redis (DESIGN.md section 5): one Lua script call per chunk
 * of events, chunks pipelined, every event's check-take-count atomic. Takes a
 * connected ioredis client it does not own (close() leaves it open).
 */
export class RedisLabelJoin implements LabelJoin {
  private readonly redis: ScriptClient;
  private readonly prefix: string;
  private readonly horizonMs: number;
  private readonly counterTtlMs: number;
  private readonly chunkSize: number;

  constructor(redis: Redis, options: RedisLabelJoinOptions = {}) {
    this.prefix = options.keyPrefix ?? 'driftstream:labels:';
    this.horizonMs = options.horizonMs ?? DEFAULT_LABEL_HORIZON_MS;
    this.counterTtlMs = options.counterTtlMs ?? this.horizonMs + 3_600_000;
    this.chunkSize = Math.max(1, options.chunkSize ?? 500);
    // defineCommand sends EVALSHA and falls back to EVAL after a SCRIPT FLUSH or a restart.
    if (!('dsRecordInferences' in redis)) {
      redis.defineCommand('dsRecordInferences', { numberOfKeys: 0, lua: RECORD_INFERENCES });
      redis.defineCommand('dsRecordLabels', { numberOfKeys: 0, lua: RECORD_LABELS });
      redis.defineCommand('dsExpireWaiting', { numberOfKeys: 0, lua: EXPIRE_WAITING });
    }
    this.redis = redis as ScriptClient;
  }

  private async run<T>(
    command: 'dsRecordInferences' | 'dsRecordLabels',
    items: readonly T[],
    now: number,
    encode: (item: T) => (string | number)[],
    trailer?: (chunk: readonly T[]) => (string | number)[],
  ): Promise<JoinOutcome> {
    const out = emptyOutcome();
    if (items.length === 0) return out;
    const pipeline = this.redis.pipeline();
    for (let i = 0; i < items.length; i += this.chunkSize) {
      const chunk = items.slice(i, i + this.chunkSize);
      const args: (string | number)[] = [this.prefix, this.horizonMs, this.counterTtlMs, now, chunk.length];
      for (const item of chunk) args.push(...encode(item));
      if (trailer) args.push(...trailer(chunk));
      (pipeline as unknown as Record<string, (...a: (string | number)[]) => unknown>)[command](...args);
    }
    // Chunks before a failed one have been applied; a retry of the whole batch counts them as duplicates.
    return redisCall('label join', async () => {
      for (const [err, res] of (await pipeline.exec()) ?? []) {
        if (err) throw err;
        addOutcome(out, parseOutcome(res as string));
      }
      return out;
    });
  }

  recordInferences(records: readonly InferenceRecord[], now = Date.now()): Promise<JoinOutcome> {
    return this.run('dsRecordInferences', records, now, (r) => [r.modelId, r.eventId, encodeInferenceRecord(r)], chunkPredictionIncrements);
  }

  recordLabels(labels: readonly LabelRecord[], now = Date.now()): Promise<JoinOutcome> {
    return this.run('dsRecordLabels', labels, now, (l) => [l.modelId, l.eventId, encodeLabelRecord(l)]);
  }

  private paneIndexKey(modelId: string, paneMs: number): string {
    return `${this.prefix}x:${modelTag(modelId)}:${paneMs}`;
  }

  async paneStarts(modelId: string, paneMs: number, from = -Infinity, to = Infinity): Promise<number[]> {
    const min = Number.isFinite(from) ? String(from) : '-inf';
    const max = Number.isFinite(to) ? `(${to}` : '+inf';
    const starts = await redisCall('pane index read', () => this.redis.zrangebyscore(this.paneIndexKey(modelId, paneMs), min, max));
    return starts.map(Number);
  }

  async readCounters(modelId: string, paneMs: number, from: number, to: number): Promise<PerformanceCounters> {
    const merged = new PerformanceCounters();
    for (const c of (await this.readPanes(modelId, paneMs, from, to)).values()) merged.merge(c);
    return merged;
  }

  async readPanes(modelId: string, paneMs: number, from: number, to: number): Promise<Map<number, PerformanceCounters>> {
    const starts = await this.paneStarts(modelId, paneMs, from, to);
    const out = new Map<number, PerformanceCounters>();
    if (starts.length === 0) return out;
    const pipeline = this.redis.pipeline();
    for (const s of starts) pipeline.hgetall(`${this.prefix}c:${modelTag(modelId)}:${paneMs}:${s}`);
    return redisCall('performance counters read', async () => {
      const results = (await pipeline.exec()) ?? [];
      results.forEach(([err, res], i) => {
        if (err) throw err;
        const c = PerformanceCounters.fromJSON(res as Record<string, string>);
        // A pane whose hash expired is gone, whatever the index still says.
        if (c.size > 0) out.set(starts[i], c);
      });
      return out;
    });
  }

  async takeDirtyPanes(max: number): Promise<PaneRef[]> {
    const members = await redisCall('dirty panes', () => this.redis.spop(`${this.prefix}dirty`, max));
    const out: PaneRef[] = [];
    for (const m of members) {
      const a = m.indexOf(':');
      const b = m.indexOf(':', a + 1);
      if (a < 0 || b < 0) continue;
      out.push({ paneMs: Number(m.slice(0, a)), paneStart: Number(m.slice(a + 1, b)), modelId: m.slice(b + 1) });
    }
    return out;
  }

  async markDirty(panes: readonly PaneRef[]): Promise<void> {
    if (panes.length === 0) return;
    await redisCall('dirty panes', () => this.redis.sadd(`${this.prefix}dirty`, ...panes.map((p) => `${p.paneMs}:${p.paneStart}:${p.modelId}`)));
  }

  async expireWaitingLabels(now = Date.now(), max = 10_000): Promise<Record<string, number>> {
    const json = await redisCall('waiting label expiry', () => this.redis.dsExpireWaiting(this.prefix, now, max));
    const o = JSON.parse(json) as Record<string, number> | unknown[];
    return Array.isArray(o) ? {} : o;
  }

  async stats(modelId: string): Promise<LabelJoinStats> {
    const h = await redisCall('label join stats', () => this.redis.hgetall(`${this.prefix}s:${modelTag(modelId)}`));
    const n = (f: string) => Number(h[f] ?? 0);
    return {
      inferences: n('inferences'),
      inferenceDuplicates: n('inferenceDuplicates'),
      labels: n('labels'),
      joined: n('joined'),
      labelDuplicates: n('labelDuplicates'),
      waited: n('waited'),
      expired: n('expired'),
    };
  }

  /** Bytes Redis uses for the pending inference record of an event (MEMORY USAGE), for the benchmark. */
  async pendingRecordBytes(modelId: string, eventId: string): Promise<number | null> {
    const n = await this.redis.memory('USAGE', `${this.prefix}e:${modelTag(modelId)}:${eventId}`);
    return n === null ? null : Number(n);
  }

  async close(): Promise<void> {}
}
