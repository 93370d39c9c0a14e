import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MemoryModelRepository } from '../../../src/adapters/memory/memory-model-repository.js';
import { parseModelConfig, type ModelConfig } from '../../../src/core/model/model-config.js';
import { startDetector, type DetectorHandle } from '../../../src/app/detector.js';
import { buildReferenceFromSamples } from '../../../src/stream/reference-from-samples.js';
import { testKafka, uniqueName } from '../../support/kafka.js';
import { CATEGORICAL, NUMERIC, createStreamTopics, inference, rng, streamConfig, type StreamTopics } from '../stream/stream-support.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
/** Debian's python3-* packages are built for Debian's interpreter, not a pyenv or venv python3 on PATH. */
export const PYTHON = '/usr/bin/python3';

export const run = promisify(execFile);

/**
 * Whether a tool this test needs is here. Outside CI a missing one skips the test with a warning;
 * in CI (CI=true) it fails it, so a machine without the packages never passes by skipping.
 */
export function requirement(what: string, present: boolean, install: string): { skip: boolean; check(): void } {
  const inCi = process.env.CI === 'true';
  if (!present && !inCi) console.warn(`\n*** SKIPPED: ${what} is missing (${install}); CI fails instead of skipping ***\n`);
  return {
    skip: !present && !inCi,
    check() {
      if (!present) throw new Error(`${what} is missing: ${install} (.ci/run installs it)`);
    },
  };
}

export function pythonHas(modules: readonly string[]): boolean {
  return spawnSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' }).status === 0;
}

/** The model of the producers' synthetic traffic (8 numeric, 2 categorical features, a score). */
export function clientModel(modelId: string): ModelConfig {
  return parseModelConfig({
    modelId,
    features: Object.fromEntries([...NUMERIC.map((f) => [f, 'numeric']), ...CATEGORICAL.map((f) => [f, 'categorical'])]),
    prediction: 'score',
    positiveClass: '1',
    // Short panes: a live partition's last pane closes once the wall clock passes its end (after the
    // idle timeout), so a test waits seconds for its evaluation, not up to a minute.
    windows: [{ name: '2s', size: '2s' }],
    allowedLateness: '1s',
    minSamples: 50,
  });
}

export interface ClientRun {
  readonly topics: StreamTopics & { groundTruth: string };
  readonly modelId: string;
  readonly detector: DetectorHandle;
  stop(): Promise<void>;
}

/** A detector (memory state) over fresh topics, with the model declared and a reference built from samples. */
export async function startClientDetector(prefix: string, env: Record<string, string> = {}): Promise<ClientRun> {
  const kafka = testKafka();
  const base = await createStreamTopics(kafka, prefix);
  const modelId = uniqueName(`${prefix}-model`);
  const model = clientModel(modelId);
  const r = rng(11);
  const sample = Array.from({ length: 3000 }, (_, i) => {
    const e = inference(modelId, r, 0, false, i);
    return { ...e.features, score: e.score, prediction: e.prediction };
  });
  async function* batches() {
    yield sample;
  }
  const { profile } = await buildReferenceFromSamples(model, batches(), { createdAt: Date.now() });
  const models = new MemoryModelRepository();
  await models.putModel({ modelId });
  await models.addReference(modelId, profile.id, profile);
  const config = streamConfig(base, env);
  const detector = await startDetector(config, { models }, { models: [model] });
  await detector.joined;
  const topics = { ...base, groundTruth: config.topics.groundTruth };
  return {
    topics,
    modelId,
    detector,
    async stop() {
      await detector.stop();
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
      await admin.disconnect();
    },
  };
}

/** Sum of a counter's values for one model label. */
export async function counterOf(metric: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> }, model: string): Promise<number> {
  const { values } = await metric.get();
  return values.filter((v) => v.labels.model === model).reduce((n, v) => n + v.value, 0);
}
