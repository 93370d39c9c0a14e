import type { DriftAlert } from '../core/events.js';
import type { Evaluation } from '../core/drift/types.js';

/** Where alerts and evaluation records leave the detector (the Kafka topics in production). */
export interface AlertSink {
  publishAlerts(alerts: readonly DriftAlert[]): Promise<void>;
  publishEvaluations(evaluations: readonly Evaluation[]): Promise<void>;
}
