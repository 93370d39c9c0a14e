import type { ModelConfig } from '../model/model-config.js';
import type {
  CategoricalFeatureProfile,
  FeatureProfile,
  NumericFeatureProfile,
  ReferenceProfile,
} from '../profile/reference-profile.js';
import { reconstructionOf } from './reconstruction-layout.js';
import { OTHER_SEGMENT } from '../profile/segment-profiles.js';
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
  /** Per segment attribute, the layouts of its kept values and of `__other__`, sharing this layout's scratch space. */
  readonly segments?: readonly SegmentLayout[];
}

/** The panes of one segment attribute: a layout per kept value, and one for the pooled rest. */
export interface SegmentLayout {
  readonly attribute: string;
  readonly values: ReadonlyMap<string, PaneLayout>;
  readonly other: PaneLayout;
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
  const layout: PaneLayout = {
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
  };
  return Object.freeze({ ...layout, segments: segmentLayouts(model, layout) });
}

/**
 * The segment layouts of a model's layout, from its reference's segment
 * profiles (none when the model segments nothing or the reference has no
 * segments). Segment panes count the same gathered event, so their layouts
 * share the parent's scratch space and must list the same features in the
 * same order; an attribute whose profiles do not is left out.
 */
function segmentLayouts(model: ModelConfig, parent: PaneLayout): SegmentLayout[] | undefined {
  const segments = parent.profile.segments;
  if (model.segments.attributes.length === 0 || !segments) return undefined;
  const plain: ModelConfig = { ...model, segments: { attributes: [], topK: model.segments.topK }, multivariate: { ...model.multivariate, enabled: false } };
  const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((n, i) => n === b[i]);
  const out: SegmentLayout[] = [];
  for (const attribute of model.segments.attributes) {
    const a = segments[attribute];
    if (!a) continue;
    const values = new Map<string, PaneLayout>();
    for (const [v, p] of Object.entries(a.profiles)) {
      const l = createPaneLayout(plain, p.id, p);
      if (!same(l.numericNames, parent.numericNames) || !same(l.categoricalNames, parent.categoricalNames)) break;
      values.set(v, Object.freeze({ ...l, scratchNumeric: parent.scratchNumeric, scratchCategorical: parent.scratchCategorical }));
    }
    const other = values.get(OTHER_SEGMENT);
    if (!other || values.size !== Object.keys(a.profiles).length) continue;
    values.delete(OTHER_SEGMENT);
    out.push(Object.freeze({ attribute, values, other }));
  }
  return out.length > 0 ? out : undefined;
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
