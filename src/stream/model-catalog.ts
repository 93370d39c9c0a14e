import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import {
  modelConfigToJson,
  parseModelConfig,
  withFeatures,
  DEFAULT_MODEL_DEFAULTS,
  type ModelConfig,
  type ModelDefaults,
} from '../core/model/model-config.js';
import { parseProfile, type ReferenceProfile } from '../core/profile/reference-profile.js';
import { createPaneLayout, type PaneLayout } from '../core/windows/pane-layout.js';
import { paneLengthOf } from '../core/windows/window-spec.js';
import type { PaneParams } from '../core/windows/partition-windows.js';
import { longestWindow } from '../core/windows/window-spec.js';
import { ConfigError } from '../errors.js';
import type { ModelConfigJson, ModelRepository } from '../ports/model-repository.js';
import { ReferenceBootstrap } from './reference-bootstrap.js';

/** A model as the detector runs it: configuration, current reference, bootstrap while warming up. */
export interface ModelRuntime {
  config: ModelConfig;
  params: PaneParams;
  /** Layout on the current reference; undefined while warming up. */
  layout: PaneLayout | undefined;
  /** Collects the first events while the model has no reference. */
  bootstrap: ReferenceBootstrap | undefined;
}

export interface ModelCatalogOptions {
  repository: ModelRepository;
  logger: Logger;
  defaults?: ModelDefaults;
  /** Register unknown modelIds from their first events. */
  autoRegister: boolean;
  /** Most models run (declared and auto-registered); unknown modelIds beyond it are refused. Default unbounded. */
  maxModels?: number;
  /** Most auto-registered models. Default unbounded. */
  maxAutoRegistered?: number;
  now?: () => number;
}

/** Why {@link ModelCatalog.resolve} gave no runtime: the DLQ reason and its message. */
export interface Refusal {
  readonly reason: 'unknown_model' | 'model_limit';
  readonly message: string;
}

function paramsOf(config: ModelConfig): PaneParams {
  return Object.freeze({ paneMs: paneLengthOf(config.windows), latenessMs: config.allowedLatenessMs });
}

/**
 * The models the detector knows, their current references and pane layouts.
 * Lookups on the hot path are synchronous; writes to the repository (an
 * auto-registered model, a bootstrapped reference) run in the background and
 * are awaited by {@link flush}.
 */
export class ModelCatalog {
  private readonly runtimes = new Map<string, ModelRuntime>();
  private readonly layouts = new Map<string, PaneLayout>();
  private readonly configJson = new Map<string, string>();
  private readonly writes = new Set<Promise<unknown>>();
  private readonly repo: ModelRepository;
  private readonly logger: Logger;
  private readonly defaults: ModelDefaults;
  private readonly now: () => number;
  private maxLateness = 0;
  private autoRegistered = 0;
  /** Called when a model gets a (new) reference. */
  onReference: (modelId: string, referenceId: string) => void = () => {};

  constructor(private readonly options: ModelCatalogOptions) {
    this.repo = options.repository;
    this.logger = options.logger;
    this.defaults = options.defaults ?? DEFAULT_MODEL_DEFAULTS;
    this.now = options.now ?? Date.now;
  }

  /** Stores the declared models (a models file wins over the repository), then loads every model and its latest reference. */
  async init(declared: readonly ModelConfig[] = []): Promise<void> {
    for (const config of declared) await this.repo.putModel(modelConfigToJson(config));
    await this.refresh();
    for (const config of declared) {
      const file = config.reference.profileFile;
      if (!file) continue;
      let profile: ReferenceProfile;
      try {
        profile = parseProfile(await readFile(file, 'utf8'));
      } catch (err) {
        throw new ConfigError(`${config.modelId}: reference.profileFile ${file}: ${(err as Error).message}`, { cause: err });
      }
      const rt = this.runtimes.get(config.modelId);
      if (rt?.layout?.referenceId === profile.id) continue;
      const stored = await this.repo.addReference(config.modelId, profile.id, profile);
      this.setReference(config.modelId, stored.referenceId, profile);
    }
  }

  /**
   * Re-reads models and latest references from the repository: picks up
   * models declared over HTTP, changed configurations and new references
   * (`driftstream reference build`). Open panes keep the reference they were
   * started on; new panes use the new one.
   */
  async refresh(): Promise<void> {
    const list = await this.repo.listModels();
    for (const raw of list) await this.load(raw);
    this.recomputeLateness();
  }

  /** Takes in one stored model configuration and its latest reference. */
  private async load(raw: ModelConfigJson): Promise<void> {
    {
      const text = JSON.stringify(raw);
      let rt = this.runtimes.get(raw.modelId);
      if (this.configJson.get(raw.modelId) !== text) {
        let config: ModelConfig;
        try {
          config = parseModelConfig(raw, this.defaults);
        } catch (err) {
          this.logger.error({ modelId: raw.modelId, err: (err as Error).message }, 'stored model configuration is invalid; skipping it');
          return;
        }
        this.configJson.set(raw.modelId, text);
        // A store may give the same configuration back in another key order: keep the object (and what hangs on it).
        const same = rt !== undefined && JSON.stringify(modelConfigToJson(config)) === JSON.stringify(modelConfigToJson(rt.config));
        if (same) {
          // Nothing changed.
        } else if (rt) {
          // Open panes keep the layout they started with; a feature set that changed takes effect with
          // the next reference, which is built for it.
          if (rt.layout && JSON.stringify(config.features) !== JSON.stringify(rt.config.features)) {
            this.logger.warn({ modelId: raw.modelId }, 'model features changed; they apply from the next reference');
          }
          if (rt.config.autoRegistered && !config.autoRegistered && !rt.layout) {
            // A declaration replaced a model this process was still registering: its sample was taken
            // on inferred types, so the reference is bootstrapped again on the declared ones.
            rt.bootstrap = new ReferenceBootstrap(config);
            this.logger.warn({ modelId: raw.modelId }, 'model was declared while it was being auto-registered; the declaration wins');
          }
          rt.config = config;
          rt.params = paramsOf(config);
        } else {
          rt = { config, params: paramsOf(config), layout: undefined, bootstrap: undefined };
          this.runtimes.set(config.modelId, rt);
          if (config.autoRegistered) this.autoRegistered++;
        }
      }
      if (!rt) return;
      const latest = await this.repo.latestReference(raw.modelId);
      if (latest && latest.referenceId !== rt.layout?.referenceId) {
        try {
          this.setReference(raw.modelId, latest.referenceId, parseProfile(latest.profile));
        } catch (err) {
          this.logger.error({ modelId: raw.modelId, referenceId: latest.referenceId, err: (err as Error).message }, 'stored reference is invalid; keeping the current one');
        }
      }
      if (!rt.layout && !rt.bootstrap) rt.bootstrap = new ReferenceBootstrap(rt.config);
    }
  }

  private recomputeLateness(): void {
    let max = 0;
    for (const rt of this.runtimes.values()) if (rt.config.allowedLatenessMs > max) max = rt.config.allowedLatenessMs;
    this.maxLateness = max;
  }

  private layoutOf(config: ModelConfig, referenceId: string, profile: ReferenceProfile): PaneLayout {
    const key = `${config.modelId}\u0000${referenceId}`;
    let layout = this.layouts.get(key);
    if (!layout) {
      layout = createPaneLayout(config, referenceId, profile);
      this.layouts.set(key, layout);
    }
    return layout;
  }

  private setReference(modelId: string, referenceId: string, profile: ReferenceProfile): void {
    const rt = this.runtimes.get(modelId);
    if (!rt) return;
    rt.layout = this.layoutOf(rt.config, referenceId, profile);
    rt.bootstrap = undefined;
    this.logger.info({ modelId, referenceId, rows: profile.rows }, 'model reference loaded');
    this.onReference(modelId, referenceId);
  }

  /** The runtime of a known model. */
  get(modelId: string): ModelRuntime | undefined {
    return this.runtimes.get(modelId);
  }

  /**
   * The runtime of a model, registering it from this event when it is
   * unknown and auto-registration is on; undefined otherwise.
   */
  resolve(modelId: string): ModelRuntime | undefined {
    const rt = this.runtimes.get(modelId);
    if (rt !== undefined || !this.options.autoRegister) return rt;
    if (this.refusalOf(modelId) !== undefined) return undefined;
    let config: ModelConfig;
    try {
      config = parseModelConfig({ modelId, autoRegistered: true }, this.defaults);
    } catch {
      return undefined;
    }
    const created: ModelRuntime = { config, params: paramsOf(config), layout: undefined, bootstrap: new ReferenceBootstrap(config) };
    this.runtimes.set(modelId, created);
    this.autoRegistered++;
    this.recomputeLateness();
    this.logger.info({ modelId }, 'auto-registered model from its first event; bootstrapping its reference');
    // Claim the id in the store at once (create-if-absent): a model declared meanwhile (over HTTP,
    // not yet refreshed here) wins, and this runtime takes its declared configuration.
    this.track(this.claim(created), `registering ${modelId}`);
    return created;
  }

  private async claim(rt: ModelRuntime): Promise<void> {
    const modelId = rt.config.modelId;
    const json = modelConfigToJson(rt.config);
    if ((await this.repo.putModelIf(json, null)) !== undefined) {
      this.configJson.set(modelId, JSON.stringify((await this.repo.getModel(modelId)) ?? json));
      return;
    }
    const stored = await this.repo.getModel(modelId);
    if (stored) await this.load(stored);
    this.recomputeLateness();
  }

  /**
   * Why an unknown model gets no runtime: auto-registration is off, or a model
   * limit is reached; undefined when {@link resolve} would register it.
   */
  refusalOf(modelId: string): Refusal | undefined {
    if (this.runtimes.has(modelId)) return undefined;
    if (!this.options.autoRegister) {
      return { reason: 'unknown_model', message: `model ${JSON.stringify(modelId)} is not declared and auto-registration is off` };
    }
    const maxModels = this.options.maxModels ?? Infinity;
    if (this.runtimes.size >= maxModels) {
      return { reason: 'model_limit', message: `model ${JSON.stringify(modelId)} is not registered: the detector runs its limit of ${maxModels} models` };
    }
    const maxAuto = this.options.maxAutoRegistered ?? Infinity;
    if (this.autoRegistered >= maxAuto) {
      return { reason: 'model_limit', message: `model ${JSON.stringify(modelId)} is not registered: ${maxAuto} models are auto-registered already (the limit)` };
    }
    return undefined;
  }

  /**
   * Builds the reference of a warming-up model once its bootstrap is ready:
   * the model becomes active at once, the repository writes follow in the background.
   */
  completeBootstrap(rt: ModelRuntime): boolean {
    const b = rt.bootstrap;
    if (!b || !b.ready) return false;
    const types = b.featureTypes();
    const referenceId = randomUUID();
    const profile = b.build({ createdAt: this.now(), id: referenceId });
    const inferred = Object.keys(rt.config.features).length === 0;
    if (inferred) {
      rt.config = withFeatures(rt.config, types);
      rt.params = paramsOf(rt.config);
    }
    const modelId = rt.config.modelId;
    this.setReference(modelId, referenceId, profile);
    const json = modelConfigToJson(rt.config);
    this.configJson.set(modelId, JSON.stringify(json));
    this.track(
      (async () => {
        if (inferred || rt.config.autoRegistered) {
          // Compare-and-set over what is stored: a declaration (or another detector's change) made
          // since is never overwritten; this inferred reference is then left out.
          const entry = await this.repo.getModelEntry(modelId);
          const declared = entry !== undefined && entry.config.autoRegistered !== true;
          const written = declared ? undefined : await this.repo.putModelIf(json, entry?.version ?? null);
          if (written === undefined) {
            const stored = entry?.config ?? (await this.repo.getModel(modelId));
            this.logger.warn({ modelId, referenceId }, 'the stored model changed while its reference bootstrapped; keeping the stored one');
            if (stored) {
              this.configJson.delete(modelId);
              if (rt.layout?.referenceId === referenceId && declared) {
                rt.layout = undefined;
                rt.bootstrap = undefined;
              }
              await this.load(stored);
              this.recomputeLateness();
            }
            return;
          }
        }
        await this.repo.addReference(modelId, referenceId, profile);
        // The repository may normalize the stored form; remember what it holds so refresh() does not reload it.
        const stored = await this.repo.getModel(modelId);
        if (stored) this.configJson.set(modelId, JSON.stringify(stored));
      })(),
      `storing the bootstrapped reference of ${modelId}`,
    );
    this.logger.info({ modelId, referenceId, events: b.size, features: types }, 'bootstrapped reference built');
    return true;
  }

  private track(p: Promise<unknown>, what: string): void {
    const q = p.catch((err) => this.logger.error({ err: (err as Error).message }, `failed ${what}`)).finally(() => this.writes.delete(q));
    this.writes.add(q);
  }

  /** The layout of a model on a given reference, when cached (see {@link ensureReference}). */
  layoutFor(modelId: string, referenceId: string): PaneLayout | undefined {
    const layout = this.layouts.get(`${modelId}\u0000${referenceId}`);
    if (layout) return layout;
    const rt = this.runtimes.get(modelId);
    return rt?.layout?.referenceId === referenceId ? rt.layout : undefined;
  }

  /** Loads an older reference of a model (for panes restored from a checkpoint) so {@link layoutFor} finds it. */
  async ensureReference(modelId: string, referenceId: string): Promise<PaneLayout | undefined> {
    const have = this.layoutFor(modelId, referenceId);
    if (have) return have;
    const rt = this.runtimes.get(modelId);
    if (!rt) return undefined;
    const stored = await this.repo.getReference(referenceId);
    if (!stored || stored.modelId !== modelId) return undefined;
    return this.layoutOf(rt.config, referenceId, parseProfile(stored.profile));
  }

  /** Largest allowed lateness of any model: partitions report their watermark behind it. */
  get maxLatenessMs(): number {
    return this.maxLateness;
  }

  /** Longest window of any model (how long complete panes must be kept). */
  get longestWindowMs(): number {
    let max = 0;
    for (const rt of this.runtimes.values()) max = Math.max(max, longestWindow(rt.config.windows));
    return max;
  }

  /** Every runtime, by model id. */
  all(): IterableIterator<[string, ModelRuntime]> {
    return this.runtimes.entries();
  }

  /** Waits for background repository writes. */
  async flush(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes]);
  }
}
