import type { DriftAlert } from '../../core/events.js';
import type { AlertStateStore } from '../../ports/alert-state-store.js';

/** Alert trackers and claims in process memory: a restart forgets what was published. */
export class MemoryAlertStateStore implements AlertStateStore {
  private readonly trackers = new Map<string, string>();
  private readonly claims = new Set<string>();

  async loadTracker(modelId: string, windowName: string): Promise<unknown | undefined> {
    const raw = this.trackers.get(JSON.stringify([modelId, windowName]));
    return raw === undefined ? undefined : (JSON.parse(raw) as unknown);
  }

  async saveTracker(modelId: string, windowName: string, state: unknown): Promise<void> {
    this.trackers.set(JSON.stringify([modelId, windowName]), JSON.stringify(state));
  }

  async claimAlert(alert: DriftAlert): Promise<boolean> {
    const key = `${alert.alertId}|${alert.status}|${alert.severity}`;
    if (this.claims.has(key)) return false;
    this.claims.add(key);
    return true;
  }
}
