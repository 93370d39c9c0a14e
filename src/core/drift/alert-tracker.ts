import type { AlertKind, AlertSeverity, DriftAlert } from '../events.js';
import type { Evaluation } from './types.js';
import type { AlertCondition, Measure } from './alert-conditions.js';
import { alertIdOf } from './ids.js';
import type { SequentialState } from './sequential.js';

/** An open incident: a condition that fired and has not resolved yet. */
export interface Incident {
  readonly alertId: string;
  readonly kind: AlertKind;
  readonly feature: string | null;
  /** The statistic the incident is named after, fixed when it first fired. */
  readonly statistic: string;
  /** Highest severity published so far (an incident escalates, never de-escalates). */
  severity: AlertSeverity;
  /** Start of the window where the incident first fired. */
  readonly firstWindowStart: number;
  /** Consecutive clean evaluations since it last was in alarm. */
  clean: number;
}

/** Serialized {@link AlertTracker}. */
export interface AlertTrackerState {
  v: 1;
  /** End of the latest window evaluated; older windows are ignored. */
  lastWindowEnd: number | null;
  incidents: Record<string, Incident>;
  /** Derived-window state of the window's trend statistics (sequential mode, src/core/drift/sequential.ts). */
  sequential?: Record<string, SequentialState>;
}

export interface AlertTrackerOptions {
  /** Clean evaluations before an incident resolves. */
  resolveAfter: number;
}

/**
 * Hysteresis and de-duplication of the alerts of one (model, window).
 *
 * A condition that crosses into WARNING or CRITICAL opens an incident and
 * yields a FIRING record; while it stays in alarm nothing more is published,
 * except one FIRING CRITICAL record when a WARNING incident escalates (same
 * alertId). After `resolveAfter` consecutive clean evaluations the incident
 * yields a RESOLVED record and closes. The alertId is a hash of model, window,
 * kind, feature, statistic and the start of the window where it first fired,
 * so replaying the same events yields the same ids.
 *
 * Windows with too few samples (`alertable: false`) change nothing. A window
 * older than the latest one evaluated is ignored (a replay); the latest one
 * evaluated again (a late partial) may fire or escalate but does not count as
 * a clean evaluation twice. The state round-trips through JSON.
 */
export class AlertTracker {
  private state: AlertTrackerState;

  constructor(
    readonly modelId: string,
    readonly windowName: string,
    private readonly options: AlertTrackerOptions,
    state?: AlertTrackerState,
  ) {
    this.state = state ? structuredClone(state) : { v: 1, lastWindowEnd: null, incidents: {} };
  }

  /** Open incidents, keyed by condition key. */
  get incidents(): Readonly<Record<string, Readonly<Incident>>> {
    return this.state.incidents;
  }

  /**
   * The sequential (derived-window) state to evaluate the window ending at
   * `windowEnd` with, kept in this tracker's state. The latest window
   * evaluated again (a late partial) gets a copy without that window's own
   * entry (the last of each statistic's list), so its evidence is never
   * counted twice and the copy is dropped afterwards. An older window (a
   * replay from an earlier offset) starts empty: the state holds the evidence
   * of the windows after it, which must not be read as the evidence before it.
   */
  sequentialFor(windowEnd: number): Record<string, SequentialState> {
    const state = (this.state.sequential ??= {});
    const last = this.state.lastWindowEnd;
    if (last === null || windowEnd > last) return state;
    if (windowEnd !== last) return {};
    const copy: Record<string, SequentialState> = {};
    for (const [key, s] of Object.entries(state)) copy[key] = { z: (s.z ?? []).slice(0, -1), n: (s.n ?? []).slice(0, -1), ...(s.e ? { e: s.e.slice(0, -1) } : {}) };
    return copy;
  }

  /** True while any incident is open. */
  get firing(): boolean {
    return Object.keys(this.state.incidents).length > 0;
  }

  /**
   * Applies one evaluation and its conditions; returns the alert records to
   * publish (FIRING, escalations, RESOLVED), in that order.
   */
  update(evaluation: Evaluation, conditions: readonly AlertCondition[], detectedAt: number): DriftAlert[] {
    if (!evaluation.alertable) return [];
    const last = this.state.lastWindowEnd;
    if (last !== null && evaluation.windowEnd < last) return [];
    const again = last !== null && evaluation.windowEnd === last;
    this.state.lastWindowEnd = evaluation.windowEnd;

    const firing: DriftAlert[] = [];
    const resolved: DriftAlert[] = [];
    const inAlarm = new Set<string>();
    const byKey = new Map<string, AlertCondition>();
    for (const c of conditions) {
      byKey.set(c.key, c);
      if (c.severity === 'NONE') continue;
      inAlarm.add(c.key);
      const severity = c.severity;
      let inc = this.state.incidents[c.key];
      if (inc === undefined) {
        const statistic = c.triggered[0] ?? Object.keys(c.measures)[0] ?? 'unknown';
        inc = {
          alertId: alertIdOf(this.modelId, this.windowName, c.kind, c.feature, statistic, evaluation.windowStart),
          kind: c.kind,
          feature: c.feature,
          statistic,
          severity,
          firstWindowStart: evaluation.windowStart,
          clean: 0,
        };
        this.state.incidents[c.key] = inc;
        firing.push(this.record(inc, c, evaluation, 'FIRING', severity, detectedAt));
        continue;
      }
      inc.clean = 0;
      if (severity === 'CRITICAL' && inc.severity === 'WARNING') {
        inc.severity = 'CRITICAL';
        firing.push(this.record(inc, c, evaluation, 'FIRING', 'CRITICAL', detectedAt));
      }
    }
    if (!again) {
      for (const [key, inc] of Object.entries(this.state.incidents)) {
        if (inAlarm.has(key)) continue;
        inc.clean++;
        if (inc.clean >= this.options.resolveAfter) {
          resolved.push(this.record(inc, byKey.get(key), evaluation, 'RESOLVED', inc.severity, detectedAt));
          delete this.state.incidents[key];
        }
      }
    }
    return [...firing, ...resolved];
  }

  private record(
    inc: Incident,
    c: AlertCondition | undefined,
    e: Evaluation,
    status: 'FIRING' | 'RESOLVED',
    severity: AlertSeverity,
    detectedAt: number,
  ): DriftAlert {
    const m: Measure | undefined = c?.measures[inc.statistic];
    const details: Record<string, string> = {
      firstWindowStart: new Date(inc.firstWindowStart).toISOString(),
      evaluationId: e.evaluationId,
      ...(m?.details ?? {}),
    };
    if (c && c.triggered.length > 0) details.triggered = c.triggered.join(',');
    if (c) details.currentSeverity = c.severity;
    return {
      alertId: inc.alertId,
      modelId: this.modelId,
      modelVersion: e.modelVersion,
      kind: inc.kind,
      feature: inc.feature,
      statistic: inc.statistic,
      value: m && Number.isFinite(m.value) ? m.value : 0,
      threshold: m ? (severity === 'CRITICAL' ? m.critical : m.warning) : 0,
      severity,
      status,
      windowName: this.windowName,
      windowStart: e.windowStart,
      windowEnd: e.windowEnd,
      sampleSize: e.sampleSize,
      referenceId: e.referenceId,
      detectedAt,
      details,
    };
  }

  toJSON(): AlertTrackerState {
    return structuredClone(this.state);
  }

  /** Restores a tracker from {@link toJSON}; an unknown or missing state starts empty. */
  static fromJSON(modelId: string, windowName: string, options: AlertTrackerOptions, state: unknown): AlertTracker {
    const s = state as AlertTrackerState | undefined;
    return new AlertTracker(modelId, windowName, options, s && s.v === 1 && typeof s.incidents === 'object' ? s : undefined);
  }
}
