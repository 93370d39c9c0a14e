import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Producer } from 'kafkajs';
import { buildReferenceCommand } from '../../../src/commands/reference.js';
import { startRun, type RunHandle } from '../../../src/commands/run.js';
import { parseProfile } from '../../../src/core/profile/reference-profile.js';
import { createLogger } from '../../../src/observability/logger.js';
import { testKafka, uniqueName } from '../../support/kafka.js';
import { TrafficProducer, createStreamTopics, inference, rng, streamConfig, waitFor, type StreamTopics } from './stream-support.js';

const kafka = testKafka();
let producer: Producer;
let topics: StreamTopics;
let traffic: TrafficProducer;
let run: RunHandle | undefined;
const modelId = uniqueName('topic-ref');

beforeAll(async () => {
  producer = kafka.producer();
  await producer.connect();
  topics = await createStreamTopics(kafka, 'runcmd');
  traffic = new TrafficProducer(producer, topics.inference);
  await traffic.init();
});

afterAll(async () => {
  await run?.close().catch(() => {});
  await producer?.disconnect();
});

describe('reference build from a topic, then driftstream run with a models file', () => {
  it('builds a reference from a time range of a topic and runs the detector and API on it', async () => {
    const r = rng(21);
    const before = Date.now();
    await traffic.send(Array.from({ length: 300 }, (_, i) => inference('someone-else', r, Date.now(), false, i)), r);
    await new Promise((res) => setTimeout(res, 50));
    const start = Date.now();
    for (let k = 0; k < 6; k++) await traffic.send(Array.from({ length: 500 }, (_, i) => inference(modelId, r, Date.now(), false, k * 500 + i)), r);
    await producer.send({ topic: topics.inference, messages: [{ key: 'x', value: Buffer.from('{broken') }] });
    const end = Date.now() + 1;
    await new Promise((res) => setTimeout(res, 50));
    await traffic.send(Array.from({ length: 200 }, (_, i) => inference(modelId, r, Date.now(), true, 9000 + i)), r);
    expect(start).toBeGreaterThan(before);

    const config = streamConfig(topics, { DRIFTSTREAM_HTTP_PORT: '0' });
    const out = join(tmpdir(), `${uniqueName('profile')}.json`);
    const built = await buildReferenceCommand(
      config,
      { model: modelId, topic: topics.inference, start: new Date(start).toISOString(), end: new Date(end).toISOString(), out, store: false },
      createLogger('silent'),
    );
    expect(built.profile.rows).toBe(3000);
    expect(built.topicStats).toEqual({ records: 3001, events: 3000, skipped: 1 });
    expect(Object.keys(built.profile.features).sort()).toEqual(['c0', 'c1', 'f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'prediction', 'score']);
    const profile = parseProfile(await readFile(out, 'utf8'));
    expect(profile.id).toBe(built.profile.id);

    const modelsFile = join(tmpdir(), `${uniqueName('models')}.yaml`);
    await writeFile(
      modelsFile,
      [
        'models:',
        `  - modelId: ${modelId}`,
        '    windows:',
        '      - { name: 2s, size: 2s }',
        '    allowedLateness: 1s',
        '    reference:',
        `      profileFile: ${out}`,
      ].join('\n'),
    );
    run = await startRun(config, { models: modelsFile, logger: createLogger('silent') });
    await run.detector.joined;
    await waitFor(() => run!.detector.state.counters.evaluations > 0, 20_000, 'evaluations');
    const res = await fetch(`${run.url}/api/v1/models/${encodeURIComponent(modelId)}`);
    expect(res.status).toBe(200);
    const view = (await res.json()) as { status: string; reference: { referenceId?: string } | null; detector?: { eventsConsumed: number } };
    expect(['ok', 'drifting']).toContain(view.status);
    expect(view.detector?.eventsConsumed).toBeGreaterThanOrEqual(3200);
    const metrics = await (await fetch(`${run.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`driftstream_events_consumed_total\\{model="${modelId}"\\} \\d+`));
    expect(metrics).toMatch(/driftstream_events_invalid_total\{reason="bad_json"\} 1/);
    // Readiness names Kafka beside the storage adapters.
    const ready = await fetch(`${run.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: Record<string, string> }).checks.kafka).toBe('up');
    // The other model was auto-registered and is warming up.
    expect(run.detector.state.modelStatus('someone-else')?.status).toBe('warming_up');
  }, 90_000);
});
