import type { Evaluation } from '../core/drift/types.js';
import { packEvaluation, unpackEvaluation, type PackedEvaluation } from '../core/drift/packed-evaluation.js';
import type { ModelCatalog } from './model-catalog.js';
import type { ModelStatus, ModelLiveStatus as ReportedLiveStatus } from '../ports/detector-state-reader.js';

/** Status of a model as the detector sees it: the one the API reports. */
export type ModelStatusName = ModelStatus;

/** What the running detector knows about a model right now: the reported status and the facts behind it. */
export interface ModelLiveStatus extends ReportedLiveStatus {
  referenceId?: string;
  eventsConsumed: number;
  lateEvents: number;
  /** Highest event time seen, epoch ms. */
  lastEventTime?: number;
  bootstrap?: { collected: number; target: number };
  /** Open incidents per window. */
  firing: Record<string, number>;
}

/** Process-wide counters of the detector (also exported as Prometheus metrics). */
export interface DetectorCounters {
  consumed: number;
  deadLettered: number;
  late: number;
  evaluations: number;
  alerts: number;
}

interface ModelCounters {
  consumed: number;
  late: number;
  lastEventTime: number;
  firing: Map<string, number>;
  /** Latest evaluation per window, packed (at 1,000 models the objects alone would be ~100 MB). */
  latest: Map<string, { windowEnd: number; packed: PackedEvaluation }>;
}

/**
 * The detector's read model for the HTTP service: per model its status
 * (`warming_up` until it has a reference, `drifting` while an incident is
 * open, `ok` otherwise), counts and latest evaluation per window. Updated by
 * the stream, read by `GET /api/v1/models/...`.
 */
export class DetectorState {
  private readonly models = new Map<string, ModelCounters>();
  readonly counters: DetectorCounters = { consumed: 0, deadLettered: 0, late: 0, evaluations: 0, alerts: 0 };

  constructor(private readonly catalog: ModelCatalog) {}

  private of(modelId: string): ModelCounters {
    let m = this.models.get(modelId);
    if (!m) {
      m = { consumed: 0, late: 0, lastEventTime: -Infinity, firing: new Map(), latest: new Map() };
      this.models.set(modelId, m);
    }
    return m;
  }

  /** Counts a batch of a model's events (called once per batch, not per event). */
  recordConsumed(modelId: string, events: number, late: number, lastEventTime: number): void {
    const m = this.of(modelId);
    m.consumed += events;
    m.late += late;
    if (lastEventTime > m.lastEventTime) m.lastEventTime = lastEventTime;
    this.counters.consumed += events;
    this.counters.late += late;
  }

  recordDeadLetters(n: number): void {
    this.counters.deadLettered += n;
  }

  /** Records an evaluation and how many incidents its window has open afterwards. */
  recordEvaluation(evaluation: Evaluation, openIncidents: number, alertsPublished: number): void {
    const m = this.of(evaluation.modelId);
    const prev = m.latest.get(evaluation.windowName);
    if (!prev || prev.windowEnd <= evaluation.windowEnd) {
      m.latest.set(evaluation.windowName, { windowEnd: evaluation.windowEnd, packed: packEvaluation(evaluation) });
      m.firing.set(evaluation.windowName, openIncidents);
    }
    this.counters.evaluations++;
    this.counters.alerts += alertsPublished;
  }

  /** Status of a model, or undefined when the detector does not know it. */
  modelStatus(modelId: string): ModelLiveStatus | undefined {
    const rt = this.catalog.get(modelId);
    if (!rt) return undefined;
    const m = this.of(modelId);
    const firing = Object.fromEntries(m.firing);
    const base = {
      eventsConsumed: m.consumed,
      lateEvents: m.late,
      ...(Number.isFinite(m.lastEventTime) ? { lastEventTime: m.lastEventTime } : {}),
      firing,
    };
    if (!rt.layout) {
      const collected = rt.bootstrap?.size ?? 0;
      const target = rt.config.reference.bootstrapEvents;
      return { status: 'warming_up', reason: `bootstrapping reference: ${collected}/${target} events`, bootstrap: { collected, target }, ...base };
    }
    const open = Object.values(firing).reduce((a, b) => a + b, 0);
    return {
      status: open > 0 ? 'drifting' : 'ok',
      ...(open > 0 ? { reason: `${open} open alert incident(s)` } : {}),
      referenceId: rt.layout.referenceId,
      ...base,
    };
  }

  /** Latest evaluation of each window of a model (fresh copies). */
  latestEvaluations(modelId: string): Evaluation[] {
    return [...(this.models.get(modelId)?.latest.values() ?? [])].map((l) => unpackEvaluation(l.packed));
  }

  /** The entry of the window's latest evaluation: replaced, never changed, when a newer one is recorded. */
  latestEvaluationVersion(modelId: string, windowName: string): object | undefined {
    return this.models.get(modelId)?.latest.get(windowName);
  }

  /** Ids of every model the detector runs. */
  modelIds(): string[] {
    return [...this.catalog.all()].map(([id]) => id).sort();
  }
}
