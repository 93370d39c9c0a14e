import { parseProfile, serializeProfile } from '../core/profile/reference-profile.js';
import { createPaneLayout, type PaneLayout } from '../core/windows/pane-layout.js';
import type { PartitionWindowsJSON } from '../core/windows/partition-windows.js';
import type { IngestModel, IngestModels } from '../stream/partition-ingest.js';
import type { ModelSync } from './ingest-protocol.js';

/** What the main thread's side of the model synchronization reads from the model catalog. */
export interface SyncCatalog {
  get(modelId: string): IngestModel | undefined;
  layoutFor(modelId: string, referenceId: string): PaneLayout | undefined;
}

function keyOf(modelId: string, referenceId: string): string {
  return `${modelId}\u0000${referenceId}`;
}

/*
 * Which references a worker holds follows one rule both sides apply: after a
 * request, a worker keeps the reference of each model it was sent (and that
 * is not gone), and nothing else. A reference sent only for panes restored
 * from a checkpoint (`layoutOnly`) lives as long as the request that restores
 * them; the restored panes then hold their layout themselves. So the main
 * thread knows without asking when a reference's profile must be sent again.
 */

/** The main thread's record of what one worker holds: computes the model changes the worker must take. */
export class ModelSyncSender {
  /** What the worker holds per model (compared by identity with the catalog's runtime). */
  private readonly sent = new Map<string, { config: unknown; params: unknown; layout: PaneLayout }>();

  constructor(private readonly catalog: SyncCatalog) {}

  /** The references the worker holds now. */
  private held(): Set<string> {
    const out = new Set<string>();
    for (const [modelId, s] of this.sent) out.add(keyOf(modelId, s.layout.referenceId));
    return out;
  }

  private entry(modelId: string, rt: IngestModel, layout: PaneLayout, layoutOnly: boolean, held: Set<string>): ModelSync {
    const key = keyOf(modelId, layout.referenceId);
    const profile = held.has(key) ? undefined : serializeProfile(layout.profile);
    held.add(key);
    return { modelId, config: rt.config, params: rt.params, referenceId: layout.referenceId, ...(profile !== undefined ? { profile } : {}), ...(layoutOnly ? { layoutOnly: true } : {}) };
  }

  private changes(wanted: readonly string[], held: Set<string>): ModelSync[] {
    const out: ModelSync[] = [];
    for (const [modelId, was] of this.sent) {
      const rt = this.catalog.get(modelId);
      if (rt?.layout === undefined) {
        this.sent.delete(modelId);
        out.push({ modelId, gone: true });
      } else if (rt.layout !== was.layout || rt.config !== was.config || rt.params !== was.params) {
        this.sent.set(modelId, { config: rt.config, params: rt.params, layout: rt.layout });
        out.push(this.entry(modelId, rt, rt.layout, false, held));
      }
    }
    for (const modelId of wanted) {
      const rt = this.catalog.get(modelId);
      if (rt?.layout === undefined || this.sent.has(modelId)) continue;
      this.sent.set(modelId, { config: rt.config, params: rt.params, layout: rt.layout });
      out.push(this.entry(modelId, rt, rt.layout, false, held));
    }
    return out;
  }

  /**
   * The changes the worker must take before its next run: models whose
   * configuration, pane length or reference changed since they were sent, or
   * that lost their layout; and the models named in `wanted`.
   */
  sync(wanted: readonly string[]): ModelSync[] {
    return this.changes(wanted, this.held());
  }

  /** The changes for a restore: {@link sync}'s, and the references the restored panes need. */
  syncForRestore(windows: PartitionWindowsJSON): ModelSync[] {
    const held = this.held();
    const out = this.changes([], held);
    for (const m of Object.values(windows.models)) {
      for (const p of m.open) {
        const rt = this.catalog.get(p.m);
        const layout = this.catalog.layoutFor(p.m, p.r);
        if (rt === undefined || layout === undefined || held.has(keyOf(p.m, p.r))) continue;
        out.push(this.entry(p.m, rt, layout, true, held));
      }
    }
    return out;
  }
}

/** A worker's copy of the models its partitions' events go to, and the references they use. */
export class WorkerModels implements IngestModels {
  private readonly models = new Map<string, IngestModel>();
  private readonly layouts = new Map<string, PaneLayout>();

  get(modelId: string): IngestModel | undefined {
    return this.models.get(modelId);
  }

  /** A reference the worker holds (the restore of a checkpoint looks its panes' references up here). */
  layoutFor(modelId: string, referenceId: string): PaneLayout | undefined {
    return this.layouts.get(keyOf(modelId, referenceId));
  }

  /** The references held, as `modelId`/`referenceId` pairs. */
  references(): [modelId: string, referenceId: string][] {
    return [...this.layouts.values()].map((l) => [l.modelId, l.referenceId]);
  }

  /** Takes the main thread's changes; a reference it did not send again must be held already. */
  apply(sync: readonly ModelSync[]): void {
    for (const s of sync) {
      if (s.gone) {
        this.models.delete(s.modelId);
        continue;
      }
      const key = keyOf(s.modelId, s.referenceId!);
      if (s.profile !== undefined) this.layouts.set(key, createPaneLayout(s.config!, s.referenceId!, parseProfile(s.profile)));
      const layout = this.layouts.get(key);
      if (layout === undefined) throw new Error(`model ${s.modelId}: reference ${s.referenceId} was neither sent nor held`);
      if (s.layoutOnly) continue;
      this.models.set(s.modelId, { config: s.config!, params: s.params!, layout });
    }
  }

  /**
   * Drops the references no model uses any more (replaced, or the model is
   * gone); open panes keep the layout they were counted on by themselves.
   */
  evict(): void {
    if (this.layouts.size === 0) return;
    const used = new Set<PaneLayout>();
    for (const m of this.models.values()) if (m.layout !== undefined) used.add(m.layout);
    for (const [key, layout] of this.layouts) if (!used.has(layout)) this.layouts.delete(key);
  }
}
