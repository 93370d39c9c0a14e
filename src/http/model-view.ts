import { formatDuration } from '../core/duration.js';
import { DEFAULT_WINDOWS as CORE_DEFAULT_WINDOWS } from '../core/model/index.js';
import type { Evaluation, FeatureResult } from '../core/drift/types.js';
import type { ModelConfigJson, ModelRepository, ReferenceSummary, StoredReference } from '../ports/model-repository.js';
import type { ResultRepository } from '../ports/result-repository.js';
import type { DetectorStateReader, ModelLiveStatus, ModelStatus } from '../ports/detector-state-reader.js';
import { httpError } from './errors.js';

export interface WindowSpec {
  name: string;
  size: string;
  slide?: string;
}

/** Windows a model gets when its configuration names none (the detector's defaults). */
export const DEFAULT_WINDOWS: readonly WindowSpec[] = Object.freeze(
  CORE_DEFAULT_WINDOWS.map((w) => (w.slideMs === w.sizeMs ? { name: w.name, size: formatDuration(w.sizeMs) } : { name: w.name, size: formatDuration(w.sizeMs), slide: formatDuration(w.slideMs) })),
);

export function windowsOf(config: ModelConfigJson): WindowSpec[] {
  const w = config.windows;
  if (Array.isArray(w) && w.length > 0) {
    return w
      .filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null && typeof (x as { name?: unknown }).name === 'string')
      .map((x) => ({ name: String(x.name), size: String(x.size ?? x.name), ...(x.slide !== undefined ? { slide: String(x.slide) } : {}) }));
  }
  return DEFAULT_WINDOWS.map((x) => ({ ...x }));
}

export function featuresOf(config: ModelConfigJson): Record<string, string> {
  const f = config.features;
  if (f && typeof f === 'object' && !Array.isArray(f)) {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(f as Record<string, unknown>)) {
      out[k] = typeof v === 'string' ? v : typeof v === 'object' && v && typeof (v as { type?: unknown }).type === 'string' ? String((v as { type: string }).type) : 'numeric';
    }
    return out;
  }
  return {};
}

export async function requireModel(models: ModelRepository, modelId: string): Promise<ModelConfigJson> {
  const m = await models.getModel(modelId);
  if (!m) throw httpError('MODEL_NOT_FOUND', `model ${modelId} is not registered`);
  return m;
}

/** The window a request names, or the model's first window when it names none. */
export function resolveWindow(config: ModelConfigJson, name: string | undefined): WindowSpec {
  const windows = windowsOf(config);
  if (name === undefined || name === '') return windows[0];
  const w = windows.find((x) => x.name === name);
  if (!w) throw httpError('WINDOW_NOT_FOUND', `model ${config.modelId} has no window ${name}; it has ${windows.map((x) => x.name).join(', ')}`);
  return w;
}

function isDrifting(e: Evaluation): boolean {
  if (!e.alertable) return false;
  if (e.datasetDrift.drift) return true;
  const anyDrift = (r: Record<string, FeatureResult> | undefined) => Object.values(r ?? {}).some((f) => f.drift);
  return anyDrift(e.features) || anyDrift(e.prediction);
}

/**
 * The latest reference of a model as model answers show it: from the
 * repository's summary when it has one (the profile, possibly megabytes,
 * stays in the store), else from the whole reference.
 */
export async function latestReferenceSummary(models: ModelRepository, modelId: string): Promise<ReferenceSummary | null> {
  if (models.latestReferenceSummary) return (await models.latestReferenceSummary(modelId)) ?? null;
  return referenceSummary(await models.latestReference(modelId));
}

export function referenceSummary(ref: StoredReference | undefined): ReferenceSummary | null {
  if (!ref) return null;
  const p = ref.profile as { rows?: unknown } | null;
  return {
    referenceId: ref.referenceId,
    version: ref.version,
    createdAt: ref.createdAt,
    rows: p && typeof p === 'object' && typeof p.rows === 'number' ? p.rows : null,
  };
}

export interface WindowLatest {
  name: string;
  size: string;
  slide?: string;
  latest: {
    windowStart: number;
    windowEnd: number;
    sampleSize: number;
    evaluatedAt: number;
    datasetDrift: { share: number; drift: boolean };
    alertable: boolean;
    driftingFeatures: string[];
  } | null;
}

export interface ModelView {
  modelId: string;
  status: ModelStatus;
  statusReason?: string;
  detector?: Record<string, unknown>;
  features: Record<string, string>;
  prediction: string | null;
  reference: ReferenceSummary | null;
  windows: WindowLatest[];
  config: ModelConfigJson;
}

/**
 * The model as the API shows it: configuration, reference, windows with their
 * latest evaluation, and a status — the detector's live one when it runs in
 * this process, otherwise derived from what is stored.
 */
export async function modelView(
  config: ModelConfigJson,
  deps: { models: ModelRepository; results: ResultRepository; state?: DetectorStateReader },
): Promise<ModelView> {
  const [ref, live] = await Promise.all([latestReferenceSummary(deps.models, config.modelId), deps.state?.modelStatus(config.modelId)]);
  const windows = await Promise.all(
    windowsOf(config).map(async (w): Promise<WindowLatest & { evaluation?: Evaluation }> => {
      const e = await latestEvaluation(deps, config.modelId, w.name);
      return {
        ...w,
        evaluation: e,
        latest: e
          ? {
              windowStart: e.windowStart,
              windowEnd: e.windowEnd,
              sampleSize: e.sampleSize,
              evaluatedAt: e.evaluatedAt,
              datasetDrift: e.datasetDrift,
              alertable: e.alertable,
              driftingFeatures: Object.entries(e.features).filter(([, f]) => f.drift).map(([k]) => k),
            }
          : null,
      };
    }),
  );
  const derived = deriveStatus(ref, windows.map((w) => w.evaluation));
  const status: ModelLiveStatus = live ?? derived;
  const { status: s, reason, ...detector } = status;
  return {
    modelId: config.modelId,
    status: s,
    ...(reason ? { statusReason: reason } : {}),
    ...(live && Object.keys(detector).length ? { detector } : {}),
    features: featuresOf(config),
    prediction: typeof config.prediction === 'string' ? config.prediction : null,
    reference: ref,
    windows: windows.map(({ evaluation: _e, ...w }) => w),
    config,
  };
}

/**
 * The latest evaluation of a window: the running detector's in-memory one
 * when it has it (it is what was just written), else the repository's.
 */
export async function latestEvaluation(
  deps: { results: ResultRepository; state?: DetectorStateReader },
  modelId: string,
  windowName: string,
): Promise<Evaluation | undefined> {
  const live = deps.state?.latestEvaluations?.(modelId).find((e) => e.windowName === windowName);
  return live ?? deps.results.latestEvaluation(modelId, windowName);
}

export function deriveStatus(ref: ReferenceSummary | StoredReference | null | undefined, latest: (Evaluation | undefined)[]): ModelLiveStatus {
  if (!ref) return { status: 'warming_up', reason: 'no reference profile yet' };
  const evaluated = latest.filter((e): e is Evaluation => e !== undefined);
  if (evaluated.length === 0) return { status: 'warming_up', reason: 'no window evaluated yet' };
  const drifting = evaluated.filter(isDrifting);
  if (drifting.length) return { status: 'drifting', reason: `drift in window ${drifting.map((e) => e.windowName).join(', ')}` };
  return { status: 'ok' };
}
