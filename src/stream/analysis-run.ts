import type { Logger } from 'pino';
import { summarize, windowCount, windowStartOf, type Analysis, type AnalysisProgress, type AnalysisWindow } from '../core/analysis/analysis.js';
import { parseUploadEvents } from '../core/analysis/upload-events.js';
import { evaluateWindow } from '../core/drift/evaluate-window.js';
import { formatDuration } from '../core/duration.js';
import type { InferenceEvent } from '../core/events.js';
import { parseModelConfig, type ModelConfig } from '../core/model/model-config.js';
import { parseProfile } from '../core/profile/reference-profile.js';
import { createPaneLayout, type PaneLayout } from '../core/windows/pane-layout.js';
import { Pane } from '../core/windows/pane.js';
import { isRetriable, ValidationError } from '../errors.js';
import type { AnalysisEventSource } from '../ports/analysis-event-source.js';
import type { AnalysisRepository } from '../ports/analysis-repository.js';
import type { ModelRepository } from '../ports/model-repository.js';

/** What running one analysis needs. */
export interface AnalysisRunDeps {
  analyses: AnalysisRepository;
  models: ModelRepository;
  source: AnalysisEventSource;
  logger: Logger;
  now: () => number;
  /** Windows read and stored per step: the grain of progress, cancellation and resumption. */
  chunkWindows: number;
  /** True once the runner is stopping: the run leaves the analysis running, to resume after the restart. */
  stopping: () => boolean;
}

/** How a run ended. */
export type RunOutcome = 'completed' | 'failed' | 'cancelled' | 'interrupted';

interface RunContext {
  readonly analysis: Analysis;
  readonly model: ModelConfig;
  readonly layout: PaneLayout;
  readonly windowName: string;
  readonly from: number;
  readonly to: number;
  /** Upload events, sorted by time (absent for a topic range). */
  readonly upload?: readonly InferenceEvent[];
}

async function contextOf(a: Analysis, deps: AnalysisRunDeps): Promise<RunContext> {
  const json = await deps.models.getModel(a.modelId);
  if (!json) throw new ValidationError(`model ${a.modelId} is not registered`);
  const model = parseModelConfig(json);
  const stored = a.request.referenceId ? await deps.models.getReference(a.request.referenceId) : await deps.models.latestReference(a.modelId);
  if (!stored || stored.modelId !== a.modelId) throw new ValidationError(`model ${a.modelId} has no reference ${a.request.referenceId ?? '(none stored)'}`);
  const layout = createPaneLayout(model, stored.referenceId, parseProfile(stored.profile));
  const windowName = formatDuration(a.request.windowMs);
  const src = a.request.source;
  if (src.kind === 'topic') return { analysis: a, model, layout, windowName, from: src.from, to: src.to };
  const bytes = await deps.analyses.upload(a.analysisId);
  if (!bytes) throw new ValidationError(`analysis ${a.analysisId} has lost its upload`);
  const events = parseUploadEvents(bytes, a.modelId).events.sort((x, y) => x.timestamp - y.timestamp);
  if (events.length === 0) throw new ValidationError('the upload holds no events of the model');
  return { analysis: a, model, layout, windowName, from: events[0].timestamp, to: events[events.length - 1].timestamp + 1, upload: events };
}

/** Counts events into the panes of the windows in [cs, ce); others are skipped. */
function accept(panes: Map<number, Pane>, ctx: RunContext, events: readonly InferenceEvent[], cs: number, ce: number): { accepted: number; skipped: number } {
  const w = ctx.analysis.request.windowMs;
  let accepted = 0;
  let skipped = 0;
  for (const e of events) {
    if (e.timestamp < cs || e.timestamp >= ce) {
      skipped++;
      continue;
    }
    const start = windowStartOf(e.timestamp, w);
    let pane = panes.get(start);
    if (!pane) panes.set(start, (pane = new Pane(ctx.layout, start, start + w)));
    if (pane.typeMismatch(e.features)) pane.countTypeError();
    else pane.accept(e.features, e.score, e.prediction, e.modelVersion);
    accepted++;
  }
  return { accepted, skipped };
}

/** The events of one step: a topic range read by record time, or the upload's slice. */
async function* stepEvents(ctx: RunContext, deps: AnalysisRunDeps, cs: number, ce: number, stats: { skipped: number }): AsyncGenerator<readonly InferenceEvent[]> {
  const src = ctx.analysis.request.source;
  if (src.kind === 'topic') {
    yield* deps.source.topicRange(src.topic, Math.max(cs, ctx.from), Math.min(ce, ctx.to), ctx.analysis.modelId, stats);
    return;
  }
  yield ctx.upload!.filter((e) => e.timestamp >= cs && e.timestamp < ce);
}

function evaluated(ctx: RunContext, panes: Map<number, Pane>, now: number): AnalysisWindow[] {
  return [...panes.values()]
    .sort((a, b) => a.paneStart - b.paneStart)
    .map((pane) => {
      const evaluation = evaluateWindow({ model: ctx.model, pane, windowName: ctx.windowName, windowStart: pane.paneStart, windowEnd: pane.paneEnd, evaluatedAt: now });
      return { windowStart: pane.paneStart, windowEnd: pane.paneEnd, drift: evaluation.alertable && (evaluation.datasetDrift.drift || Object.values(evaluation.features).some((f) => f.drift)), evaluation };
    });
}

/** Reads, evaluates and stores one step of windows; false when the analysis was cancelled meanwhile. */
async function runStep(ctx: RunContext, deps: AnalysisRunDeps, cs: number, ce: number, progress: AnalysisProgress): Promise<AnalysisProgress | undefined> {
  const panes = new Map<number, Pane>();
  const stats = { skipped: 0 };
  let events = 0;
  let skipped = 0;
  for await (const batch of stepEvents(ctx, deps, cs, ce, stats)) {
    const r = accept(panes, ctx, batch, cs, ce);
    events += r.accepted;
    skipped += r.skipped;
  }
  const windows = evaluated(ctx, panes, deps.now());
  const total = windowCount(ctx.from, ctx.to, ctx.analysis.request.windowMs);
  const done = Math.min(total, windowCount(ctx.from, Math.min(ce, ctx.to), ctx.analysis.request.windowMs));
  const next: AnalysisProgress = {
    resumeFrom: ce,
    events: progress.events + events,
    windows: progress.windows + windows.length,
    skipped: progress.skipped + skipped + stats.skipped,
    fraction: total === 0 ? 1 : done / total,
  };
  return (await deps.analyses.saveWindows(ctx.analysis.analysisId, windows, next, deps.now())) ? next : undefined;
}

/** Runs the analysis's steps from its stored progress to the end; throws what a step throws. */
async function runSteps(a: Analysis, deps: AnalysisRunDeps): Promise<RunOutcome> {
  const ctx = await contextOf(a, deps);
  const step = deps.chunkWindows * a.request.windowMs;
  let progress = a.progress;
  for (let cs = progress.resumeFrom ?? windowStartOf(ctx.from, a.request.windowMs); cs < ctx.to; cs += step) {
    if (deps.stopping()) return 'interrupted';
    const next = await runStep(ctx, deps, cs, cs + step, progress);
    if (!next) {
      // Cancelled meanwhile: the windows of this step were not stored.
      await deps.analyses.finish(a.analysisId, 'cancelled', deps.now(), {});
      return 'cancelled';
    }
    progress = next;
  }
  const windows = await deps.analyses.windows(a.analysisId, { limit: 100_000 });
  return (await deps.analyses.finish(a.analysisId, 'completed', deps.now(), { summary: summarize(windows, ctx.layout.referenceId) })) ? 'completed' : 'cancelled';
}

/** Longest wait between two attempts of an analysis whose dependency is down. */
const MAX_RETRY_DELAY_MS = 5000;

/**
 * Runs one claimed analysis step by step from where it stands (its
 * `resumeFrom`), each step a run of `chunkWindows` windows read, evaluated by
 * the detector's rule and stored with the progress after it; then stores the
 * summary. Stops early when cancelled (between steps) or when the runner
 * stops (the analysis stays running and resumes after the restart). A
 * dependency that is down (a retriable error) is waited out with backoff,
 * resuming from the stored progress; any other error fails the analysis
 * with its message.
 */
export async function runAnalysis(a: Analysis, deps: AnalysisRunDeps): Promise<RunOutcome> {
  let current = a;
  let delay = 500;
  for (;;) {
    try {
      return await runSteps(current, deps);
    } catch (err) {
      if (deps.stopping()) return 'interrupted';
      if (!isRetriable(err)) {
        deps.logger.warn({ err: (err as Error).message, analysisId: a.analysisId }, 'analysis failed');
        await deps.analyses.finish(a.analysisId, 'failed', deps.now(), { error: (err as Error).message });
        return 'failed';
      }
      deps.logger.warn({ err: (err as Error).message, analysisId: a.analysisId, retryInMs: delay }, 'analysis waiting for a dependency');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(MAX_RETRY_DELAY_MS, delay * 2);
      current = (await deps.analyses.get(a.analysisId).catch(() => undefined)) ?? current;
      if (current.state !== 'running') return 'cancelled';
    }
  }
}
