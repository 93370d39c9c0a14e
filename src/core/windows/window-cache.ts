import type { ModelConfig, WindowConfig } from '../model/model-config.js';
import { paneLengthOf } from './window-spec.js';
import { isPaneJson, Pane, type PaneJSON } from './pane.js';
import { KeptPane } from './kept-pane.js';
import type { PaneLayout } from './pane-layout.js';
import { paneStartOf } from './window-spec.js';

/** A merged run of panes, and which (pane, source) partials it holds. */
interface Merged {
  kept: KeptPane;
  /** `<paneStart>|<topic/partition>` of every partial merged in. */
  sources: Set<string>;
}

interface Block extends Merged {
  /** Starts of the panes merged in. */
  panes: Set<number>;
}

interface Raw extends Merged {
  /** True once an evaluation of every window ending with this pane was published. */
  evaluated: boolean;
}

/** Source keys of a partial: `<paneStart>|<topic/partition>` for each source it came from. */
function keysOf(paneStart: number, p: PaneJSON): string[] {
  return p.src.length > 0 ? p.src.map((s) => `${paneStart}|${s}`) : [`${paneStart}|?${JSON.stringify([p.n, p.e])}`];
}

/**
 * The windows of one model, kept compact for evaluation: complete panes
 * merged across partitions, and for every slide that sliding (or long
 * tumbling) windows use, the panes rolled up into slide-long blocks. A 1-hour
 * window sliding by 5 minutes over 1-minute panes is then 12 blocks, not 60
 * panes times the partition count.
 *
 * Panes and blocks that are only read (an evaluated pane kept for late
 * partials, a block the windows have moved past) are kept packed
 * ({@link KeptPane}); the block still filling and a pane until its
 * evaluation stay objects.
 *
 * Every block and pane remembers which (pane, partition) partials it holds,
 * so a partial delivered again (a replay, a coordinator that hands out the
 * whole pane again with a late partial) is merged once. Panes the cache never
 * saw (evaluated by another process, or before a restart) are reported by
 * {@link missing} so the caller can fetch them from the coordinator.
 */
export class ModelWindowCache {
  readonly paneMs: number;
  private readonly slides: number[];
  private readonly keepBySlide = new Map<number, number>();
  private readonly raw = new Map<number, Raw>();
  private readonly blocks = new Map<number, Map<number, Block>>();
  private readonly queried = new Set<number>();
  private latestEnd = -Infinity;

  constructor(
    readonly model: ModelConfig,
    readonly layout: PaneLayout,
    /** How long (event time) merged panes stay for late partials of tumbling windows. */
    private readonly rawKeepMs: number,
  ) {
    this.paneMs = paneLengthOf(model.windows);
    const slides = new Set<number>();
    for (const w of model.windows) {
      if (w.sizeMs === this.paneMs) continue;
      slides.add(w.slideMs);
      this.keepBySlide.set(w.slideMs, Math.max(this.keepBySlide.get(w.slideMs) ?? 0, w.sizeMs));
    }
    this.slides = [...slides];
  }

  /**
   * Merges the partials of a complete pane that are new to the cache.
   * Returns the pane merged across partitions and whether it changed or was
   * never evaluated (false: a duplicate delivery, nothing to evaluate).
   * `stale`: the pane is older than the cache keeps panes and was not held,
   * so only its slide blocks were updated; its pane-long windows must not be
   * evaluated again from what arrived.
   */
  add(paneStart: number, paneEnd: number, partials: readonly unknown[], whole = false): { pane: Pane; changed: boolean; stale: boolean } {
    const parts = partials.filter((p): p is PaneJSON => isPaneJson(p) && p.r === this.layout.referenceId);
    let raw = this.raw.get(paneStart);
    // A pane this cache let go of long ago: what arrives may be only the late partials, not the whole
    // pane, unless the caller knows it is whole (`whole`: its pane-long windows were never published).
    const stale = !whole && this.isStale(paneStart, paneEnd);
    let changed = false;
    if (!raw) {
      raw = { kept: new KeptPane(Pane.empty(this.layout, paneStart, paneEnd)), sources: new Set(), evaluated: false };
      this.raw.set(paneStart, raw);
    }
    const pane = raw.kept.open(this.layout);
    const decoded = new Map<PaneJSON, Pane>();
    const decode = (p: PaneJSON): Pane => {
      let pane = decoded.get(p);
      if (!pane) decoded.set(p, (pane = Pane.fromJSON(p, this.layout)));
      return pane;
    };
    for (const p of parts) {
      const keys = keysOf(paneStart, p);
      if (keys.every((k) => raw.sources.has(k))) continue;
      pane.merge(decode(p));
      for (const k of keys) raw.sources.add(k);
      changed = true;
    }
    // Kept merged panes and blocks are most of the detector's memory (50 models x 25 features:
    // ~13 blocks and a few panes per model); their digests need no room to grow.
    if (changed) pane.trim();
    for (const s of this.slides) this.addToBlock(s, paneStart, parts, decode);
    if (changed) raw.evaluated = false;
    if (paneEnd > this.latestEnd) {
      this.latestEnd = paneEnd;
      this.prune();
    }
    if (stale) this.raw.delete(paneStart);
    // Not yet evaluated again (a duplicate delivery), it goes back to its packed form.
    if (!changed && raw.evaluated) raw.kept.pack();
    return { pane, changed: changed || !raw.evaluated, stale };
  }

  /** Whether {@link add} takes the pane as stale: not held, and older than the cache keeps panes. */
  isStale(paneStart: number, paneEnd: number): boolean {
    return !this.raw.has(paneStart) && paneEnd <= this.latestEnd - Math.max(this.rawKeepMs, 2 * this.paneMs);
  }

  /** Merges an earlier pane (from the coordinator) into the blocks only. */
  addHistorical(paneStart: number, partials: readonly unknown[]): void {
    const parts = partials.filter((p): p is PaneJSON => isPaneJson(p) && p.r === this.layout.referenceId);
    const decoded = new Map<PaneJSON, Pane>();
    const decode = (p: PaneJSON): Pane => {
      let pane = decoded.get(p);
      if (!pane) decoded.set(p, (pane = Pane.fromJSON(p, this.layout)));
      return pane;
    };
    for (const s of this.slides) this.addToBlock(s, paneStart, parts, decode);
  }

  private addToBlock(slide: number, paneStart: number, parts: readonly PaneJSON[], decode: (p: PaneJSON) => Pane): void {
    const start = paneStartOf(paneStart, slide);
    if (start + this.keepBySlide.get(slide)! + slide <= this.latestEnd) return;
    let byStart = this.blocks.get(slide);
    if (!byStart) this.blocks.set(slide, (byStart = new Map()));
    let block = byStart.get(start);
    if (!block) byStart.set(start, (block = { kept: new KeptPane(Pane.empty(this.layout, start, start + slide)), sources: new Set(), panes: new Set() }));
    block.panes.add(paneStart);
    let pane: Pane | undefined;
    for (const p of parts) {
      const keys = keysOf(paneStart, p);
      if (keys.every((k) => block.sources.has(k))) continue;
      pane ??= block.kept.open(this.layout);
      pane.merge(decode(p));
      for (const k of keys) block.sources.add(k);
    }
    if (pane) pane.trim();
    // Only the newest block still fills as panes arrive in order; the others are packed (a late partial unpacks one).
    let newest = -Infinity;
    for (const s of byStart.keys()) if (s > newest) newest = s;
    for (const [s, b] of byStart) if (s !== newest) b.kept.pack();
  }

  /** Marks the pane's windows as published (a later identical delivery is then a duplicate). */
  markEvaluated(paneStart: number): void {
    const raw = this.raw.get(paneStart);
    if (!raw) return;
    raw.evaluated = true;
    // Kept for late partials only: read again only if one arrives.
    raw.kept.pack();
  }

  /**
   * Ranges `[from, to)` of panes of the window `[end - size, end)` the cache
   * has not seen and has not asked the coordinator for yet.
   */
  missing(window: WindowConfig, end: number): [number, number][] {
    if (window.sizeMs === this.paneMs) return [];
    const seen = new Set<number>();
    const byStart = this.blocks.get(window.slideMs);
    for (let b = end - window.sizeMs; b < end; b += window.slideMs) {
      for (const p of byStart?.get(b)?.panes ?? []) seen.add(p);
    }
    const out: [number, number][] = [];
    for (let p = end - window.sizeMs; p < end; p += this.paneMs) {
      if (seen.has(p) || this.queried.has(p)) continue;
      const last = out[out.length - 1];
      if (last && last[1] === p) last[1] = p + this.paneMs;
      else out.push([p, p + this.paneMs]);
    }
    return out;
  }

  /** Remembers that the coordinator was asked for these panes (empty panes are never complete). */
  markQueried(ranges: readonly [number, number][]): void {
    for (const [from, to] of ranges) for (let p = from; p < to; p += this.paneMs) this.queried.add(p);
  }

  /** The merged window `[end - size, end)`: the pane itself for a pane-long window, else its blocks. */
  window(window: WindowConfig, end: number): Pane {
    if (window.sizeMs === this.paneMs) return this.raw.get(end - this.paneMs)?.kept.view(this.layout) ?? Pane.empty(this.layout, end - this.paneMs, end);
    const byStart = this.blocks.get(window.slideMs);
    const out = Pane.empty(this.layout, end - window.sizeMs, end);
    for (let b = end - window.sizeMs; b < end; b += window.slideMs) {
      const block = byStart?.get(b);
      if (block) out.merge(block.kept.view(this.layout));
    }
    return out;
  }

  private prune(): void {
    const rawHorizon = this.latestEnd - Math.max(this.rawKeepMs, 2 * this.paneMs);
    for (const start of this.raw.keys()) if (start + this.paneMs < rawHorizon) this.raw.delete(start);
    for (const [slide, byStart] of this.blocks) {
      const keep = this.keepBySlide.get(slide)!;
      for (const start of byStart.keys()) if (start + slide + keep <= this.latestEnd) byStart.delete(start);
    }
    let longest = 0;
    for (const k of this.keepBySlide.values()) longest = Math.max(longest, k);
    for (const p of this.queried) if (p + longest + this.paneMs <= this.latestEnd) this.queried.delete(p);
  }

  /** Merged panes and blocks held, and how many of them are packed (for tests and memory accounting). */
  get size(): { panes: number; blocks: number; packed: number } {
    let blocks = 0;
    let packed = 0;
    for (const r of this.raw.values()) if (r.kept.packed) packed++;
    for (const byStart of this.blocks.values()) {
      blocks += byStart.size;
      for (const b of byStart.values()) if (b.kept.packed) packed++;
    }
    return { panes: this.raw.size, blocks, packed };
  }
}
