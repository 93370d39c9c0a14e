import { DriftstreamError, ValidationError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { CompletePane, PaneCoordinator, PaneProgress } from '../../ports/pane-coordinator.js';
import { redisCall, taggedKey, type RedisClient } from './redis-connection.js';
import { REPORT_SCRIPT, SETTLE_SCRIPT } from './pane-scripts.js';

export interface RedisPaneCoordinatorOptions {
  prefix?: string;
  /** Coordination is per consumer group: two groups reading the same topic never share panes. */
  groupId: string;
  /**
   * With a lease, an elected pane stays claimed until {@link RedisPaneCoordinator.settle}
   * is called once its results are durable; a claim not settled within the lease
   * (the evaluator crashed) is handed to the next reporter. 0 marks panes done
   * at election (at-most-once evaluation).
   */
  leaseMs?: number;
  /** How long complete panes are kept for sliding windows (processing time) when a partial does not say. Default 25 h. */
  retentionMs?: number;
  /**
   * The least a partial's `retainMs` can ask for: a pane is kept at least this long after it
   * completes, so a late partial re-elects it whole. Default 10 minutes.
   */
  minRetentionMs?: number;
  now?: () => number;
  /** Every report and election at debug level (diagnosing pane completeness). */
  logger?: Logger;
}

type PaneCommands = {
  driftstreamPaneReport(...args: (string | number)[]): Promise<[string, string, string[]][]>;
  driftstreamPaneSettle(...args: (string | number)[]): Promise<number>;
};

function paneId(modelId: string, paneStart: number, paneEnd: number): string {
  return `${encodeURIComponent(modelId)}:${paneStart}:${paneEnd}`;
}

/** Turns a pane hash (flat field/value list) into a CompletePane with partials in partition order. */
function toCompletePane(id: string, version: string | null, flat: string[]): CompletePane {
  let modelId = '';
  let paneStart = 0;
  let paneEnd = 0;
  const partials: { topic: string; partition: number; state: unknown }[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const f = flat[i];
    const v = flat[i + 1];
    if (f === 'm') modelId = v;
    else if (f === 's') paneStart = Number(v);
    else if (f === 'e') paneEnd = Number(v);
    else if (f.startsWith('p:')) {
      const sep = f.lastIndexOf(':');
      let state: unknown;
      try {
        state = JSON.parse(v);
      } catch (err) {
        throw new DriftstreamError('PANE_CORRUPT', `pane ${id} holds a partial that is not valid JSON`, { cause: err });
      }
      partials.push({ topic: f.slice(2, sep), partition: Number(f.slice(sep + 1)), state });
    }
  }
  partials.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  const pane: CompletePane = { modelId, paneStart, paneEnd, partials: partials.map((p) => p.state) };
  if (version !== null) pane.claim = `${id}|${version}`;
  return pane;
}

/**
 * Cross-partition pane merge through Redis. Every partition reports its
 * watermark, idleness and the pane partials it closed; one Lua script stores
 * the partials idempotently per (model, pane, partition), decides which panes
 * every partition has passed, and hands each complete pane to exactly one
 * reporter. A partial that arrives after its pane was evaluated elects the
 * pane again, so late data is evaluated rather than lost.
 */
export class RedisPaneCoordinator implements PaneCoordinator {
  private readonly base: string;
  private readonly leaseMs: number;
  private readonly retentionMs: number;
  private readonly minRetentionMs: number;
  private readonly now: () => number;
  private readonly commands: PaneCommands;
  private readonly logger: Logger | undefined;

  constructor(
    private readonly client: RedisClient,
    options: RedisPaneCoordinatorOptions,
  ) {
    // One hash tag per consumer group: the frontier spans every partition and the pending set every model.
    this.base = taggedKey(options.prefix ?? 'driftstream:', ['panes', options.groupId]) + ':';
    this.leaseMs = options.leaseMs ?? 0;
    this.retentionMs = options.retentionMs ?? 25 * 3_600_000;
    this.minRetentionMs = options.minRetentionMs ?? 10 * 60_000;
    this.now = options.now ?? Date.now;
    this.logger = options.logger?.isLevelEnabled('debug') ? options.logger : undefined;
    // KEYS[1] is the base again: it routes the call to the group's slot in a cluster.
    client.defineCommand('driftstreamPaneReport', { numberOfKeys: 1, lua: REPORT_SCRIPT });
    client.defineCommand('driftstreamPaneSettle', { numberOfKeys: 1, lua: SETTLE_SCRIPT });
    this.commands = client as unknown as PaneCommands;
  }

  async report(progress: PaneProgress): Promise<CompletePane[]> {
    if (!Number.isInteger(progress.partitionCount) || progress.partitionCount < 1) {
      throw new ValidationError(`partitionCount must be a positive integer, got ${progress.partitionCount}`);
    }
    const args: (string | number)[] = [
      this.base,
      this.base,
      encodeURIComponent(progress.topic),
      progress.partition,
      progress.partitionCount,
      Number.isFinite(progress.watermark) ? progress.watermark : '',
      progress.idle ? '1' : '0',
      this.now(),
      this.leaseMs,
      this.retentionMs,
      progress.partials.length,
    ];
    for (const p of progress.partials) {
      if (p.topic !== progress.topic || p.partition !== progress.partition) {
        throw new ValidationError(`partial of ${p.topic}/${p.partition} reported by ${progress.topic}/${progress.partition}`);
      }
      const keep = p.retainMs === undefined ? '' : Math.max(this.minRetentionMs, Math.ceil(p.retainMs));
      args.push(paneId(p.modelId, p.paneStart, p.paneEnd), p.modelId, p.paneStart, p.paneEnd, JSON.stringify(p.state), keep);
    }
    const rows = await redisCall('pane report', () => this.commands.driftstreamPaneReport(...args));
    const panes = rows.map(([id, version, flat]) => toCompletePane(id, this.leaseMs > 0 ? version : null, flat));
    if (this.logger && (progress.partials.length > 0 || panes.length > 0 || progress.idle)) {
      const count = (state: unknown) => (state as { n?: unknown } | null)?.n;
      this.logger.debug(
        {
          topic: progress.topic,
          partition: progress.partition,
          watermark: progress.watermark,
          idle: progress.idle,
          partials: progress.partials.map((p) => [p.modelId, p.paneStart, count(p.state)]),
          elected: panes.map((p) => [p.modelId, p.paneStart, p.partials.length, p.partials.map(count)]),
        },
        'pane report',
      );
    }
    return panes;
  }

  /**
   * Marks elected panes done once their evaluation is durable. Without it (and
   * with a lease) the panes are elected again when the lease runs out.
   */
  async settle(panes: readonly CompletePane[]): Promise<void> {
    const args: string[] = [this.base, this.base];
    for (const p of panes) {
      if (!p.claim) continue;
      const sep = p.claim.lastIndexOf('|');
      args.push(p.claim.slice(0, sep), p.claim.slice(sep + 1));
    }
    if (args.length === 2) return;
    await redisCall('pane settle', () => this.commands.driftstreamPaneSettle(...args));
  }

  async panes(modelId: string, from: number, to: number): Promise<CompletePane[]> {
    const idx = `${this.base}idx:${modelId}`;
    const ids = await redisCall('pane index', () => this.client.zrangebyscore(idx, from, `(${to}`));
    if (ids.length === 0) return [];
    const pipeline = this.client.pipeline();
    for (const id of ids) pipeline.hgetall(`${this.base}pane:${id}`);
    const results = await redisCall('pane read', () => pipeline.exec());
    const out: CompletePane[] = [];
    const expired: string[] = [];
    ids.forEach((id, i) => {
      const [err, hash] = results![i] as [Error | null, Record<string, string>];
      if (err) throw new DriftstreamError('REDIS_COMMAND_FAILED', `redis pane read failed: ${err.message}`, { cause: err });
      if (!hash || Object.keys(hash).length === 0) {
        expired.push(id);
        return;
      }
      if (hash.st === 'pending') return;
      out.push(toCompletePane(id, null, Object.entries(hash).flat()));
    });
    if (expired.length > 0) await redisCall('pane index prune', () => this.client.zrem(idx, ...expired));
    return out;
  }
}
