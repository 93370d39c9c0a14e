import type { Readable } from 'node:stream';
import type { ModelConfigJson } from './model-repository.js';

import type { SampleFormat } from '../io/row-source.js';

/** A sample file's format, as the sample readers define it. */
export type { SampleFormat };

/** Limits of an upload; each has its own error code. Absent ones are not checked. */
export interface UploadLimits {
  /** Most columns (TOO_MANY_COLUMNS). */
  maxColumns?: number;
  /** Largest cell in UTF-8 bytes (CELL_TOO_LARGE). */
  maxCellBytes?: number;
  /** Most categories kept per categorical column, whatever the model's topK. */
  maxCategories?: number;
}

export interface ReferenceBuildInput {
  modelId: string;
  model: ModelConfigJson;
  format: SampleFormat;
  /** The request body, streamed; already size-limited. */
  body: Readable;
  /** Epoch milliseconds: time is passed in. */
  createdAt: number;
  /** The version the repository will most likely assign (latest + 1), recorded in the profile. */
  nextVersion?: number;
  /** Upload limits checked while the sample is read (the route passes the configured ones). */
  limits?: UploadLimits;
}

export interface BuiltReference {
  referenceId: string;
  /** Rows read from the sample. */
  rows: number;
  /** The serialized profile to store. */
  profile: unknown;
}

/** Turns an uploaded sample into a reference profile. */
export type ReferenceBuilder = (input: ReferenceBuildInput) => Promise<BuiltReference>;
