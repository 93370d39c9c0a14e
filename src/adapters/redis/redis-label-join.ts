import { redisCall, type RedisClient } from './redis-connection.js';
import { PerformanceCounters, predictionIncrements } from '../../core/performance/counters.js';
import { type InferenceRecord, type LabelRecord } from '../../core/performance/records.js';
import { paneStartOf } from '../../core/windows/window-spec.js';
import { DEFAULT_LABEL_HORIZON_MS, addOutcome, emptyOutcome, type JoinOutcome, type LabelJoin, type LabelJoinOptions, type LabelJoinStats, type PaneRef } from '../../ports/label-join.js';
import { EXPIRE_WAITING, RECORD_INFERENCES, RECORD_LABELS } from './label-join-scripts.js';
import { encodeInferenceChunk, encodeLabelChunk, specJsonOf } from './label-join-encoding.js';

export interface RedisLabelJoinOptions extends LabelJoinOptions {
  /** Prefix of every key (no braces: the model's hash tag follows it). Default `driftstream:labels:`. */
  keyPrefix?: string;
  /** Events per script call; the calls of one batch go out together. Default 500. */
  chunkSize?: number;
  /** How often the models registry is written again by this process (ms). Default 60 s. */
  registryRefreshMs?: number;
}

type Arg = string | number | Buffer;
type ScriptReply = [number, number, number];
type ScriptClient = RedisClient & {
  dsLjRecordInferences(...args: Arg[]): Promise<ScriptReply>;
  dsLjRecordLabels(...args: Arg[]): Promise<ScriptReply>;
  dsLjExpireWaiting(...args: Arg[]): Promise<number>;
};

/** The per-pane prediction increments of one model's chunk: pane count, then paneMs, paneStart, field count, field/delta pairs. */
function chunkPredictionIncrements(chunk: readonly InferenceRecord[]): Arg[] {
  const panes = new Map<string, { paneMs: number; paneStart: number; fields: Map<string, number> }>();
  for (const r of chunk) {
    const incs = predictionIncrements(r);
    for (const paneMs of r.paneSizes) {
      const paneStart = paneStartOf(r.timestamp, paneMs);
      const key = `${paneMs}:${paneStart}`;
      let p = panes.get(key);
      if (!p) panes.set(key, (p = { paneMs, paneStart, fields: new Map() }));
      for (const [f, d] of incs) p.fields.set(f, (p.fields.get(f) ?? 0) + d);
    }
  }
  const out: Arg[] = [panes.size];
  for (const p of panes.values()) {
    out.push(String(p.paneMs), String(p.paneStart), p.fields.size);
    for (const [f, d] of p.fields) out.push(f, String(d));
  }
  return out;
}

/** Groups items by a key, keeping their order within each group. */
function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = keyOf(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/**
 * The label join in Redis (DESIGN.md section 5), compact and cluster-ready:
 * every key of a model is under the model's hash tag, pending events are
 * fields of small bucket hashes (see label-join-scripts.ts). One Lua call per
 * chunk of one model's events; the calls of a batch go out together, every
 * event's check-take-count atomic. Takes a connected ioredis client (or
 * cluster) it does not own (close() leaves it open).
 */
export class RedisLabelJoin implements LabelJoin {
  private readonly redis: ScriptClient;
  private readonly prefix: string;
  private readonly horizonMs: number;
  private readonly generationMs: number;
  private readonly counterTtlMs: number;
  private readonly chunkSize: number;
  private readonly registryRefreshMs: number;
  private readonly registered = new Map<string, number>();

  constructor(redis: RedisClient, options: RedisLabelJoinOptions = {}) {
    this.prefix = options.keyPrefix ?? 'driftstream:labels:';
    this.horizonMs = Math.max(1, options.horizonMs ?? DEFAULT_LABEL_HORIZON_MS);
    this.generationMs = Math.ceil(this.horizonMs / 4);
    this.counterTtlMs = options.counterTtlMs ?? this.horizonMs + 3_600_000;
    this.chunkSize = Math.max(1, options.chunkSize ?? 500);
    this.registryRefreshMs = options.registryRefreshMs ?? 60_000;
    // defineCommand sends EVALSHA and falls back to EVAL after a SCRIPT FLUSH, a restart or a failover.
    if (!('dsLjRecordInferences' in redis)) {
      redis.defineCommand('dsLjRecordInferences', { numberOfKeys: 1, lua: RECORD_INFERENCES });
      redis.defineCommand('dsLjRecordLabels', { numberOfKeys: 1, lua: RECORD_LABELS });
      redis.defineCommand('dsLjExpireWaiting', { numberOfKeys: 1, lua: EXPIRE_WAITING });
    }
    this.redis = redis as ScriptClient;
  }

  /** The key base of a model: everything of it shares this hash tag, so one cluster slot. */
  private base(modelId: string): string {
    return `${this.prefix}{${encodeURIComponent(modelId)}}:`;
  }

  private get registryKey(): string {
    return `${this.prefix}{models}`;
  }

  /** Models known to hold join state, so sweeps and dirty-pane reads can find them; written before the state. */
  private async register(models: Iterable<string>, now: number): Promise<void> {
    const due = [...models].filter((m) => now - (this.registered.get(m) ?? -Infinity) >= this.registryRefreshMs);
    if (due.length === 0) return;
    await redisCall('label join registry', () => this.redis.sadd(this.registryKey, ...due));
    for (const m of due) this.registered.set(m, now);
  }

  private async models(): Promise<string[]> {
    return redisCall('label join registry', () => this.redis.smembers(this.registryKey));
  }

  private head(modelId: string, now: number): Arg[] {
    return [this.base(modelId), this.horizonMs, this.counterTtlMs, now, this.generationMs, modelId];
  }

  /** Sends the script calls (issued together, answered in order per model) and sums what they did. */
  private async collect(calls: { modelId: string; call: () => Promise<ScriptReply> }[]): Promise<JoinOutcome> {
    const out = emptyOutcome();
    // Chunks before a failed one have been applied; a retry of the whole batch counts them as duplicates.
    const replies = await redisCall('label join', () => Promise.all(calls.map((c) => c.call())));
    replies.forEach(([stored, joined, duplicates], i) => {
      const joinedByModel: Record<string, number> = joined > 0 ? { [calls[i].modelId]: joined } : {};
      addOutcome(out, { stored, joined, duplicates, joinedByModel });
    });
    return out;
  }

  async recordInferences(records: readonly InferenceRecord[], now = Date.now()): Promise<JoinOutcome> {
    if (records.length === 0) return emptyOutcome();
    const generationStart = Math.floor(now / this.generationMs) * this.generationMs;
    const groups = groupBy(records, (r) => `${r.modelId}\u0000${specJsonOf(r)}`);
    await this.register(new Set(records.map((r) => r.modelId)), now);
    const calls: { modelId: string; call: () => Promise<ScriptReply> }[] = [];
    for (const group of groups.values()) {
      const { modelId } = group[0];
      const spec = specJsonOf(group[0]);
      for (let i = 0; i < group.length; i += this.chunkSize) {
        const chunk = group.slice(i, i + this.chunkSize);
        const args: Arg[] = [...this.head(modelId, now), spec, chunk.length, encodeInferenceChunk(chunk, 0, chunk.length, generationStart)];
        args.push(...chunkPredictionIncrements(chunk));
        calls.push({ modelId, call: () => this.redis.dsLjRecordInferences(...args) });
      }
    }
    return this.collect(calls);
  }

  async recordLabels(labels: readonly LabelRecord[], now = Date.now()): Promise<JoinOutcome> {
    if (labels.length === 0) return emptyOutcome();
    const groups = groupBy(labels, (l) => l.modelId);
    await this.register(groups.keys(), now);
    const calls: { modelId: string; call: () => Promise<ScriptReply> }[] = [];
    for (const [modelId, group] of groups) {
      for (let i = 0; i < group.length; i += this.chunkSize) {
        const end = Math.min(group.length, i + this.chunkSize);
        const args: Arg[] = [...this.head(modelId, now), end - i, encodeLabelChunk(group, i, end)];
        calls.push({ modelId, call: () => this.redis.dsLjRecordLabels(...args) });
      }
    }
    return this.collect(calls);
  }

  async paneStarts(modelId: string, paneMs: number, from = -Infinity, to = Infinity): Promise<number[]> {
    const min = Number.isFinite(from) ? String(from) : '-inf';
    const max = Number.isFinite(to) ? `(${to}` : '+inf';
    const starts = await redisCall('pane index read', () => this.redis.zrangebyscore(`${this.base(modelId)}x:${paneMs}`, min, max));
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
    const base = this.base(modelId);
    const hashes = await redisCall('performance counters read', () => Promise.all(starts.map((s) => this.redis.hgetall(`${base}c:${paneMs}:${s}`))));
    hashes.forEach((h, i) => {
      const c = PerformanceCounters.fromJSON(h);
      // A pane whose hash expired is gone, whatever the index still says.
      if (c.size > 0) out.set(starts[i], c);
    });
    return out;
  }

  async takeDirtyPanes(max: number): Promise<PaneRef[]> {
    const models = await this.models();
    if (models.length === 0 || max <= 0) return [];
    // A share of `max` from every model at once; what a model has beyond its share waits for the next round.
    const share = Math.max(1, Math.ceil(max / models.length));
    const taken = await redisCall('dirty panes', () => Promise.all(models.map((m) => this.redis.spop(`${this.base(m)}d`, share))));
    const out: PaneRef[] = [];
    taken.forEach((members, i) => {
      for (const m of members) {
        const a = m.indexOf(':');
        if (a > 0) out.push({ modelId: models[i], paneMs: Number(m.slice(0, a)), paneStart: Number(m.slice(a + 1)) });
      }
    });
    // At least one from each model can exceed `max` when there are more models than that: the rest go back.
    if (out.length > max) await this.markDirty(out.splice(max));
    return out;
  }

  async markDirty(panes: readonly PaneRef[]): Promise<void> {
    if (panes.length === 0) return;
    await this.register(new Set(panes.map((p) => p.modelId)), Date.now());
    const byModel = groupBy(panes, (p) => p.modelId);
    await redisCall('dirty panes', () =>
      Promise.all([...byModel].map(([modelId, list]) => this.redis.sadd(`${this.base(modelId)}d`, ...list.map((p) => `${p.paneMs}:${p.paneStart}`)))),
    );
  }

  async expireWaitingLabels(now = Date.now(), max = 10_000): Promise<Record<string, number>> {
    const models = await this.models();
    const counts = await redisCall('waiting label expiry', () =>
      Promise.all(models.map((m) => this.redis.dsLjExpireWaiting(this.base(m), now, max, this.generationMs))),
    );
    const out: Record<string, number> = {};
    counts.forEach((n, i) => {
      if (n > 0) out[models[i]] = n;
    });
    return out;
  }

  async stats(modelId: string): Promise<LabelJoinStats> {
    const h = await redisCall('label join stats', () => this.redis.hgetall(`${this.base(modelId)}s`));
    const n = (f: string) => Number(h[f] ?? 0);
    return {
      inferences: n('inferences'),
      inferenceDuplicates: n('inferenceDuplicates'),
      labels: n('labels'),
      joined: n('joined'),
      labelDuplicates: n('labelDuplicates'),
      waited: n('waited'),
      expired: n('expired'),
      firstInferenceAt: h.f === undefined ? null : Number(h.f),
      lastLabelAt: h.ll === undefined ? null : Number(h.ll),
    };
  }

  async close(): Promise<void> {}
}
