import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { cellNumber } from '../io/cell-number.js';
import type { ModelConfig } from '../core/model/index.js';
import { parseModelConfig } from '../core/model/index.js';
import { ReferenceProfileBuilder, type ColumnType } from '../core/profile/reference-profile.js';
import { ReferencePerformanceBuilder } from '../core/performance/reference-performance.js';
import { ValidationError } from '../errors.js';
import { readSampleBatches, type SampleRecord } from '../io/sample-reader.js';
import type { BuiltReference, ReferenceBuildInput, ReferenceBuilder } from './deps.js';

function invalid(message: string): never {
  throw new ValidationError(message, { code: 'REFERENCE_INVALID' });
}

/** The profile's columns: the model's features plus its output column, typed by the prediction kind. */
function columnsOf(model: ModelConfig, first: SampleRecord[]): Record<string, ColumnType> {
  const columns: Record<string, ColumnType> = { ...model.features };
  if (Object.keys(columns).length === 0) {
    // No declared features: infer from the first rows, as auto-registration does from events.
    const seen = new Map<string, ColumnType | 'unknown'>();
    for (const rec of first) {
      for (const k in rec) {
        if (k === 'score' || k === 'prediction' || k === 'label' || k === 'eventId' || k === 'timestamp') continue;
        const n = cellNumber(rec[k]);
        if (seen.get(k) === 'categorical') continue;
        if (n === null) {
          if (!seen.has(k)) seen.set(k, 'unknown');
        } else seen.set(k, n === undefined ? 'categorical' : 'numeric');
      }
    }
    for (const [k, t] of seen) columns[k] = t === 'unknown' ? 'numeric' : t;
  }
  const keys = new Set(first.flatMap((r) => Object.keys(r)));
  if (keys.has('score')) columns.score = 'numeric';
  if (keys.has('prediction')) columns.prediction = model.prediction === 'regression' ? 'numeric' : 'categorical';
  return columns;
}

/**
 * Builds a reference profile from an uploaded CSV or NDJSON sample. The body
 * is streamed to a temporary file (hashing it on the way: the profile id is
 * time plus the content hash),
 * then read with the sample reader in batches and profiled with the model's
 * bins and top K.
 */
export function createReferenceBuilder(options: { tmpDir?: string; inferRows?: number } = {}): ReferenceBuilder {
  return async (input: ReferenceBuildInput): Promise<BuiltReference> => {
    const model = parseModelConfig(input.model);
    const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'driftstream-upload-'));
    const file = join(dir, `sample.${input.format}`);
    try {
      const hash = createHash('sha256');
      const tap = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hash.update(chunk);
          cb(null, chunk);
        },
      });
      await pipeline(input.body, tap, createWriteStream(file));
      const digest = hash.digest('hex').slice(0, 16);

      const first: SampleRecord[] = [];
      for await (const batch of readSampleBatches(file, { format: input.format, limit: options.inferRows ?? 1000 })) first.push(...batch);
      if (first.length === 0) invalid('the sample holds no rows');
      const columns = columnsOf(model, first);
      const keys = new Set(first.flatMap((r) => Object.keys(r)));
      const absent = Object.keys(model.features).filter((f) => !keys.has(f));
      if (absent.length) invalid(`the sample has no column for feature${absent.length > 1 ? 's' : ''} ${absent.join(', ')}`);
      if (Object.keys(columns).length === 0) invalid('the sample has no usable columns');

      const builder = new ReferenceProfileBuilder(columns, { bins: model.bins, topK: model.topK });
      const numeric = Object.keys(columns).filter((c) => columns[c] === 'numeric');
      const categorical = Object.keys(columns).filter((c) => columns[c] === 'categorical');
      // A label column gives the reference performance that PERFORMANCE alerts compare with.
      const perf = keys.has('label')
        ? new ReferencePerformanceBuilder({ kind: model.prediction, positiveClass: model.positiveClass, decisionThreshold: model.performance.decisionThreshold })
        : undefined;
      let row = 0;
      for await (const batch of readSampleBatches(file, { format: input.format })) {
        for (const rec of batch) {
          row++;
          perf?.accept(rec);
          builder.countRow();
          for (const c of numeric) {
            const n = cellNumber(rec[c]);
            if (n === undefined) invalid(`row ${row}: column ${c} is numeric but holds ${JSON.stringify(rec[c]).slice(0, 80)}`);
            builder.acceptValue(c, n);
          }
          for (const c of categorical) builder.acceptValue(c, rec[c] ?? null);
        }
      }
      // Time and content: a re-upload of the same sample is a new version, yet ids stay traceable to their bytes.
      const referenceId = `${input.modelId}-${input.createdAt.toString(36)}-${digest}`;
      const built = builder.build({ createdAt: input.createdAt, id: referenceId, modelId: input.modelId, version: input.nextVersion ?? 1 });
      const performance = perf?.build();
      const profile = performance ? Object.freeze({ ...built, performance }) : built;
      return { referenceId, rows: row, profile };
    } finally {
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  };
}

