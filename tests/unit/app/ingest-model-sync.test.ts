import { describe, expect, it } from 'vitest';
import { ModelSyncSender, WorkerModels, type SyncCatalog } from '../../../src/app/ingest-model-sync.js';
import type { ModelSync } from '../../../src/app/ingest-protocol.js';
import type { ModelConfig } from '../../../src/core/model/model-config.js';
import { createPaneLayout, type PaneLayout } from '../../../src/core/windows/pane-layout.js';
import type { PartitionWindowsJSON } from '../../../src/core/windows/partition-windows.js';
import type { IngestModel } from '../../../src/stream/partition-ingest.js';
import { testModel, testReference } from '../core/windows/fixtures.js';

const PROFILE = testReference(500);
const PARAMS = { paneMs: 10_000, latenessMs: 2_000 };

/** A catalog whose models and references the test sets. */
class FakeCatalog implements SyncCatalog {
  readonly models = new Map<string, IngestModel>();
  readonly layouts = new Map<string, PaneLayout>();

  layout(modelId: string, referenceId: string, config: ModelConfig = testModel({ modelId })): PaneLayout {
    const key = `${modelId}/${referenceId}`;
    let l = this.layouts.get(key);
    if (l === undefined) this.layouts.set(key, (l = createPaneLayout(config, referenceId, PROFILE)));
    return l;
  }

  use(modelId: string, referenceId: string | undefined, config: ModelConfig = testModel({ modelId })): void {
    this.models.set(modelId, { config, params: PARAMS, layout: referenceId === undefined ? undefined : this.layout(modelId, referenceId, config) });
  }

  get(modelId: string): IngestModel | undefined {
    return this.models.get(modelId);
  }

  layoutFor(modelId: string, referenceId: string): PaneLayout | undefined {
    return this.layouts.get(`${modelId}/${referenceId}`);
  }
}

/** Checkpointed windows with one open pane of `modelId` on `referenceId`. */
function windowsWith(modelId: string, referenceId: string): PartitionWindowsJSON {
  return { v: 1, clock: 0, models: { [modelId]: { open: [{ m: modelId, r: referenceId }] } } } as unknown as PartitionWindowsJSON;
}

function setup(): { catalog: FakeCatalog; sender: ModelSyncSender; worker: WorkerModels; send: (sync: ModelSync[], keep?: boolean) => ModelSync[] } {
  const catalog = new FakeCatalog();
  const sender = new ModelSyncSender(catalog);
  const worker = new WorkerModels();
  // What the worker does with a request's changes (src/app/ingest-worker.ts).
  const send = (sync: ModelSync[], keep = false): ModelSync[] => {
    worker.apply(sync);
    if (!keep) worker.evict();
    return sync;
  };
  return { catalog, sender, worker, send };
}

const profiles = (sync: readonly ModelSync[]): string[] => sync.filter((s) => s.profile !== undefined).map((s) => `${s.modelId}/${s.referenceId}`);

describe('ingest worker models', () => {
  it('replaces a model’s reference on the worker when the model’s reference changes', () => {
    const { catalog, sender, worker, send } = setup();
    catalog.use('a', 'ref-1');
    catalog.use('b', 'ref-1');
    expect(profiles(send(sender.sync(['a', 'b'])))).toEqual(['a/ref-1', 'b/ref-1']);
    expect(worker.references()).toEqual([['a', 'ref-1'], ['b', 'ref-1']]);

    catalog.use('a', 'ref-2');
    expect(profiles(send(sender.sync([])))).toEqual(['a/ref-2']);
    expect(worker.references()).toEqual([['b', 'ref-1'], ['a', 'ref-2']]);
    expect(worker.get('a')?.layout?.referenceId).toBe('ref-2');
    expect(worker.layoutFor('a', 'ref-1')).toBeUndefined();
  });

  it('drops the reference of a model that is gone, and sends it again when the model comes back', () => {
    const { catalog, sender, worker, send } = setup();
    catalog.use('a', 'ref-1');
    send(sender.sync(['a']));
    catalog.models.delete('a');
    expect(send(sender.sync([]))).toEqual([{ modelId: 'a', gone: true }]);
    expect(worker.references()).toEqual([]);
    expect(worker.get('a')).toBeUndefined();

    // A model bootstrapping a new reference has no layout: its reference goes too.
    catalog.use('b', 'ref-1');
    send(sender.sync(['b']));
    catalog.use('b', undefined);
    send(sender.sync([]));
    expect(worker.references()).toEqual([]);

    catalog.use('a', 'ref-1');
    const back = send(sender.sync(['a']));
    expect(profiles(back)).toEqual(['a/ref-1']);
    expect(worker.get('a')?.layout?.referenceId).toBe('ref-1');
  });

  it('keeps the reference when only the configuration changes, without sending the profile again', () => {
    const { catalog, sender, worker, send } = setup();
    catalog.use('a', 'ref-1');
    send(sender.sync(['a']));
    const before = worker.get('a')!.layout;
    catalog.models.set('a', { ...catalog.get('a')!, params: { paneMs: 5_000, latenessMs: 0 } });
    const sync = send(sender.sync([]));
    expect(sync).toHaveLength(1);
    expect(profiles(sync)).toEqual([]);
    expect(worker.get('a')?.params.paneMs).toBe(5_000);
    expect(worker.get('a')?.layout).toBe(before);
  });

  it('holds a reference only restored panes use for the restore, then lets it go', () => {
    const { catalog, sender, worker, send } = setup();
    catalog.use('a', 'ref-2');
    catalog.layout('a', 'ref-1');
    send(sender.sync(['a']));
    const first = send(sender.syncForRestore(windowsWith('a', 'ref-1')), true);
    expect(profiles(first)).toEqual(['a/ref-1']);
    expect(first.find((s) => s.referenceId === 'ref-1')?.layoutOnly).toBe(true);
    expect(worker.layoutFor('a', 'ref-1')?.referenceId).toBe('ref-1');
    expect(worker.get('a')?.layout?.referenceId).toBe('ref-2');
    worker.evict();
    expect(worker.references()).toEqual([['a', 'ref-2']]);

    // A second restore (another partition) needs ref-1 again: the profile travels again.
    const second = send(sender.syncForRestore(windowsWith('a', 'ref-1')), true);
    expect(profiles(second)).toEqual(['a/ref-1']);
    expect(worker.layoutFor('a', 'ref-1')).toBeDefined();
    // The model's current reference is held already.
    expect(profiles(sender.syncForRestore(windowsWith('a', 'ref-2')))).toEqual([]);
  });

  it('refuses a change that names a reference the worker neither got nor holds', () => {
    const worker = new WorkerModels();
    expect(() => worker.apply([{ modelId: 'a', config: testModel({ modelId: 'a' }), params: PARAMS, referenceId: 'ref-1' }])).toThrow(/neither sent nor held/);
  });
});
