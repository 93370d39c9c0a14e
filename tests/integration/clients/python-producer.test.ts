import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CompressionTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCompressionCodecs } from '../../../src/adapters/kafka/compression-codecs.js';
import { REGISTRY_URL, BROKERS, createTopics, testKafka, uniqueName } from '../../support/kafka.js';
import { NUMERIC, rng, waitFor } from '../stream/stream-support.js';
import { CODECS, PYTHON, ROOT, counterOf, pythonHas, requirement, run, startClientDetector, type ClientRun } from './clients-support.js';

// Debian's librdkafka (python3-confluent-kafka) and Avro (python3-avro), as ML teams' services use them.
const kafkaPackages = requirement('Debian python3-confluent-kafka and python3-avro', pythonHas(['confluent_kafka', 'avro']), 'apt-get install -y python3-confluent-kafka python3-avro');
const webPackages = requirement('Debian python3-fastapi and python3-uvicorn', pythonHas(['fastapi', 'uvicorn']), 'apt-get install -y python3-fastapi python3-uvicorn');
const CLIENT = join(ROOT, 'clients/python');
const PER_CODEC = 200;
const AVRO_EVENTS = 300;
const SERVICE_REQUESTS = 100;

let ctx: ClientRun;

async function emit(args: string[]): Promise<{ emitted: number; delivered: number }> {
  const { stdout } = await run(PYTHON, [join(CLIENT, 'examples/emit_events.py'), '--brokers', BROKERS.join(','), ...args], { timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

/** Reads `count` values of a topic from the beginning with librdkafka; fails on any consumer error. */
async function readWithLibrdkafka(topic: string, count: number): Promise<string[]> {
  const script = [
    'import json, sys, time',
    'from confluent_kafka import Consumer',
    `c = Consumer({"bootstrap.servers": "${BROKERS.join(',')}", "group.id": "${uniqueName('py-reader')}", "auto.offset.reset": "earliest"})`,
    `c.subscribe(["${topic}"])`,
    'out, errors = [], []',
    'end = time.time() + 30',
    `while len(out) < ${count} and time.time() < end:`,
    '    m = c.poll(0.5)',
    '    if m is None: continue',
    '    if m.error(): errors.append(str(m.error())); continue',
    '    out.append(m.value().decode())',
    'c.close()',
    'print(json.dumps({"values": out, "errors": errors}))',
  ].join('\n');
  const { stdout } = await run(PYTHON, ['-c', script], { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  const got = JSON.parse(stdout) as { values: string[]; errors: string[] };
  if (got.errors.length > 0) throw new Error(`librdkafka could not read ${topic}: ${got.errors.join('; ')}`);
  return got.values;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe.skipIf(kafkaPackages.skip)('Python producers (librdkafka, real broker and registry)', () => {
  beforeAll(async () => {
    kafkaPackages.check();
    // What the detector itself produces (evaluations, alerts, dead letters) goes out in zstd.
    ctx = await startClientDetector('py', { DRIFTSTREAM_KAFKA_COMPRESSION: 'zstd' });
  });
  afterAll(async () => {
    await ctx?.stop();
  });

  it('passes the Python package\'s unit tests', async () => {
    const { stderr } = await run(PYTHON, ['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.'], { cwd: CLIENT, timeout: 60_000 });
    expect(stderr).toMatch(/^Ran [1-9]\d* tests? in/m);
    expect(stderr.trim().split('\n').pop()).toBe('OK');
  });

  it('has JSON events in every codec, Avro events with labels, and a FastAPI service\'s events consumed and evaluated by the detector', async () => {
    const { topics, modelId, detector } = ctx;
    // librdkafka in each codec: none, gzip, snappy (a raw block), lz4 (frame format), zstd.
    for (const codec of CODECS) {
      const out = await emit(['--topic', topics.inference, '--model', modelId, '--format', 'json', '--compression', codec, '--count', String(PER_CODEC), '--prefix', `py-${codec}`]);
      expect(out).toMatchObject({ emitted: PER_CODEC, delivered: PER_CODEC });
    }
    // Avro through the registry (Confluent wire format), and a ground-truth event for each.
    const avro = await emit(['--topic', topics.inference, '--ground-truth-topic', topics.groundTruth, '--registry', REGISTRY_URL, '--model', modelId,
      '--format', 'avro', '--compression', 'lz4', '--count', String(AVRO_EVENTS), '--labels', '--prefix', 'py-avro']);
    expect(avro).toMatchObject({ emitted: 2 * AVRO_EVENTS, delivered: 2 * AVRO_EVENTS });

    let service: ChildProcess | undefined;
    let served = 0;
    if (!webPackages.skip) {
      webPackages.check();
      const port = await freePort();
      service = spawn(PYTHON, ['-m', 'uvicorn', 'prediction_service:app', '--app-dir', join(CLIENT, 'examples'), '--host', '127.0.0.1', '--port', String(port)], {
        env: { ...process.env, DRIFTSTREAM_KAFKA_BROKERS: BROKERS.join(','), DRIFTSTREAM_SCHEMA_REGISTRY_URL: REGISTRY_URL, DRIFTSTREAM_INFERENCE_TOPIC: topics.inference,
          DRIFTSTREAM_GROUND_TRUTH_TOPIC: topics.groundTruth, DRIFTSTREAM_KAFKA_COMPRESSION: 'zstd', MODEL_ID: modelId },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let log = '';
      service.stderr!.on('data', (d) => (log += d));
      try {
        const base = `http://127.0.0.1:${port}`;
        await waitFor(async () => (await fetch(`${base}/openapi.json`).catch(() => undefined))?.ok === true, 30_000, `the prediction service to start (${log})`);
        const r = rng(5);
        for (let i = 0; i < SERVICE_REQUESTS; i++) {
          const features: Record<string, number | string> = Object.fromEntries(NUMERIC.map((f) => [f, r() * 2 - 1]));
          features.c0 = 'abcd'[i % 4];
          features.c1 = 'xyz'[i % 3];
          const res = await fetch(`${base}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ features, requestId: `svc-${i}` }) });
          expect(res.status).toBe(200);
          const body = (await res.json()) as { eventId: string; score: number; prediction: string };
          expect(body.eventId).toBe(`svc-${i}`);
          const fb = await fetch(`${base}/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ eventId: body.eventId, label: body.prediction }) });
          expect(fb.status).toBe(200);
        }
        const bad = await fetch(`${base}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ features: { f0: 'NaN', f1: [1] } }) });
        expect(bad.status).toBe(400);
        const flushed = await (await fetch(`${base}/flush`, { method: 'POST' })).json();
        expect(flushed).toEqual({ emitted: 2 * SERVICE_REQUESTS, delivered: 2 * SERVICE_REQUESTS });
        served = SERVICE_REQUESTS;
      } finally {
        service.kill('SIGTERM');
      }
    }

    const total = CODECS.length * PER_CODEC + AVRO_EVENTS + served;
    const counted = () => detector.state.counters.consumed + detector.state.counters.late;
    await waitFor(() => counted() >= total, 60_000, `${total} events counted (have ${counted()})`);
    expect(counted()).toBe(total);
    expect(detector.state.counters.deadLettered).toBe(0);
    await waitFor(async () => (await counterOf(detector.metrics.labelsJoined, modelId)) >= AVRO_EVENTS + served, 30_000, 'the labels to join');
    expect(await counterOf(detector.metrics.labelsJoined, modelId)).toBe(AVRO_EVENTS + served);
    // Panes close on the idle timeout after the traffic stops, and each is evaluated.
    await waitFor(() => detector.state.counters.evaluations > 0, 30_000, 'an evaluation');
    expect(await counterOf(detector.metrics.evaluations, modelId)).toBeGreaterThan(0);
    // The evaluations the detector published in zstd, read back by librdkafka.
    const evaluations = (await readWithLibrdkafka(topics.metrics, 1)).map((v) => JSON.parse(v) as { modelId: string; sampleSize: number });
    expect(evaluations[0].modelId).toBe(modelId);
    expect(evaluations[0].sampleSize).toBeGreaterThan(0);
  }, 180_000);

  it('writes batches in every codec that librdkafka reads back', async () => {
    registerCompressionCodecs();
    const kafka = testKafka();
    const topic = uniqueName('py-read-back');
    await createTopics(kafka, [topic], 1);
    const producer = kafka.producer();
    await producer.connect();
    const types = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD };
    const sent: string[] = [];
    try {
      for (const [name, compression] of Object.entries(types)) {
        // A batch large enough for several Xerial snappy blocks and lz4 frame blocks.
        const messages = Array.from({ length: 400 }, (_, i) => ({ key: 'm', value: JSON.stringify({ codec: name, i, pad: 'x'.repeat(i % 300) }) }));
        await producer.send({ topic, compression, messages });
        sent.push(...messages.map((m) => m.value));
      }
    } finally {
      await producer.disconnect();
    }
    expect(await readWithLibrdkafka(topic, sent.length)).toEqual(sent);
    await (async () => {
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    })();
  });
});
