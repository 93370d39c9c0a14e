import type { Logger } from 'pino';
import type { DriftAlert } from '../core/events.js';
import { AlertTracker } from '../core/drift/alert-tracker.js';
import { deriveConditions } from '../core/drift/alert-conditions.js';
import { multivariateConditions } from '../core/drift/multivariate-conditions.js';
import { estimatedPerformanceConditions } from '../core/drift/estimated-performance-conditions.js';
import { segmentConditions } from '../core/drift/segment-conditions.js';
import { evaluateWindow, type DetailedEvaluation } from '../core/drift/evaluate-window.js';
import { isPaneJson, type PaneJSON } from '../core/windows/pane.js';
import { trimReferenceDigests } from '../core/profile/reference-profile.js';
import { paneLengthOf } from '../core/windows/window-spec.js';
import { ModelWindowCache } from '../core/windows/window-cache.js';
import type { PaneLayout } from '../core/windows/pane-layout.js';
import { windowsEndingAt, type WindowInstance } from '../core/windows/window-spec.js';
import { isRetriable, UnavailableError } from '../errors.js';
import type { StreamMetrics } from '../ports/metrics.js';
import type { PerformanceResult } from '../core/drift/types.js';
import type { WindowConfig } from '../core/model/model-config.js';
import type { DetectorState } from './detector-state.js';
import { TaskSlots } from './task-slots.js';
import type { TurnBudget } from './turn-budget.js';
import type { ModelCatalog, ModelRuntime } from './model-catalog.js';
import type { AlertSink } from '../ports/alert-sink.js';
import type { AlertStateStore } from '../ports/alert-state-store.js';
import type { CompletePane, PaneCoordinator } from '../ports/pane-coordinator.js';
import type { ResultRepository } from '../ports/result-repository.js';
import { advanceRetrainGate, retrainStateOf, type RetrainGateState } from '../core/drift/retrain-gate.js';
import type { ReferencePerformance } from '../core/performance/reference-performance.js';

export interface WindowEvaluatorDeps {
  catalog: ModelCatalog;
  coordinator: PaneCoordinator;
  alertState: AlertStateStore;
  sink: AlertSink;
  results: ResultRepository;
  state: DetectorState;
  metrics: StreamMetrics;
  logger: Logger;
  now?: () => number;
  /** Resolves once results saved so far are durable (a buffered repository); panes are settled after it. */
  durable?: () => Promise<void>;
  /** Backoff between attempts when a dependency is down. */
  retryDelayMs?: { initial: number; max: number };
  /**
   * Panes evaluated at once across models (default {@link DEFAULT_EVALUATION_SLOTS}). Each holds its
   * merged windows and evaluations until published, so at 1,000 models a pane end evaluated all at
   * once would hold a gigabyte.
   */
  evaluationSlots?: number;
  /**
   * The detector's turn budget (shared with the partitions' batches): merging a pane and evaluating
   * each window run as slices of it, so an evaluation waits for its turn rather than holding the
   * event loop beside the batches, and HTTP requests are answered between the windows.
   */
  turns?: TurnBudget;
  /** The window's performance so far (labels joined), attached to its evaluation; see src/stream/performance-evaluator.ts. */
  performanceOf?: (modelId: string, window: WindowConfig, windowStart: number) => Promise<PerformanceResult | undefined>;
}

const STATISTICS = ['psi', 'wassersteinNormed', 'jensenShannon', 'hellinger'] as const;

/** Panes evaluated at once across models by default. */
export const DEFAULT_EVALUATION_SLOTS = 16;
const SEVERITY_LEVEL = { NONE: 0, WARNING: 1, CRITICAL: 2 } as const;

/** What evaluating one pane's windows produced. */
interface PaneOutcome {
  evaluations: DetailedEvaluation[];
  /** Alerts claimed by this pane (now or by an earlier attempt of it): the ones to publish. */
  alerts: DriftAlert[];
  /** Every record the trackers produced, claimed now or by an earlier attempt of this pane. */
  records: DriftAlert[];
  trackers: [string, AlertTracker][];
  /** Retrain gates moved on by this pane, by window name. */
  retrain: [string, RetrainGateState][];
}

/** Where a window's retrain gate is kept in the AlertStateStore (beside the window's tracker). */
export function retrainStateKey(windowName: string): string {
  return `${windowName}#retrain`;
}

/**
 * Turns complete panes into evaluations and alerts: merges the pane's
 * partials, evaluates every window of the model that ends with it (sliding
 * windows from slide-long blocks kept in a {@link ModelWindowCache}; panes
 * this process never saw come from the coordinator), runs the alert
 * tracker, claims each alert record so none is published twice, publishes
 * alerts and evaluations, saves history, and settles the pane.
 *
 * Evaluations of one model run one at a time, in pane order; a dependency
 * that is down is retried with backoff rather than losing the evaluation.
 */
export class WindowEvaluator {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly caches = new Map<string, Map<string, ModelWindowCache>>();
  private readonly now: () => number;
  private readonly slots: TaskSlots;
  private stopped = false;
  /** Panes handed to {@link evaluate} and not yet done. */
  private queued = 0;
  /** Dependencies being waited out, with how many evaluations wait for each. */
  private readonly waiting = new Map<string, number>();

  constructor(private readonly deps: WindowEvaluatorDeps) {
    this.now = deps.now ?? Date.now;
    this.slots = new TaskSlots(deps.evaluationSlots ?? DEFAULT_EVALUATION_SLOTS);
  }

  /** Evaluates complete panes; resolves when all of them are published. */
  async evaluate(panes: readonly CompletePane[]): Promise<void> {
    if (panes.length === 0) return;
    const byModel = new Map<string, CompletePane[]>();
    for (const p of panes) {
      const list = byModel.get(p.modelId);
      if (list) list.push(p);
      else byModel.set(p.modelId, [p]);
    }
    const waits: Promise<void>[] = [];
    this.queued += panes.length;
    for (const [modelId, list] of byModel) {
      list.sort((a, b) => a.paneEnd - b.paneEnd);
      const prev = this.chains.get(modelId) ?? Promise.resolve();
      const next = prev.then(async () => {
        for (const p of list) {
          // Claims won by an earlier attempt of this pane still entitle it to publish.
          const claimed = new Set<string>();
          try {
            await this.slots.run(() => this.withRetry(() => this.evaluatePane(p, claimed), `${modelId} pane ${p.paneStart}`));
          } finally {
            this.queued--;
          }
        }
      });
      const tail = next.catch(() => {});
      this.chains.set(modelId, tail);
      void tail.then(() => {
        if (this.chains.get(modelId) === tail) this.chains.delete(modelId);
      });
      waits.push(next);
    }
    await Promise.all(waits);
  }

  /** Panes handed over and not yet evaluated (or given up). */
  get pending(): number {
    return this.queued;
  }

  /** Resolves once at most `n` panes wait for evaluation: how a caller that does not await {@link evaluate} bounds the queue. */
  async whenPendingAtMost(n: number): Promise<void> {
    while (this.queued > n && this.chains.size > 0) await Promise.race(this.chains.values());
  }

  /** Stops retrying (shutdown); pending evaluations give up after their current attempt. */
  stop(): void {
    this.stopped = true;
  }

  private async withRetry(fn: () => Promise<void>, what: string): Promise<void> {
    const { initial, max } = this.deps.retryDelayMs ?? { initial: 200, max: 5000 };
    let delay = initial;
    let waitingFor: string | undefined;
    try {
      for (;;) {
        try {
          await fn();
          return;
        } catch (err) {
          if (!isRetriable(err) || this.stopped) {
            this.deps.logger.error({ err, what }, 'evaluation failed; skipping it');
            return;
          }
          const dependency = err instanceof UnavailableError ? err.dependency : 'unknown';
          if (waitingFor !== dependency) {
            if (waitingFor !== undefined) this.unwait(waitingFor);
            this.waiting.set(dependency, (this.waiting.get(dependency) ?? 0) + 1);
            waitingFor = dependency;
          }
          this.deps.logger.warn({ err: (err as Error).message, what, retryInMs: delay }, 'evaluation waiting for a dependency');
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(max, delay * 2);
        }
      }
    } finally {
      if (waitingFor !== undefined) this.unwait(waitingFor);
    }
  }

  private unwait(dependency: string): void {
    const n = (this.waiting.get(dependency) ?? 1) - 1;
    if (n <= 0) this.waiting.delete(dependency);
    else this.waiting.set(dependency, n);
  }

  /** Dependencies an evaluation is waiting out right now (retried with backoff). */
  waitingFor(): string[] {
    return [...this.waiting.keys()];
  }

  private async layoutOf(rt: ModelRuntime, partials: readonly PaneJSON[]): Promise<PaneLayout | undefined> {
    const current = rt.layout?.referenceId;
    const referenceId = partials.some((p) => p.r === current) ? current! : partials[0]?.r;
    if (referenceId === undefined) return undefined;
    return this.deps.catalog.ensureReference(rt.config.modelId, referenceId);
  }

  private cacheOf(rt: ModelRuntime, layout: PaneLayout): ModelWindowCache {
    const modelId = rt.config.modelId;
    let byRef = this.caches.get(modelId);
    if (!byRef) this.caches.set(modelId, (byRef = new Map()));
    let cache = byRef.get(layout.referenceId);
    if (!cache || cache.model !== rt.config) {
      // Late partials of tumbling windows are merged while their pane is within the lateness (plus two panes).
      cache = new ModelWindowCache(rt.config, layout, rt.config.allowedLatenessMs + 2 * paneLengthOf(rt.config.windows));
      byRef.delete(layout.referenceId);
      byRef.set(layout.referenceId, cache);
      // Panes on the previous reference may still complete; older ones are gone.
      while (byRef.size > 2) byRef.delete(byRef.keys().next().value!);
    }
    return cache;
  }

  private async evaluatePane(cp: CompletePane, claimed: Set<string>): Promise<void> {
    const { catalog, logger } = this.deps;
    const rt = catalog.get(cp.modelId);
    if (!rt) return;
    const partials = cp.partials.filter(isPaneJson);
    if (partials.length < cp.partials.length) logger.warn({ modelId: cp.modelId, paneStart: cp.paneStart }, 'ignoring pane partials of an unknown format');
    const layout = await this.layoutOf(rt, partials);
    if (!layout) {
      logger.warn({ modelId: cp.modelId, paneStart: cp.paneStart }, 'pane has no usable reference; skipping it');
      return;
    }
    const mismatched = partials.filter((p) => p.r !== layout.referenceId).length;
    if (mismatched > 0) logger.warn({ modelId: cp.modelId, paneStart: cp.paneStart, mismatched }, 'pane partials on another reference left out');

    const cache = this.cacheOf(rt, layout);
    // A pane older than the cache keeps may bring only late partials of a pane published long ago. One
    // whose pane-long windows were never stored is whole, though: its election's reply was lost (the
    // state store went away), and later panes were evaluated before its claim ran out.
    const whole = cache.isStale(cp.paneStart, cp.paneEnd) && !(await this.paneWindowsStored(cp, rt, cache.paneMs));
    const { changed, stale } = await this.inSlice(() => cache.add(cp.paneStart, cp.paneEnd, partials, whole));
    if (!changed) {
      // Delivered again with nothing new (a replay): its windows were published already.
      this.settle(cp);
      return;
    }
    let windows = windowsEndingAt(rt.config.windows, cp.paneEnd);
    if (stale) {
      logger.warn({ modelId: cp.modelId, paneStart: cp.paneStart }, 'very late partial: merged into sliding windows only');
      windows = windows.filter((w) => w.window.sizeMs !== cache.paneMs);
    }
    if (windows.length > 0) {
      await this.fillMissingPanes(cp, cache, windows);
      const outcome = await this.evaluateWindows(cp, rt, cache, windows, claimed);
      await this.record(cp.modelId, outcome);
    }
    cache.markEvaluated(cp.paneStart);
    trimReferenceDigests([...layout.numericProfiles, layout.score, layout.prediction]);
    this.settle(cp);
  }

  /** Whether every pane-long window of the model ending with the pane has a stored evaluation. */
  private async paneWindowsStored(cp: CompletePane, rt: ModelRuntime, paneMs: number): Promise<boolean> {
    for (const w of rt.config.windows) {
      if (w.sizeMs !== paneMs) continue;
      const stored = await this.deps.results.listEvaluations({ modelId: cp.modelId, windowName: w.name, from: cp.paneStart, to: cp.paneEnd, limit: 10 });
      if (!stored.some((e) => e.windowStart === cp.paneStart && e.windowEnd === cp.paneEnd)) return false;
    }
    return true;
  }

  /** Panes this process did not evaluate itself (another instance did, or it restarted) come from the coordinator. */
  private async fillMissingPanes(cp: CompletePane, cache: ModelWindowCache, windows: readonly WindowInstance[]): Promise<void> {
    for (const w of windows) {
      const gaps = cache.missing(w.window, w.end);
      if (gaps.length === 0) continue;
      const earlier = await this.deps.coordinator.panes(cp.modelId, gaps[0][0], gaps[gaps.length - 1][1]);
      for (const p of earlier) if (p.paneStart !== cp.paneStart) cache.addHistorical(p.paneStart, p.partials);
      cache.markQueried(gaps);
    }
  }

  /** Runs synchronous work as a slice of the turn budget (at once without one). */
  private async inSlice<T>(work: () => T): Promise<T> {
    return this.deps.turns ? this.deps.turns.slice(work) : work();
  }

  /** Evaluates each window ending with the pane and runs its alert tracker; claims the alerts to publish. */
  private async evaluateWindows(
    cp: CompletePane,
    rt: ModelRuntime,
    cache: ModelWindowCache,
    windows: readonly WindowInstance[],
    claimed: Set<string>,
  ): Promise<PaneOutcome> {
    const outcome: PaneOutcome = { evaluations: [], alerts: [], records: [], trackers: [], retrain: [] };
    for (const w of windows) {
      const tracker = AlertTracker.fromJSON(cp.modelId, w.window.name, { resolveAfter: rt.config.resolveAfter }, await this.deps.alertState.loadTracker(cp.modelId, w.window.name));
      const { windowPane, evaluation } = await this.inSlice(() => {
        const windowPane = cache.window(w.window, w.end);
        const evaluation = evaluateWindow({
          model: rt.config,
          pane: windowPane,
          windowName: w.window.name,
          windowStart: w.start,
          windowEnd: w.end,
          evaluatedAt: this.now(),
          sequential: tracker.sequentialFor(w.end),
        });
        return { windowPane, evaluation };
      });
      await this.attachPerformance(cp.modelId, w, evaluation);
      outcome.evaluations.push(evaluation);
      const conditions = await this.inSlice(() => [
        ...deriveConditions(evaluation, rt.config, windowPane),
        ...multivariateConditions(evaluation),
        ...estimatedPerformanceConditions(evaluation, rt.config),
        ...segmentConditions(evaluation, rt.config),
      ]);
      const produced = tracker.update(evaluation, conditions, this.now());
      produced.push(...(await this.retrainSignal(rt, w.window.name, evaluation, windowPane.layout.profile.performance, outcome)));
      outcome.records.push(...produced);
      for (const a of produced) {
        const key = `${a.alertId}|${a.status}|${a.severity}`;
        if (claimed.has(key) || (await this.deps.alertState.claimAlert(a))) {
          claimed.add(key);
          outcome.alerts.push(a);
        }
      }
      outcome.trackers.push([w.window.name, tracker]);
    }
    return outcome;
  }

  /** Moves the model's retrain gate on when this is its retrain window; the RETRAIN_RECOMMENDED record it yields, if any. */
  private async retrainSignal(rt: ModelRuntime, windowName: string, evaluation: DetailedEvaluation, reference: ReferencePerformance | undefined, outcome: PaneOutcome): Promise<DriftAlert[]> {
    const retrain = rt.config.retrain;
    if (!retrain || windowName !== (retrain.window ?? rt.config.windows[0]?.name)) return [];
    const key = retrainStateKey(windowName);
    const state = retrainStateOf(await this.deps.alertState.loadTracker(rt.config.modelId, key));
    const next = advanceRetrainGate(state, evaluation, rt.config, reference, this.now());
    outcome.retrain.push([key, next.state]);
    return next.record ? [next.record] : [];
  }

  private async attachPerformance(modelId: string, w: WindowInstance, evaluation: DetailedEvaluation): Promise<void> {
    if (!this.deps.performanceOf) return;
    // Labels may already have joined; later ones update the evaluation through the performance evaluator.
    try {
      const performance = await this.deps.performanceOf(modelId, w.window, w.start);
      if (performance) evaluation.performance = performance;
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message, modelId, window: w.window.name }, 'window evaluated without its performance');
    }
  }

  /** Publishes and saves a pane's evaluations and alerts, then moves the trackers on. */
  private async record(modelId: string, { evaluations, alerts, records, trackers, retrain }: PaneOutcome): Promise<void> {
    await this.publish(evaluations, alerts);
    await this.deps.results.saveEvaluations(evaluations);
    if (records.length > 0) {
      // The alert history must hold these records before the trackers move on: a crash in between
      // re-evaluates the pane on the old trackers, which produce the same records again (their
      // claims are taken, so they are not published twice, but they are written).
      await this.deps.results.saveAlerts(records);
      if (this.deps.durable) await this.deps.durable();
    }
    for (const [name, tracker] of trackers) await this.deps.alertState.saveTracker(modelId, name, tracker.toJSON());
    for (const [key, state] of retrain) await this.deps.alertState.saveTracker(modelId, key, state);
    this.observe(evaluations, alerts, trackers);
  }

  private async publish(evaluations: DetailedEvaluation[], alerts: DriftAlert[]): Promise<void> {
    // Alerts first: they are what people wait for.
    if (alerts.length > 0) await this.deps.sink.publishAlerts(alerts);
    await this.deps.sink.publishEvaluations(evaluations);
    for (const a of alerts) {
      this.deps.logger.info(
        { alertId: a.alertId, modelId: a.modelId, kind: a.kind, feature: a.feature, statistic: a.statistic, value: a.value, severity: a.severity, status: a.status, window: a.windowName },
        'drift alert',
      );
    }
  }

  private observe(evaluations: DetailedEvaluation[], alerts: DriftAlert[], trackers: [string, AlertTracker][]): void {
    const { metrics, state } = this.deps;
    for (const a of alerts) metrics.alerts.inc({ model: metrics.modelLabel(a.modelId), kind: a.kind, severity: a.severity });
    evaluations.forEach((e, i) => {
      const model = metrics.modelLabel(e.modelId);
      const window = e.windowName;
      metrics.evaluations.inc({ model, window });
      // Models beyond the series limit share counters; their per-feature gauges are not exported.
      const own = model === e.modelId;
      const set = (feature: string, r: DetailedEvaluation['features'][string]): void => {
        if (!own) return;
        for (const s of STATISTICS) {
          const v = r[s];
          if (typeof v === 'number' && Number.isFinite(v)) metrics.driftStatistic.set({ model, feature, window, statistic: s }, v);
        }
        if (r.ks && Number.isFinite(r.ks.statistic)) metrics.driftStatistic.set({ model, feature, window, statistic: 'ks' }, r.ks.statistic);
        if (r.chiSquare && Number.isFinite(r.chiSquare.pValue)) metrics.driftStatistic.set({ model, feature, window, statistic: 'chiSquarePValue' }, r.chiSquare.pValue);
        const v = r.verdict;
        if (v && Number.isFinite(v.effect)) metrics.driftStatistic.set({ model, feature, window, statistic: 'effect' }, v.effect);
        if (v && v.mde !== null && Number.isFinite(v.mde)) metrics.driftStatistic.set({ model, feature, window, statistic: 'mde' }, v.mde);
        metrics.driftSeverity.set({ model, feature, window }, SEVERITY_LEVEL[r.severity]);
      };
      for (const [f, r] of Object.entries(e.features)) set(f, r);
      for (const [f, r] of Object.entries(e.prediction ?? {})) set(`$${f}`, r);
      const tracker = trackers[i][1];
      const published = alerts.filter((a) => a.windowName === window).length;
      state.recordEvaluation(e, Object.keys(tracker.incidents).length, published);
    });
  }

  private settle(cp: CompletePane): void {
    const settle = this.deps.coordinator.settle;
    if (!settle || !cp.claim) return;
    const durable = this.deps.durable ? this.deps.durable() : Promise.resolve();
    void durable
      .then(() => settle.call(this.deps.coordinator, [cp]))
      .catch((err) => this.deps.logger.warn({ err: (err as Error).message, modelId: cp.modelId, paneStart: cp.paneStart }, 'could not settle pane; it will be evaluated again'));
  }

  /** Waits for every queued evaluation. */
  async drain(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }
}
