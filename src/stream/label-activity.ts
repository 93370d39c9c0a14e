import type { Logger } from 'pino';
import type { LabelJoin } from '../ports/label-join.js';
import type { StreamMetrics } from '../ports/metrics.js';

interface ModelActivity {
  recording: boolean;
  /** When this process first saw the model (the fallback when the join does not know the first inference). */
  firstSeen: number;
}

export interface LabelActivityOptions {
  /** How often the join is asked when each model last got a label (ms). Default min(60 s, horizon / 10). */
  refreshMs?: number;
}

/**
 * Learns which models get labels, so the label join keeps entries only for
 * them: a model that has received no label within the label horizon (since
 * its first recorded inference, or its last label) stops recording until one
 * arrives. What the join knows (first inference, last label) is shared by
 * every detector process, so a label taken by one resumes recording in all.
 * Each change is logged once and kept in `driftstream_label_join_recording`.
 * Shared by the recorders of every partition of a detector.
 */
export class LabelActivity {
  private readonly models = new Map<string, ModelActivity>();
  private readonly refreshMs: number;
  private refreshedAt = -Infinity;

  constructor(
    private readonly join: LabelJoin,
    private readonly horizonMs: number,
    private readonly metrics: StreamMetrics,
    private readonly logger: Logger,
    options: LabelActivityOptions = {},
  ) {
    this.refreshMs = options.refreshMs ?? Math.min(60_000, Math.max(1, Math.floor(horizonMs / 10)));
  }

  /** Whether inferences of `modelId` are recorded now; a model seen for the first time is. */
  isRecording(modelId: string, now: number): boolean {
    let m = this.models.get(modelId);
    if (!m) {
      this.models.set(modelId, (m = { recording: true, firstSeen: now }));
      this.metrics.labelJoinRecording.set({ model: this.metrics.modelLabel(modelId) }, 1);
    }
    return m.recording;
  }

  /** Asks the join about every known model when the last answer is older than the refresh interval. */
  async refresh(now: number): Promise<void> {
    if (now - this.refreshedAt < this.refreshMs || this.models.size === 0) return;
    this.refreshedAt = now;
    const ids = [...this.models.keys()];
    const stats = await Promise.all(ids.map((id) => this.join.stats(id)));
    ids.forEach((id, i) => this.decide(id, stats[i].firstInferenceAt ?? null, stats[i].lastLabelAt ?? null, now));
  }

  private decide(modelId: string, firstInferenceAt: number | null, lastLabelAt: number | null, now: number): void {
    const m = this.models.get(modelId)!;
    const since = lastLabelAt ?? Math.min(firstInferenceAt ?? m.firstSeen, m.firstSeen);
    const recording = now - since <= this.horizonMs;
    if (recording === m.recording) return;
    m.recording = recording;
    this.metrics.labelJoinRecording.set({ model: this.metrics.modelLabel(modelId) }, recording ? 1 : 0);
    if (recording) this.logger.info({ modelId, lastLabelAt }, 'a label arrived: inferences of the model are recorded for the label join again');
    else
      this.logger.warn(
        { modelId, horizonMs: this.horizonMs, lastLabelAt },
        'model got no label within the label horizon: its inferences are not recorded for the label join until a label arrives (driftstream_label_join_recording 0)',
      );
  }
}
