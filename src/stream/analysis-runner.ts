import type { Logger } from 'pino';
import type { AnalysisEventSource } from '../ports/analysis-event-source.js';
import type { AnalysisRepository } from '../ports/analysis-repository.js';
import type { ModelRepository } from '../ports/model-repository.js';
import { runAnalysis, type RunOutcome } from './analysis-run.js';

export interface AnalysisRunnerOptions {
  analyses: AnalysisRepository;
  models: ModelRepository;
  source: AnalysisEventSource;
  logger: Logger;
  /** Analyses run at once in this process. */
  concurrency: number;
  /** Windows per step (progress, cancellation and resumption happen between steps). */
  chunkWindows: number;
  /** How often queued analyses are looked for when nothing wakes the runner (another process may have queued them). */
  pollMs?: number;
  now?: () => number;
  /** Takes only this analysis, and leaves analyses running elsewhere alone (`driftstream analyze`). */
  only?: string;
  /** Told when a run ends (tests, logs). */
  onOutcome?: (analysisId: string, outcome: RunOutcome) => void;
}

/**
 * Runs queued analyses, at most `concurrency` at once: on start it puts
 * analyses left running by a previous process back in the queue, then takes
 * queued ones as slots free up (woken by {@link wake} or a poll). `stop`
 * lets each run finish its current step and leaves it running, to resume
 * from its stored progress on the next start.
 */
export class AnalysisRunner {
  private readonly running = new Map<string, Promise<void>>();
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private filling: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: AnalysisRunnerOptions) {
    this.now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    const requeued = this.options.only === undefined ? await this.options.analyses.requeueRunning(this.now()) : 0;
    if (requeued > 0) this.options.logger.info({ requeued }, 'analyses interrupted by a restart queued again');
    this.timer = setInterval(() => this.wake(), this.options.pollMs ?? 5000);
    this.timer.unref();
    this.wake();
  }

  /** Looks for queued analyses now (after a POST). */
  wake(): void {
    if (this.stopping || this.filling) return;
    this.filling = this.fill()
      .catch((err) => this.options.logger.warn({ err: (err as Error).message }, 'could not take a queued analysis'))
      .finally(() => (this.filling = undefined));
  }

  /** Analyses running in this process now. */
  active(): string[] {
    return [...this.running.keys()];
  }

  private async fill(): Promise<void> {
    while (!this.stopping && this.running.size < this.options.concurrency) {
      const a = await this.options.analyses.claimNext(this.now(), this.options.only);
      if (!a) return;
      const run = runAnalysis(a, { ...this.options, now: this.now, stopping: () => this.stopping })
        .then((outcome) => this.options.onOutcome?.(a.analysisId, outcome))
        .catch((err) => this.options.logger.error({ err, analysisId: a.analysisId }, 'analysis run crashed'))
        .finally(() => {
          this.running.delete(a.analysisId);
          this.wake();
        });
      this.running.set(a.analysisId, run);
    }
  }

  /** Stops taking analyses and waits for the running ones to reach the end of their step. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.filling;
    await Promise.all(this.running.values());
  }
}
