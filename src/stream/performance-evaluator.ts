import type { Logger } from 'pino';
import type { DriftAlert } from '../core/events.js';
import { AlertTracker } from '../core/drift/alert-tracker.js';
import { evaluationIdOf } from '../core/drift/ids.js';
import { performanceAlertable, performanceConditions } from '../core/drift/performance-alerts.js';
import type { Evaluation, PerformanceResult } from '../core/drift/types.js';
import type { ModelConfig, WindowConfig } from '../core/model/model-config.js';
import { PerformanceCounters } from '../core/performance/counters.js';
import { summarizePerformance } from '../core/performance/metrics.js';
import { type ReferencePerformance } from '../core/performance/reference-performance.js';
import { isRetriable } from '../errors.js';
import type { StreamMetrics } from '../ports/metrics.js';
import { windowsContainingPane } from './label-join.js';
import { type LabelJoin, type PaneRef } from '../ports/label-join.js';
import { counterPaneOf, performanceSpecOf, toPerformanceResult } from './label-records.js';
import type { AlertSink } from '../ports/alert-sink.js';
import type { AlertStateStore } from '../ports/alert-state-store.js';
import type { ResultRepository } from '../ports/result-repository.js';

/** What the evaluator needs to know about a model right now. */
export interface PerformanceModel {
  config: ModelConfig;
  /** Current reference, if any: its id and, when it was built from a labelled sample, its performance. */
  referenceId?: string;
  referencePerformance?: ReferencePerformance;
}

export interface PerformanceEvaluatorDeps {
  join: LabelJoin;
  /** The model's configuration and reference; undefined for an unknown model. */
  model: (modelId: string) => PerformanceModel | undefined;
  alertState: AlertStateStore;
  sink: AlertSink;
  results: ResultRepository;
  metrics: StreamMetrics;
  logger: Logger;
  /** Label horizon (ms). Windows are re-evaluated whenever their counters change, which ends with the horizon. */
  horizonMs: number;
  now?: () => number;
  /** Dirty panes taken per punctuation. Default 2000. */
  maxPanes?: number;
}

/**
 * Reads a window's performance so far from the label join (the drift
 * evaluation of a window attaches it); undefined when no prediction of the
 * window was recorded.
 */
export function windowPerformanceOf(join: LabelJoin, model: (modelId: string) => PerformanceModel | undefined) {
  return async (modelId: string, window: WindowConfig, windowStart: number): Promise<PerformanceResult | undefined> => {
    const m = model(modelId);
    if (!m) return undefined;
    const counters = await join.readCounters(modelId, counterPaneOf(m.config.windows), windowStart, windowStart + window.sizeMs);
    if (counters.size === 0) return undefined;
    const { proxy: _proxy, ...performance } = toPerformanceResult(summarizePerformance(counters, performanceSpecOf(m.config)));
    return performance;
  };
}

/** The tracker state of a window's PERFORMANCE alerts is kept apart from its drift alerts'. */
export function performanceTrackerKey(windowName: string): string {
  return `${windowName}#performance`;
}

interface WindowRef {
  modelId: string;
  window: WindowConfig;
  windowStart: number;
}

/**
 * The performance punctuator. Every call of {@link punctuate}:
 * counts labels whose inference never came (expired); takes the panes whose
 * counters changed (labels joined, predictions recorded); re-evaluates every
 * ended window containing them (counters change only while labels can still
 * join: within the label horizon, whatever the event time); and
 * publishes the window's performance on the metrics topic (the window's drift
 * evaluation, when stored, updated with it), PERFORMANCE alerts through the
 * same tracker, claim and sink path as drift alerts, and the gauges.
 *
 * Windows that have not ended yet are put back and looked at again later.
 */
export class PerformanceEvaluator {
  private readonly now: () => number;
  private running: Promise<void> | undefined;
  private readonly gaugeWindow = new Map<string, number>();
  /** Panes taken from the join that must be looked at again but could not be put back (the join was away). */
  private carried: PaneRef[] = [];

  constructor(private readonly deps: PerformanceEvaluatorDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** One round; concurrent calls share the round in progress. */
  punctuate(): Promise<void> {
    this.running ??= this.round().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async round(): Promise<void> {
    const { join, metrics, logger } = this.deps;
    const now = this.now();
    try {
      const expired = await join.expireWaitingLabels(now);
      for (const [model, n] of Object.entries(expired)) {
        metrics.labelsUnmatched.inc({ reason: 'expired' }, n);
        logger.info({ modelId: model, labels: n }, 'labels expired without their inference');
      }
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'could not expire waiting labels; will retry');
    }
    let panes: PaneRef[];
    try {
      panes = await join.takeDirtyPanes(this.deps.maxPanes ?? 2000);
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'could not read changed panes; will retry');
      return;
    }
    // Panes a failed round could not put back come first; the join may hand some of them out again.
    if (this.carried.length > 0) panes = uniquePanes([...this.carried, ...panes]);
    this.carried = [];
    const { due, later } = this.windowsOf(panes, now);
    const putBack: PaneRef[] = [...later];
    // Per model and window, the panes of all due windows are read once, oldest window first.
    const groups = new Map<string, WindowRef[]>();
    for (const w of due.values()) {
      const k = `${w.modelId}\n${w.window.name}`;
      const list = groups.get(k);
      if (list) list.push(w);
      else groups.set(k, [w]);
    }
    for (const list of groups.values()) {
      list.sort((a, b) => a.windowStart - b.windowStart);
      const { modelId, window } = list[0];
      try {
        const paneMs = counterPaneOf(this.deps.model(modelId)?.config.windows ?? [window]);
        const panesByStart = await join.readPanes(modelId, paneMs, list[0].windowStart, list[list.length - 1].windowStart + window.sizeMs);
        for (const w of list) {
          const counters = new PerformanceCounters();
          for (const [start, c] of panesByStart) if (start >= w.windowStart && start < w.windowStart + window.sizeMs) counters.merge(c);
          await this.evaluate(w, counters, now);
        }
      } catch (err) {
        if (!isRetriable(err)) {
          logger.error({ err, modelId, window: window.name }, 'performance evaluation failed; skipping it');
          continue;
        }
        logger.warn({ err: (err as Error).message, modelId, window: window.name }, 'performance evaluation waiting for a dependency');
        // The windows' last panes come back next round.
        const paneMs = counterPaneOf(this.deps.model(modelId)?.config.windows ?? [window]);
        for (const w of list) putBack.push({ modelId, paneMs, paneStart: w.windowStart + window.sizeMs - paneMs });
      }
    }
    if (putBack.length === 0) return;
    try {
      await join.markDirty(putBack);
    } catch (err) {
      // Taken from the join and not returned: kept here, so the next round looks at them again.
      this.carried = putBack;
      logger.warn({ err: (err as Error).message, panes: putBack.length }, 'could not put panes back; keeping them for the next round');
    }
  }

  /** Windows to evaluate now, and panes to look at again once their windows end. */
  private windowsOf(panes: readonly PaneRef[], now: number): { due: Map<string, WindowRef>; later: PaneRef[] } {
    const due = new Map<string, WindowRef>();
    const later: PaneRef[] = [];
    for (const p of panes) {
      const m = this.deps.model(p.modelId);
      if (!m) continue;
      // Counters of an earlier window layout (another pane length) are not read.
      if (counterPaneOf(m.config.windows) !== p.paneMs) continue;
      let pending = false;
      for (const window of m.config.windows) {
        for (const windowStart of windowsContainingPane(window, p.paneStart)) {
          const end = windowStart + window.sizeMs;
          if (end > now) {
            pending = true;
            continue;
          }
          due.set(`${p.modelId}\n${window.name}\n${windowStart}`, { modelId: p.modelId, window, windowStart });
        }
      }
      if (pending) later.push(p);
    }
    return { due, later };
  }

  private async evaluate(w: WindowRef, counters: PerformanceCounters, now: number): Promise<void> {
    const { deps } = this;
    const m = deps.model(w.modelId);
    if (!m) return;
    const summary = summarizePerformance(counters, performanceSpecOf(m.config));
    const { proxy, ...performance } = toPerformanceResult(summary);
    const windowEnd = w.windowStart + w.window.sizeMs;

    // The drift evaluation of the same window, when there is one, carries the performance from now on.
    const stored = (await deps.results.listEvaluations({ modelId: w.modelId, windowName: w.window.name, from: w.windowStart, to: windowEnd, limit: 10 })).find(
      (e) => e.windowStart === w.windowStart && e.windowEnd === windowEnd,
    );
    const evaluation: Evaluation = stored
      ? { ...stored, performance }
      : {
          evaluationId: evaluationIdOf(w.modelId, w.window.name, w.windowStart),
          modelId: w.modelId,
          modelVersion: null,
          windowName: w.window.name,
          windowStart: w.windowStart,
          windowEnd,
          sampleSize: summary.predictions,
          referenceId: m.referenceId ?? '',
          evaluatedAt: now,
          datasetDrift: { share: 0, drift: false },
          features: {},
          proxy,
          performance,
          alertable: false,
        };

    const alerts: DriftAlert[] = [];
    const alertable = performanceAlertable(summary.labelled, m.config.performance) && m.referencePerformance !== undefined;
    const conditions = performanceConditions(summary.metrics, m.referencePerformance, m.config.performance, summary.labelled);
    let tracker: AlertTracker | undefined;
    if (conditions.length > 0) {
      const key = performanceTrackerKey(w.window.name);
      tracker = AlertTracker.fromJSON(w.modelId, w.window.name, { resolveAfter: m.config.resolveAfter }, await deps.alertState.loadTracker(w.modelId, key));
      const produced = tracker.update({ ...evaluation, sampleSize: summary.labelled, alertable }, conditions, now);
      for (const a of produced) if (await deps.alertState.claimAlert(a)) alerts.push(a);
    }

    // A window whose drift evaluation already carries this very performance (no label since) is not published again.
    const changed = !stored || JSON.stringify(stored.performance) !== JSON.stringify(performance);
    if (alerts.length > 0) await deps.sink.publishAlerts(alerts);
    if (changed) await deps.sink.publishEvaluations([evaluation]);
    if (tracker) await deps.alertState.saveTracker(w.modelId, performanceTrackerKey(w.window.name), tracker.toJSON());
    if (stored && changed) await deps.results.saveEvaluations([evaluation]);
    if (alerts.length > 0) await deps.results.saveAlerts(alerts);

    for (const a of alerts) {
      deps.metrics.alerts.inc({ model: deps.metrics.modelLabel(a.modelId), kind: a.kind, severity: a.severity });
      deps.logger.info({ alertId: a.alertId, modelId: a.modelId, statistic: a.statistic, value: a.value, severity: a.severity, status: a.status, window: a.windowName }, 'performance alert');
    }
    // Gauges follow the newest window; an older one re-evaluated as labels arrive does not move them back.
    if (deps.metrics.modelLabel(w.modelId) !== w.modelId) return; // beyond the per-model series limit
    const gaugeKey = `${w.modelId}\n${w.window.name}`;
    if ((this.gaugeWindow.get(gaugeKey) ?? -Infinity) > w.windowStart) return;
    this.gaugeWindow.set(gaugeKey, w.windowStart);
    const labels = { model: w.modelId, window: w.window.name };
    deps.metrics.labelCoverage.set(labels, performance.coverage);
    for (const [metric, v] of Object.entries(performance.metrics)) {
      if (v !== null && Number.isFinite(v)) deps.metrics.performanceMetric.set({ ...labels, metric }, v);
    }
  }
}

function uniquePanes(panes: readonly PaneRef[]): PaneRef[] {
  const seen = new Map<string, PaneRef>();
  for (const p of panes) seen.set(`${p.modelId}\n${p.paneMs}\n${p.paneStart}`, p);
  return [...seen.values()];
}
