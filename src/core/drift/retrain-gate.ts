import type { DriftAlert } from '../events.js';
import type { ModelConfig } from '../model/model-config.js';
import type { RetrainConfig } from '../model/retrain-config.js';
import type { ReferencePerformance } from '../performance/reference-performance.js';
import { byImportance } from '../model/feature-importance.js';
import { alertIdOf } from './ids.js';
import { degradation } from './performance-alerts.js';
import type { Evaluation } from './types.js';

/** The kind of the retraining signal's record on the alerts topic. */
export const RETRAIN_KIND = 'RETRAIN_RECOMMENDED';

/** What a retrain gate remembers between evaluations (JSON; kept in the AlertStateStore). */
export interface RetrainGateState {
  /** Start of the first window of the current unbroken run of holding evaluations (null: not holding). */
  since: number | null;
  /** Whether this incident has signalled already. */
  signalled: boolean;
  /** Evaluations in a row without the gates holding, once signalled. */
  clean: number;
  /** End of the last window seen: a window seen again (a replay) changes nothing. */
  lastEnd: number;
}

/** One gate's reading on an evaluation. */
interface GateReading {
  readonly name: 'weightedDriftShare' | 'performance';
  readonly holds: boolean;
  readonly value: number;
  readonly threshold: number;
  readonly details: Record<string, string>;
}

export function initialRetrainState(): RetrainGateState {
  return { since: null, signalled: false, clean: 0, lastEnd: -Infinity };
}

/** A stored state, or the initial one when it is absent or not a state. */
export function retrainStateOf(raw: unknown): RetrainGateState {
  const s = raw as Partial<RetrainGateState> | undefined;
  if (!s || typeof s !== 'object' || typeof s.signalled !== 'boolean' || typeof s.clean !== 'number') return initialRetrainState();
  return { since: typeof s.since === 'number' ? s.since : null, signalled: s.signalled, clean: s.clean, lastEnd: typeof s.lastEnd === 'number' ? s.lastEnd : -Infinity };
}

function driftGate(e: Evaluation, threshold: number, model: ModelConfig): GateReading {
  const value = e.datasetDrift.weightedShare ?? e.datasetDrift.share;
  const drifting = byImportance(Object.keys(e.features).filter((n) => e.features[n].drift), model.importance);
  return {
    name: 'weightedDriftShare',
    holds: e.alertable && value >= threshold,
    value,
    threshold,
    details: { weightedShare: String(value), share: String(e.datasetDrift.share), driftingFeatures: drifting.join(',') },
  };
}

function performanceGate(e: Evaluation, gate: NonNullable<RetrainConfig['performance']>, reference: ReferencePerformance | undefined): GateReading {
  const cur = e.performance?.metrics[gate.metric];
  const ref = reference?.metrics[gate.metric];
  const labelled = e.performance?.labelled ?? 0;
  const known = typeof cur === 'number' && typeof ref === 'number' && labelled >= gate.minLabelled;
  const value = known ? degradation(gate.metric, cur, ref) : 0;
  return {
    name: 'performance',
    holds: known && value >= gate.degradation,
    value: Number.isFinite(value) ? value : Number.MAX_VALUE,
    threshold: gate.degradation,
    details: { metric: gate.metric, current: String(cur ?? null), reference: String(ref ?? null), labelled: String(labelled), minLabelled: String(gate.minLabelled) },
  };
}

function readGates(e: Evaluation, model: ModelConfig, reference: ReferencePerformance | undefined): GateReading[] {
  const c = model.retrain!;
  const out: GateReading[] = [];
  if (c.weightedDriftShare !== undefined) out.push(driftGate(e, c.weightedDriftShare, model));
  if (c.performance) out.push(performanceGate(e, c.performance, reference));
  return out;
}

/** The RETRAIN_RECOMMENDED record of an incident, with every gate's evidence in its details. */
function retrainRecord(e: Evaluation, model: ModelConfig, since: number, gates: readonly GateReading[], now: number): DriftAlert {
  const c = model.retrain!;
  const lead = gates.find((g) => g.holds) ?? gates[0];
  const details: Record<string, string> = { gates: gates.filter((g) => g.holds).map((g) => g.name).join(','), require: c.require, heldSince: String(since), heldForMs: String(e.windowEnd - since), sustainForMs: String(c.sustainMs) };
  for (const g of gates) {
    details[`${g.name}.value`] = String(g.value);
    details[`${g.name}.threshold`] = String(g.threshold);
    for (const [k, v] of Object.entries(g.details)) details[`${g.name}.${k}`] = v;
  }
  return {
    alertId: alertIdOf(model.modelId, e.windowName, RETRAIN_KIND, null, 'retrain', since),
    modelId: model.modelId,
    modelVersion: e.modelVersion,
    kind: RETRAIN_KIND,
    feature: null,
    statistic: lead.name,
    value: lead.value,
    threshold: lead.threshold,
    severity: 'WARNING',
    status: 'FIRING',
    windowName: e.windowName,
    windowStart: since,
    windowEnd: e.windowEnd,
    sampleSize: e.sampleSize,
    referenceId: e.referenceId,
    detectedAt: now,
    details,
  };
}

/**
 * Advances a model's retrain gate by one evaluation of its retrain window
 * (pure: returns the next state). When the gates (one or all, as the model
 * requires) have held on every evaluation for `sustainFor` of event time,
 * returns the RETRAIN_RECOMMENDED record of the incident, once: its id is the
 * incident's (model, window, start of the run), so a replay yields the same
 * record and the AlertStateStore's claim keeps it unique. The incident ends
 * after `clearAfter` evaluations without the gates holding.
 */
export function advanceRetrainGate(
  state: RetrainGateState,
  e: Evaluation,
  model: ModelConfig,
  reference: ReferencePerformance | undefined,
  now: number,
): { state: RetrainGateState; record?: DriftAlert } {
  const c = model.retrain;
  if (!c || e.windowEnd <= state.lastEnd) return { state };
  const gates = readGates(e, model, reference);
  const holds = c.require === 'all' ? gates.every((g) => g.holds) : gates.some((g) => g.holds);
  const next: RetrainGateState = { ...state, lastEnd: e.windowEnd };
  if (!holds) {
    if (!state.signalled) return { state: { ...next, since: null, clean: 0 } };
    const clean = state.clean + 1;
    return { state: clean >= c.clearAfter ? { ...next, since: null, signalled: false, clean: 0 } : { ...next, clean } };
  }
  const since = state.since ?? e.windowStart;
  if (state.signalled || e.windowEnd - since < c.sustainMs) return { state: { ...next, since, clean: 0 } };
  return { state: { ...next, since, clean: 0, signalled: true }, record: retrainRecord(e, model, since, gates, now) };
}
