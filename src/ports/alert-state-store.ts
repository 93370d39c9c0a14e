import type { DriftAlert } from '../core/events.js';

/**
 * Alert state that must survive restarts and be shared by evaluators:
 * hysteresis per (model, window) and the record of what was published.
 */
export interface AlertStateStore {
  loadTracker(modelId: string, windowName: string): Promise<unknown | undefined>;
  saveTracker(modelId: string, windowName: string, state: unknown): Promise<void>;
  /** True the first time a given (alertId, status, severity) is claimed; false ever after. */
  claimAlert(alert: DriftAlert): Promise<boolean>;
}
