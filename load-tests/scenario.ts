/**
 * The models of a load-test scenario: a models file (DESIGN.md section 3)
 * whose models each name a reference profile file built from clean traffic,
 * so the detector starts with references and never bootstraps.
 */
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseModelConfig, type ModelConfig } from '../src/core/model/model-config.js';
import { serializeProfile, type ReferenceProfile } from '../src/core/profile/reference-profile.js';
import { Pane } from '../src/core/windows/pane.js';
import { createPaneLayout } from '../src/core/windows/pane-layout.js';
import { buildReferenceFromSamples, type SampleLike } from '../src/stream/reference-from-samples.js';
import { TrafficGenerator, featureTypes } from './traffic.js';
import { mulberry32 } from '../src/core/random.js';

export interface ScenarioModels {
  /** Models as written in the models file (durations as strings). */
  readonly windows?: readonly { name: string; size: string; slide?: string }[];
  readonly allowedLateness?: string;
  readonly minSamples?: number;
  /** Clean events the reference is built from. Default 20,000. */
  readonly referenceEvents?: number;
  /** Models judge multivariate drift (their references fit the reconstruction either way). */
  readonly multivariate?: boolean;
  /** Models segment by the events' `segment` attribute (web / mobile). */
  readonly segments?: boolean;
  /** The reference sample carries labels drawn from the score, so its profile calibrates scores (estimated performance). */
  readonly labelledReference?: boolean;
}

/**
 * Writes `<dir>/<name>.models.json` for `modelIds` and one reference profile
 * file per model (the same clean distribution, its own profile id); returns
 * the models file path.
 */
export async function writeScenario(dir: string, name: string, modelIds: readonly string[], options: ScenarioModels = {}): Promise<string> {
  const base = {
    features: featureTypes(),
    prediction: 'score',
    positiveClass: '1',
    ...(options.windows ? { windows: options.windows } : {}),
    ...(options.allowedLateness ? { allowedLateness: options.allowedLateness } : {}),
    ...(options.minSamples !== undefined ? { minSamples: options.minSamples } : {}),
    ...(options.multivariate ? { multivariate: { enabled: true } } : {}),
    ...(options.segments ? { segments: { attributes: ['segment'] } } : {}),
  };
  const template = parseModelConfig({ modelId: 'reference-template', ...base });
  const profile = await cleanProfile(template, options.referenceEvents ?? 20_000, options.labelledReference);
  const models = [];
  for (const modelId of modelIds) {
    const file = join(dir, `${name}-${modelId}.profile.json`);
    await writeFile(file, serializeProfile({ ...profile, id: randomUUID(), modelId }));
    models.push({ modelId, ...base, reference: { profileFile: file } });
  }
  const path = join(dir, `${name}.models.json`);
  await writeFile(path, JSON.stringify({ models }, null, 2));
  return path;
}

/** A reference profile of `model` built from `events` clean events. */
export async function cleanProfile(model: ModelConfig, events: number, labelled = false): Promise<ReferenceProfile> {
  const gen = new TrafficGenerator(424242, 'reference');
  const coin = mulberry32(99);
  async function* batches(): AsyncGenerator<SampleLike[]> {
    for (let done = 0; done < events; ) {
      const n = Math.min(5000, events - done);
      const batch: SampleLike[] = [];
      for (let i = 0; i < n; i++) {
        const e = gen.event(model.modelId, 0, false);
        batch.push(labelled ? { ...e, label: coin() < (e.score ?? 0) ? 1 : 0 } : { ...e });
      }
      done += n;
      yield batch;
    }
  }
  const { profile } = await buildReferenceFromSamples(model, batches(), { createdAt: Date.now(), id: randomUUID(), version: 1 });
  return profile;
}

/**
 * Size of one complete pane as the in-memory pane coordinator keeps it (its
 * JSON text, one byte per character) after `events` events of one model.
 */
export async function paneFootprint(events: number): Promise<{ events: number; jsonBytes: number }> {
  const model = parseModelConfig({ modelId: 'footprint', features: featureTypes(), prediction: 'score', positiveClass: '1' });
  const profile = await cleanProfile(model, 20_000);
  const pane = new Pane(createPaneLayout(model, profile.id, profile), 0, 60_000);
  const gen = new TrafficGenerator(7, 'footprint');
  for (let i = 0; i < events; i++) {
    const e = gen.event('footprint', i, false);
    pane.accept(e.features, e.score, e.prediction, e.modelVersion);
  }
  return { events, jsonBytes: JSON.stringify(pane.toJSON()).length };
}
