import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Redis } from 'ioredis';
import { createRedisClient } from '../../../src/adapters/redis/redis-connection.js';
import { RedisLabelJoin } from '../../../src/adapters/redis/redis-label-join.js';
import { EventCodec } from '../../../src/adapters/registry/event-codec.js';
import { PerformanceCounters } from '../../../src/core/performance/counters.js';
import { toInferenceRecord } from '../../../src/core/performance/records.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { GroundTruthProcessor } from '../../../src/stream/ground-truth-processor.js';
import { InferenceLabelRecorder } from '../../../src/stream/inference-label-recorder.js';
import { parseModelConfig } from '../../../src/core/model/model-config.js';
import { startTcpProxy } from '../../support/tcp-proxy.js';
import { MemoryAlertStateStore, MemoryResultRepository } from '../../../src/adapters/memory/index.js';
import type { Evaluation } from '../../../src/core/drift/types.js';
import type { PaneRef } from '../../../src/ports/label-join.js';
import { toLabelRecord } from '../../../src/core/performance/records.js';
import { inferenceRecordsOf } from '../../../src/stream/label-records.js';
import { PerformanceEvaluator } from '../../../src/stream/performance-evaluator.js';

const REDIS_URL = process.env.DRIFTSTREAM_REDIS_URL ?? 'redis://127.0.0.1:6379';
const T = 1_700_000_040_000;
const prefix = `dstest:outage:${randomUUID()}:`;
const logger = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(async () => {
  const redis = new Redis(REDIS_URL);
  const stream = redis.scanStream({ match: `${prefix}*`, count: 1000 });
  for await (const keys of stream as AsyncIterable<string[]>) if (keys.length) await redis.unlink(...keys);
  await redis.quit();
});

describe('label join while Redis is away (loopback proxy)', () => {
  it('inference records and label batches wait for Redis and then count exactly once', async () => {
    const proxy = await startTcpProxy({ port: Number(new URL(REDIS_URL).port || 6379) });
    const client = createRedisClient(proxy.url(REDIS_URL), { commandTimeoutMs: 1000, maxBackoffMs: 200 });
    const join = new RedisLabelJoin(client, { keyPrefix: prefix, chunkSize: 50 });
    const metrics = createMetrics({ defaultMetrics: false });
    const control = { heartbeat: async () => {}, isRunning: () => true };
    try {
      const model = parseModelConfig({ modelId: 'm', windows: [{ name: '1m', size: '1m' }] });
      const events = Array.from({ length: 300 }, (_, i) => ({ eventId: `e${i}`, modelId: 'm', modelVersion: null, timestamp: T + i, features: {}, prediction: null, score: (i % 100) / 100, attributes: {} }));

      // Inferences while Redis is cut: the recorder waits, then records them.
      const recorder = new InferenceLabelRecorder(join, metrics, logger, { initial: 50, max: 200 });
      for (const e of events) recorder.add(e, model);
      proxy.cut();
      const recording = recorder.flush(control);
      await sleep(1500);
      proxy.restore();
      await recording;
      expect((await join.stats('m')).inferences).toBe(300);

      // Labels while Redis is cut: the batch waits rather than being skipped or half counted.
      const processor = new GroundTruthProcessor({
        decoder: new EventCodec({ registryUrl: 'http://127.0.0.1:1/unused' }),
        join,
        deadLetters: { send: async () => {} },
        policy: 'dlq',
        metrics,
        logger,
        retryDelayMs: { initial: 50, max: 200 },
      });
      const messages = events.map((e, i) => ({ offset: String(i), key: null, timestamp: String(T), value: EventCodec.encodeJson({ eventId: e.eventId, modelId: 'm', timestamp: T + 5000, label: i % 2 }) }));
      proxy.cut();
      const processing = processor.process('gt', 0, messages, control);
      await sleep(1500);
      proxy.restore();
      const outcome = await processing;
      expect(outcome?.joined).toBe(300);

      // The same batch again (a crash before the commit): nothing counts twice.
      const again = await processor.process('gt', 0, messages, control);
      expect(again).toMatchObject({ joined: 0, duplicates: 300 });
      const c = await join.readCounters('m', 60_000, T, T + 60_000);
      expect(c.get('pn')).toBe(300);
      expect(c.get('n')).toBe(300);
      const want = new PerformanceCounters();
      for (const e of events) want.acceptPrediction(toInferenceRecord(e, { kind: 'score', positiveClass: '1', decisionThreshold: 0.5 }, [60_000]));
      expect(c.get('pp')).toBe(want.get('pp'));
    } finally {
      client.disconnect();
      await proxy.close();
    }
  }, 60_000);

  it('panes taken for a performance round while Redis goes away are evaluated once it returns', async () => {
    const proxy = await startTcpProxy({ port: Number(new URL(REDIS_URL).port || 6379) });
    const client = createRedisClient(proxy.url(REDIS_URL), { commandTimeoutMs: 1000, maxBackoffMs: 200 });
    // The round takes its panes, then Redis goes away before it reads their counters and puts them back.
    let cutAfterTake = false;
    const join = new (class extends RedisLabelJoin {
      override async takeDirtyPanes(max: number): Promise<PaneRef[]> {
        const panes = await super.takeDirtyPanes(max);
        if (cutAfterTake && panes.length > 0) {
          cutAfterTake = false;
          proxy.cut();
        }
        return panes;
      }
    })(client, { keyPrefix: `${prefix}perf:`, chunkSize: 50 });
    const evaluations: Evaluation[] = [];
    const config = parseModelConfig({ modelId: 'p', windows: [{ name: '1m', size: '1m' }] });
    const evaluator = new PerformanceEvaluator({
      join,
      model: (id) => (id === 'p' ? { config } : undefined),
      alertState: new MemoryAlertStateStore(),
      sink: { publishAlerts: async () => {}, publishEvaluations: async (e) => void evaluations.push(...structuredClone(e)) },
      results: new MemoryResultRepository(),
      metrics: createMetrics({ defaultMetrics: false }),
      logger,
      horizonMs: 3_600_000,
      now: () => T + 125_000,
    });
    try {
      const events = Array.from({ length: 200 }, (_, i) => ({ eventId: `p${i}`, modelId: 'p', modelVersion: null, timestamp: T + i * 100, features: {}, prediction: null, score: (i % 100) / 100, attributes: {} }));
      // Recorded at the wall clock (the keys' expiry is Redis's); the evaluator's clock has the window ended.
      await join.recordInferences(inferenceRecordsOf(events, config));
      await join.recordLabels(events.map((e, i) => toLabelRecord({ eventId: e.eventId, modelId: 'p', timestamp: e.timestamp + 1000, label: i % 2 })));
      cutAfterTake = true;
      await evaluator.punctuate();
      expect(cutAfterTake).toBe(false);
      expect(evaluations).toEqual([]);
      proxy.restore();
      await evaluator.punctuate();
      expect(evaluations.map((e) => [e.windowName, e.windowStart, e.performance?.labelled])).toEqual([['1m', T, 200]]);
    } finally {
      client.disconnect();
      await proxy.close();
    }
  }, 60_000);
});
