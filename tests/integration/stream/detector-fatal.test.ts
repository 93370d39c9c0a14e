import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Producer } from 'kafkajs';
import { MemoryModelRepository } from '../../../src/adapters/memory/memory-model-repository.js';
import { parseModelConfig } from '../../../src/core/model/model-config.js';
import { startDetector, type DetectorHandle } from '../../../src/app/detector.js';
import { testKafka, uniqueName } from '../../support/kafka.js';
import { CATEGORICAL, NUMERIC, createStreamTopics, streamConfig, type StreamTopics } from './stream-support.js';

const kafka = testKafka();
let producer: Producer;
let topics: StreamTopics;
const handles: DetectorHandle[] = [];

beforeAll(async () => {
  producer = kafka.producer();
  await producer.connect();
  topics = await createStreamTopics(kafka, 'fatal', 1);
});

afterAll(async () => {
  for (const h of handles) await h.stop().catch(() => {});
  await producer?.disconnect();
});

describe('detector after an unrecoverable error', () => {
  it('rejects done with the error (so `driftstream run` exits non-zero) instead of resolving it', async () => {
    const modelId = uniqueName('fatal');
    const model = parseModelConfig({
      modelId,
      features: Object.fromEntries([...NUMERIC.map((f) => [f, 'numeric']), ...CATEGORICAL.map((f) => [f, 'categorical'])]),
      windows: [{ name: '2s', size: '2s' }],
    });
    const detector = await startDetector(streamConfig(topics), { models: new MemoryModelRepository() }, { models: [model], policy: 'fail' });
    handles.push(detector);
    await detector.joined;
    // Not a record of any format: with the `fail` policy the detector must stop on it.
    await producer.send({ topic: topics.inference, messages: [{ key: modelId, value: Buffer.from('not an event') }] });
    const outcome = await Promise.race([
      detector.done.then(
        () => 'resolved',
        (err: Error) => `rejected: ${err.name}`,
      ),
      new Promise<string>((r) => setTimeout(() => r('still running'), 30_000)),
    ]);
    expect(outcome).toMatch(/^rejected: /);
  }, 60_000);
});
