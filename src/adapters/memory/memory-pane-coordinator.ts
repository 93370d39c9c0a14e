import { createHash } from 'node:crypto';
import { ValidationError } from '../../errors.js';
import type { CompletePane, PaneCoordinator, PaneProgress } from '../../ports/pane-coordinator.js';

interface PaneEntry {
  modelId: string;
  paneStart: number;
  paneEnd: number;
  /** `topic:partition` -> serialized partial (compared to tell a replay from a late change); undefined once let go. */
  partials: Map<string, string> | undefined;
  /**
   * `field NUL digest NUL` for every partial whose payload was let go (see payloadRetentionMs): one
   * string, not a Map, since panes are remembered for the whole retention (25 hours by default,
   * 1,500 panes a model) and a small Map costs kilobytes.
   */
  digests?: string;
  status: 'pending' | 'done';
}

const digestOf = (state: string) => createHash('sha1').update(state).digest('base64');

/** The digest kept for `field`, or undefined (read only when a released pane's partial comes again). */
function digestFor(digests: string | undefined, field: string): string | undefined {
  const parts = digests?.split('\u0000') ?? [];
  for (let i = 0; i + 1 < parts.length; i += 2) if (parts[i] === field) return parts[i + 1];
  return undefined;
}

/** `digests` without the entry of `field`. */
function withoutDigest(digests: string, field: string): string | undefined {
  const parts = digests.split('\u0000');
  let out = '';
  for (let i = 0; i + 1 < parts.length; i += 2) if (parts[i] !== field) out += `${parts[i]}\u0000${parts[i + 1]}\u0000`;
  return out === '' ? undefined : out;
}

/**
 * Pane merge within one process (no Redis): the same completeness rule as
 * the Redis coordinator (every partition of the topic has passed the pane or
 * is idle), with this process as the only evaluator.
 */
export class MemoryPaneCoordinator implements PaneCoordinator {
  private readonly panesById = new Map<string, PaneEntry>();
  /** The pending subset of panesById: every report checks them, and only them, against the frontier. */
  private readonly pending = new Map<string, PaneEntry>();
  private readonly watermarks = new Map<string, Map<number, number>>();
  private readonly idle = new Map<string, Map<number, boolean>>();

  /**
   * @param retentionMs how long complete panes are remembered behind the newest one (event time).
   * @param payloadRetentionMs how long they keep their partials: in one process the evaluator keeps
   *   its own merged windows, so older partials only cost memory (a 25-feature partial of 200 events is ~45 KB).
   *   A late partial of a pane past it is handed out alone (the evaluator merges it into its windows).
   */
  constructor(
    private readonly retentionMs = 25 * 3_600_000,
    private readonly payloadRetentionMs = Math.min(retentionMs, 2 * 60_000),
  ) {}

  async report(progress: PaneProgress): Promise<CompletePane[]> {
    if (!Number.isInteger(progress.partitionCount) || progress.partitionCount < 1) {
      throw new ValidationError(`partitionCount must be a positive integer, got ${progress.partitionCount}`);
    }
    const { topic, partition } = progress;
    const wms = this.watermarks.get(topic) ?? new Map<number, number>();
    this.watermarks.set(topic, wms);
    const idles = this.idle.get(topic) ?? new Map<number, boolean>();
    this.idle.set(topic, idles);
    if (Number.isFinite(progress.watermark) && !(progress.watermark <= (wms.get(partition) ?? -Infinity))) wms.set(partition, progress.watermark);
    idles.set(partition, progress.idle);

    const elected = new Set<string>();
    for (const p of progress.partials) {
      if (p.topic !== topic || p.partition !== partition) {
        throw new ValidationError(`partial of ${p.topic}/${p.partition} reported by ${topic}/${partition}`);
      }
      const id = `${p.modelId}\u0000${p.paneStart}\u0000${p.paneEnd}`;
      let entry = this.panesById.get(id);
      if (!entry) {
        entry = { modelId: p.modelId, paneStart: p.paneStart, paneEnd: p.paneEnd, partials: undefined, status: 'pending' };
        this.panesById.set(id, entry);
        this.pending.set(id, entry);
      }
      const field = `${topic}:${partition}`;
      const state = JSON.stringify(p.state);
      if (entry.partials?.get(field) === state) continue;
      const digest = digestFor(entry.digests, field);
      if (digest !== undefined) {
        if (digest === digestOf(state)) continue;
        entry.digests = withoutDigest(entry.digests!, field);
      }
      (entry.partials ??= new Map()).set(field, state);
      if (entry.status === 'done') elected.add(id);
    }

    let frontier = Infinity;
    for (let q = 0; q < progress.partitionCount; q++) {
      if (idles.get(q)) continue;
      frontier = Math.min(frontier, wms.get(q) ?? -Infinity);
    }
    for (const [id, e] of this.pending) {
      if (e.paneEnd <= frontier) elected.add(id);
    }
    const out: CompletePane[] = [];
    for (const id of elected) {
      const e = this.panesById.get(id)!;
      e.status = 'done';
      this.pending.delete(id);
      out.push(toPane(e));
    }
    out.sort((a, b) => a.paneEnd - b.paneEnd || a.paneStart - b.paneStart);
    if (out.length > 0) this.prune(Math.max(...out.map((p) => p.paneStart)));
    return out;
  }

  async panes(modelId: string, from: number, to: number): Promise<CompletePane[]> {
    const out: CompletePane[] = [];
    for (const e of this.panesById.values()) {
      if (e.modelId === modelId && e.status === 'done' && e.partials !== undefined && e.paneStart >= from && e.paneStart < to) out.push(toPane(e));
    }
    return out.sort((a, b) => a.paneStart - b.paneStart || a.paneEnd - b.paneEnd);
  }

  async settle(): Promise<void> {
    // One process: an elected pane is evaluated by it or lost with it.
  }

  // Complete panes are kept for sliding windows, up to the retention behind the newest one;
  // their partials only up to the payload retention.
  private prune(newestStart: number): void {
    for (const [id, e] of this.panesById) {
      if (e.status !== 'done') continue;
      if (e.paneStart < newestStart - this.retentionMs) this.panesById.delete(id);
      else if (e.paneStart < newestStart - this.payloadRetentionMs && e.partials !== undefined) {
        let digests = e.digests ?? '';
        for (const [field, state] of e.partials) digests += `${field}\u0000${digestOf(state)}\u0000`;
        e.digests = digests;
        e.partials = undefined;
      }
    }
  }
}

function toPane(e: PaneEntry): CompletePane {
  const partials = e.partials ?? new Map<string, string>();
  const fields = [...partials.keys()].sort((a, b) => {
    const [ta, pa] = [a.slice(0, a.lastIndexOf(':')), Number(a.slice(a.lastIndexOf(':') + 1))];
    const [tb, pb] = [b.slice(0, b.lastIndexOf(':')), Number(b.slice(b.lastIndexOf(':') + 1))];
    return ta < tb ? -1 : ta > tb ? 1 : pa - pb;
  });
  return lazyPane(e.modelId, e.paneStart, e.paneEnd, fields.map((f) => partials.get(f)!));
}

/**
 * A complete pane whose partials stay the JSON text the coordinator already
 * holds until the evaluator first reads them: panes queued for evaluation
 * (up to the queue bound, 50 or more at once when a watermark passes the
 * panes of every model) then cost next to nothing beside the coordinator's
 * own copy, instead of a parsed partial each (several times the text).
 */
export function lazyPane(modelId: string, paneStart: number, paneEnd: number, texts: readonly string[]): CompletePane {
  let parsed: unknown[] | undefined;
  return {
    modelId,
    paneStart,
    paneEnd,
    get partials(): unknown[] {
      return (parsed ??= texts.map((t) => JSON.parse(t) as unknown));
    },
  };
}
