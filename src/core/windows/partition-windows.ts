import { Pane, type PaneJSON } from './pane.js';
import type { PaneLayout } from './pane-layout.js';
import { paneStartOf } from './window-spec.js';

/**
 * How far behind the wall clock (when it arrived) the newest event may be for
 * the partition to count as live rather than replaying the past.
 */
export const LIVE_SKEW_MS = 60_000;

/** Idle timeouts after which a replaying partition closes all its panes (the replay has stopped). */
export const REPLAY_IDLE_FACTOR = 3;

/** How one model's panes are cut in event time. */
export interface PaneParams {
  /** Pane length (the greatest common divisor of the model's window slides). */
  readonly paneMs: number;
  /** How far behind the partition's clock an event may be and still be counted. */
  readonly latenessMs: number;
}

/** A pane this partition closed, ready to be reported as a partial. */
export interface ClosedPane {
  readonly pane: Pane;
  readonly params: PaneParams;
}

interface ModelPanes {
  params: PaneParams;
  /** Every pane ending at or before this is closed: its events are late. */
  closedUpTo: number;
  late: number;
  open: Map<number, Pane>;
  /** Panes replaced after the model's reference or pane length changed; they close normally. */
  retired: Pane[];
  /** The pane the last event went to: consecutive events usually share it. */
  last: Pane | undefined;
}

/** Serialized {@link PartitionWindows}. */
export interface PartitionWindowsJSON {
  v: 1;
  clock: number | null;
  models: Record<string, { paneMs: number; latenessMs: number; closedUpTo: number | null; late: number; open: PaneJSON[] }>;
}

/**
 * Event-time windows of one partition: the open panes of every model, the
 * partition's clock (the highest event time seen) and the per-model watermark
 * (clock minus the model's allowed lateness). A pane closes when the watermark
 * passes its end, or when the partition has been idle for the idle timeout
 * (processing time; see {@link closeIdle}).
 * An event whose pane has already closed is late: counted, never added.
 *
 * Nothing here reads a clock; processing time is passed in.
 */
export class PartitionWindows {
  /** Highest event time seen; -Infinity before the first event. */
  clock = -Infinity;
  /** True after {@link closeIdle} closed panes, until the next event. */
  idle = false;
  private lastEventAt: number;
  private readonly models = new Map<string, ModelPanes>();

  constructor(now: number) {
    this.lastEventAt = now;
  }

  /** Advances the clock with an event's time (every valid event, late or not). */
  observe(ts: number, now: number): void {
    if (ts > this.clock) this.clock = ts;
    this.lastEventAt = now;
    this.idle = false;
  }

  /**
   * The open pane of `layout.modelId` holding event time `ts`, created on
   * first use; undefined when that pane has already closed (the event is late
   * and has been counted as such).
   */
  paneFor(layout: PaneLayout, params: PaneParams, ts: number): Pane | undefined {
    let m = this.models.get(layout.modelId);
    if (m === undefined) {
      m = { params, closedUpTo: -Infinity, late: 0, open: new Map(), retired: [], last: undefined };
      this.models.set(layout.modelId, m);
    }
    const last = m.last;
    if (last !== undefined && ts >= last.paneStart && ts < last.paneEnd && last.layout === layout) return last;
    if (m.params !== params) m.params = params;
    const start = paneStartOf(ts, params.paneMs);
    const end = start + params.paneMs;
    if (end <= m.closedUpTo) {
      m.late++;
      return undefined;
    }
    let pane = m.open.get(start);
    if (pane === undefined || pane.paneEnd !== end || pane.layout !== layout) {
      // The model's pane length or reference changed: the old pane keeps its data and closes normally.
      if (pane !== undefined) m.retired.push(pane);
      pane = new Pane(layout, start, end);
      m.open.set(start, pane);
    }
    m.last = pane;
    return pane;
  }

  /** Closes every pane whose end the model's watermark has passed. */
  closeDue(): ClosedPane[] {
    const out: ClosedPane[] = [];
    if (this.clock === -Infinity) return out;
    for (const m of this.models.values()) this.closeUpTo(m, this.clock - m.params.latenessMs, out);
    return out;
  }

  /**
   * When no event arrived for `idleTimeoutMs` of processing time, closes
   * panes and marks the partition idle; returns undefined when not idle.
   *
   * A live partition (its last event time was close to the wall clock when it
   * arrived) is assumed to advance with the wall clock: panes ending before
   * the last clock plus the idle time close, so the last pane of a stream that
   * stops is evaluated. A partition replaying the past gets no such guess
   * (more of the past may follow soon): the allowed lateness is waived, so
   * panes ending at or before its clock close, and only after
   * {@link REPLAY_IDLE_FACTOR} idle timeouts do its remaining panes close.
   */
  closeIdle(now: number, idleTimeoutMs: number): ClosedPane[] | undefined {
    const idleFor = now - this.lastEventAt;
    if (idleFor < idleTimeoutMs || this.clock === -Infinity) return undefined;
    this.idle = true;
    const out: ClosedPane[] = [];
    if (this.isLive()) {
      for (const m of this.models.values()) this.closeUpTo(m, this.clock + idleFor, out);
    } else {
      const flush = idleFor >= REPLAY_IDLE_FACTOR * idleTimeoutMs;
      for (const m of this.models.values()) this.closeUpTo(m, flush ? Math.max(this.clock, this.lastOpenEnd(m)) : this.clock, out);
    }
    return out;
  }

  private isLive(): boolean {
    return this.lastEventAt - this.clock <= LIVE_SKEW_MS;
  }

  private lastOpenEnd(m: ModelPanes): number {
    let end = -Infinity;
    for (const p of m.open.values()) if (p.paneEnd > end) end = p.paneEnd;
    for (const p of m.retired) if (p.paneEnd > end) end = p.paneEnd;
    return end;
  }

  /** The clock an idle partition assumes: advanced by the idle time when live, else the last clock. */
  estimatedClock(now: number): number {
    if (!this.idle || !this.isLive()) return this.clock;
    return this.clock + (now - this.lastEventAt);
  }

  private closeUpTo(m: ModelPanes, watermark: number, out: ClosedPane[]): void {
    // Panes ending at or before the watermark close: the last pane boundary at or before it.
    const closeBefore = paneStartOf(watermark, m.params.paneMs);
    if (closeBefore > m.closedUpTo) m.closedUpTo = closeBefore;
    const due: Pane[] = [];
    for (const [k, pane] of m.open) {
      if (pane.paneEnd <= m.closedUpTo) {
        due.push(pane);
        m.open.delete(k);
      }
    }
    if (m.retired.length > 0) {
      const keep: Pane[] = [];
      for (const pane of m.retired) (pane.paneEnd <= m.closedUpTo ? due : keep).push(pane);
      m.retired = keep;
    }
    if (due.length === 0) return;
    due.sort((a, b) => a.paneStart - b.paneStart);
    for (const pane of due) {
      if (m.last === pane) m.last = undefined;
      out.push({ pane, params: m.params });
    }
  }

  /**
   * Repairs a clock poisoned by an event time far in the future (restored
   * from a checkpoint written before such events were refused): when the
   * clock is past `limit`, it is set back to `fallback` (for example the
   * processing time the checkpoint was saved at), panes starting past `limit`
   * are dropped, and each model's closed-up-to mark goes back to the pane
   * boundary its lateness allows at `fallback`. Returns the panes dropped, or
   * undefined when the clock was sound.
   */
  repairFutureClock(limit: number, fallback: number): { droppedPanes: number } | undefined {
    if (!(this.clock > limit)) return undefined;
    this.clock = Math.min(fallback, limit);
    let droppedPanes = 0;
    for (const m of this.models.values()) {
      for (const [k, pane] of m.open) {
        if (pane.paneStart > limit) {
          m.open.delete(k);
          droppedPanes++;
        }
      }
      const keep = m.retired.filter((p) => p.paneStart <= limit);
      droppedPanes += m.retired.length - keep.length;
      m.retired = keep;
      m.last = undefined;
      const sound = paneStartOf(this.clock - m.params.latenessMs, m.params.paneMs);
      if (m.closedUpTo > sound) m.closedUpTo = sound;
    }
    return { droppedPanes };
  }

  /** Late events counted for a model. */
  lateCount(modelId: string): number {
    return this.models.get(modelId)?.late ?? 0;
  }

  /** Open panes across models. */
  get openPanes(): number {
    let n = 0;
    for (const m of this.models.values()) n += m.open.size + m.retired.length;
    return n;
  }

  /** Open panes of one model, oldest first. */
  openPanesOf(modelId: string): Pane[] {
    const m = this.models.get(modelId);
    return m ? [...m.open.values(), ...m.retired].sort((a, b) => a.paneStart - b.paneStart) : [];
  }

  toJSON(): PartitionWindowsJSON {
    const models: PartitionWindowsJSON['models'] = {};
    for (const [id, m] of this.models) {
      models[id] = {
        paneMs: m.params.paneMs,
        latenessMs: m.params.latenessMs,
        closedUpTo: Number.isFinite(m.closedUpTo) ? m.closedUpTo : null,
        late: m.late,
        open: [...m.open.values(), ...m.retired].map((p) => p.toJSON()),
      };
    }
    return { v: 1, clock: Number.isFinite(this.clock) ? this.clock : null, models };
  }

  /**
   * Restores windows written by {@link toJSON}. `layoutOf` resolves the
   * layout of a model on a reference; a pane whose layout cannot be resolved
   * (model deleted) is dropped and returned in `dropped`.
   */
  static fromJSON(
    json: PartitionWindowsJSON,
    layoutOf: (modelId: string, referenceId: string) => PaneLayout | undefined,
    now: number,
  ): { windows: PartitionWindows; dropped: PaneJSON[] } {
    if (!json || json.v !== 1) throw new TypeError('partition windows: unsupported format');
    const w = new PartitionWindows(now);
    w.clock = json.clock ?? -Infinity;
    const dropped: PaneJSON[] = [];
    for (const [id, m] of Object.entries(json.models)) {
      const open = new Map<number, Pane>();
      const retired: Pane[] = [];
      for (const pj of m.open) {
        const layout = layoutOf(pj.m, pj.r);
        if (!layout) {
          dropped.push(pj);
          continue;
        }
        const pane = Pane.fromJSON(pj, layout);
        if (open.has(pj.s) || pj.e - pj.s !== m.paneMs) retired.push(pane);
        else open.set(pj.s, pane);
      }
      w.models.set(id, {
        params: { paneMs: m.paneMs, latenessMs: m.latenessMs },
        closedUpTo: m.closedUpTo ?? -Infinity,
        late: m.late,
        open,
        retired,
        last: undefined,
      });
    }
    return { windows: w, dropped };
  }
}
