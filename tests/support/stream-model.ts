import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseModelConfig } from '../../src/core/model/model-config.js';
import { serializeProfile } from '../../src/core/profile/reference-profile.js';
import { buildReferenceFromSamples } from '../../src/stream/reference-from-samples.js';
import { CATEGORICAL, NUMERIC, inference, rng } from '../integration/stream/stream-support.js';

/**
 * Writes a models file declaring one model of the stream-support traffic (8 numeric and 2
 * categorical features, 1-minute windows) with a reference profile built here, so every detector
 * process uses the same reference. Returns the models file path.
 */
export async function writeModelFiles(dir: string, modelId: string, options: { referenceId: string; resolveAfter?: number; allowedLateness?: string }): Promise<string> {
  const features = Object.fromEntries([...NUMERIC.map((f) => [f, 'numeric']), ...CATEGORICAL.map((f) => [f, 'categorical'])]);
  const modelJson = {
    modelId,
    features,
    prediction: 'score',
    positiveClass: '1',
    windows: [{ name: '1m', size: '1m' }],
    allowedLateness: options.allowedLateness ?? '5s',
    minSamples: 100,
    resolveAfter: options.resolveAfter ?? 2,
  };
  const r = rng(42);
  const sample = Array.from({ length: 20_000 }, (_, i) => {
    const e = inference(modelId, r, 0, false, i);
    return { ...e.features, score: e.score, prediction: e.prediction };
  });
  async function* batches() {
    yield sample;
  }
  const { profile } = await buildReferenceFromSamples(parseModelConfig(modelJson), batches(), { createdAt: 0, id: options.referenceId });
  const profileFile = join(dir, `${modelId}-reference.json`);
  writeFileSync(profileFile, serializeProfile(profile));
  const modelsFile = join(dir, `${modelId}-models.json`);
  writeFileSync(modelsFile, JSON.stringify({ models: [{ ...modelJson, reference: { profileFile } }] }, null, 2));
  return modelsFile;
}
