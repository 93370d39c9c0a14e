import type { ModelConfig } from '../model/model-config.js';
import type {
  CategoricalFeatureProfile,
  FeatureProfile,
  NumericFeatureProfile,
  ReferenceProfile,
} from '../profile/reference-profile.js';
import { reconstructionOf } from './reconstruction-layout.js';
import type { Reconstruction } from '../stats/reconstruction-error.js';
import type { EstimationSpec } from '../performance/estimation-summary.js';

/**
 * What a pane of one model holds, fixed by the model and its reference: the
 * numeric features (binned on the reference's edges), the categorical ones,
 * and the outputs (score, predicted class or regression value). Built once
 * per (model, reference) and shared by every pane, so accepting an event is a
 * loop over arrays.
 */
export interface PaneLayout {
  readonly modelId: string;
  readonly referenceId: string;
  readonly profile: ReferenceProfile;
  readonly numericNames: readonly string[];
  readonly numericProfiles: readonly NumericFeatureProfile[];
  readonly categoricalNames: readonly string[];
  readonly categoricalProfiles: readonly CategoricalFeatureProfile[];
  /** Reference of the score (probability of the positive class), when profiled. */
  readonly score?: NumericFeatureProfile;
  /** Reference of the prediction: categorical (class) or numeric (regression), when profiled. */
  readonly prediction?: FeatureProfile;
  readonly positiveClass: string;
  /** Scratch space of {@link gatherFeatures}: the numeric values of the event being counted (NaN = missing). */
  readonly scratchNumeric: Float64Array;
  /** Scratch space of {@link gatherFeatures}: the categorical values of the event being counted. */
  readonly scratchCategorical: unknown[];
  /** Reconstruction of the numeric features (indices into {@link numericNames}), when multivariate drift is on and the reference has one. */
  readonly reconstruction?: Reconstruction;
  /** Score calibration of the reference, when it has one and the model scores (estimated performance). */
  readonly estimation?: EstimationSpec;
}

/** Column names of the model outputs inside a reference profile. */
export const SCORE_COLUMN = 'score';
export const PREDICTION_COLUMN = 'prediction';

/**
 * The layout of a model's panes on a reference. Features the reference does
 * not profile cannot be compared and are left out; when the model declares no
 * features, every profiled column except the outputs is a feature.
 */
export function createPaneLayout(model: ModelConfig, referenceId: string, profile: ReferenceProfile): PaneLayout {
  const declared = Object.keys(model.features);
  const names = declared.length > 0 ? declared : Object.keys(profile.features).filter((n) => n !== SCORE_COLUMN && n !== PREDICTION_COLUMN);
  const numericNames: string[] = [];
  const numericProfiles: NumericFeatureProfile[] = [];
  const categoricalNames: string[] = [];
  const categoricalProfiles: CategoricalFeatureProfile[] = [];
  for (const name of names) {
    const p = profile.features[name];
    if (!p) continue;
    if (p.type === 'numeric') {
      numericNames.push(name);
      numericProfiles.push(p);
    } else {
      categoricalNames.push(name);
      categoricalProfiles.push(p);
    }
  }
  const score = profile.features[SCORE_COLUMN];
  const prediction = profile.features[PREDICTION_COLUMN];
  return Object.freeze({
    modelId: model.modelId,
    referenceId,
    profile,
    numericNames,
    numericProfiles,
    categoricalNames,
    categoricalProfiles,
    score: score?.type === 'numeric' ? score : undefined,
    prediction,
    positiveClass: model.positiveClass,
    scratchNumeric: new Float64Array(numericNames.length),
    scratchCategorical: new Array<unknown>(categoricalNames.length).fill(null),
    reconstruction: model.multivariate.enabled ? reconstructionOf(profile.multivariate, numericNames) : undefined,
    estimation: profile.estimation && model.prediction !== 'regression' ? { profile: profile.estimation, kind: model.prediction } : undefined,
  });
}

/** Names and types of the features a layout compares. */
export function layoutFeatureTypes(layout: PaneLayout): Record<string, 'numeric' | 'categorical'> {
  const out: Record<string, 'numeric' | 'categorical'> = {};
  for (const n of layout.numericNames) out[n] = 'numeric';
  for (const n of layout.categoricalNames) out[n] = 'categorical';
  return out;
}

/**
 * The first feature of `features` whose type contradicts the layout (a
 * numeric feature that is not a number, a categorical one that is not a
 * string, number or boolean), or undefined when all fit. Missing values fit.
 */
export function typeMismatchOf(layout: PaneLayout, features: Readonly<Record<string, unknown>>): string | undefined {
  const nn = layout.numericNames;
  for (let i = 0; i < nn.length; i++) {
    const v = features[nn[i]];
    if (v !== null && v !== undefined && typeof v !== 'number') return nn[i];
  }
  const cn = layout.categoricalNames;
  for (let i = 0; i < cn.length; i++) {
    const v = features[cn[i]];
    if (v !== null && v !== undefined && typeof v !== 'string' && typeof v !== 'boolean' && typeof v !== 'number') return cn[i];
  }
  return undefined;
}

/**
 * Reads an event's features once into the layout's scratch space and checks
 * their types on the way: returns the first feature whose type contradicts
 * the layout (then the scratch content is meaningless), or undefined. The
 * event is then counted with {@link Pane.acceptGathered}. JavaScript is
 * single-threaded and the two calls follow each other, so one scratch per
 * layout is enough.
 */
export function gatherFeatures(layout: PaneLayout, features: Readonly<Record<string, unknown>>): string | undefined {
  const nn = layout.numericNames;
  const num = layout.scratchNumeric;
  for (let i = 0; i < nn.length; i++) {
    const v = features[nn[i]];
    if (typeof v === 'number') num[i] = v;
    else if (v === null || v === undefined) num[i] = NaN;
    else return nn[i];
  }
  const cn = layout.categoricalNames;
  const cat = layout.scratchCategorical;
  for (let i = 0; i < cn.length; i++) {
    const v = features[cn[i]];
    if (v !== null && v !== undefined && typeof v !== 'string' && typeof v !== 'boolean' && typeof v !== 'number') return cn[i];
    cat[i] = v;
  }
  return undefined;
}
