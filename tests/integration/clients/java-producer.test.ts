import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKERS, REGISTRY_URL, consumeMessages, testKafka } from '../../support/kafka.js';
import { waitFor } from '../stream/stream-support.js';
import { CODECS, ROOT, counterOf, requirement, run, startClientDetector, type ClientRun } from './clients-support.js';

const PROJECT = join(ROOT, 'clients/java');
const PER_CODEC = 150;
const AVRO_EVENTS = 300;
const toolchain = requirement('Java 17 and Maven', spawnSync('mvn', ['-v'], { stdio: 'ignore' }).status === 0, 'apt-get install -y maven openjdk-17-jdk-headless');

let ctx: ClientRun;

/** Builds the example with Maven: offline from ~/.m2 when it holds everything, else downloading once. */
async function build(): Promise<void> {
  const started = Date.now();
  const args = ['-q', '-B', 'package', '-DskipTests'];
  let mode = 'offline';
  try {
    await run('mvn', ['-o', ...args], { cwd: PROJECT, timeout: 300_000 });
  } catch {
    mode = 'online (first build: dependencies downloaded into ~/.m2)';
    await run('mvn', args, { cwd: PROJECT, timeout: 600_000 });
  }
  console.log(`[java producer] mvn package ${mode}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function emit(args: string[]): Promise<{ emitted: number; delivered: number; failed: number }> {
  const cp = `${join(PROJECT, 'target/classes')}:${join(PROJECT, 'target/lib/*')}`;
  const { stdout } = await run('java', ['-Xmx256m', '-cp', cp, 'io.driftstream.examples.EmitEvents', `--brokers=${BROKERS.join(',')}`, ...args], { timeout: 120_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

describe.skipIf(toolchain.skip)('Java producer (kafka-clients, Maven example, real broker and registry)', () => {
  beforeAll(async () => {
    toolchain.check();
    await build();
    // The detector's own records go out in lz4, which the broker checks as it appends them.
    ctx = await startClientDetector('java', { DRIFTSTREAM_KAFKA_COMPRESSION: 'lz4' });
  }, 660_000);
  afterAll(async () => {
    await ctx?.stop();
  });

  it('has JSON events in every codec and Avro events with labels consumed and evaluated by the detector', async () => {
    const { topics, modelId, detector } = ctx;
    const [json, avro] = await Promise.all([
      // The Java client in each codec: snappy in Xerial framing, lz4 frames, zstd frames without a content size.
      emit([`--topic=${topics.inference}`, `--model=${modelId}`, '--format=json', `--compression=${CODECS.join(',')}`, `--count=${PER_CODEC}`, '--prefix=java-json']),
      emit([`--topic=${topics.inference}`, `--ground-truth-topic=${topics.groundTruth}`, `--registry=${REGISTRY_URL}`, `--model=${modelId}`,
        '--format=avro', '--compression=zstd', `--count=${AVRO_EVENTS}`, '--labels', '--prefix=java-avro', '--seed=2']),
    ]);
    expect(json).toMatchObject({ emitted: CODECS.length * PER_CODEC, delivered: CODECS.length * PER_CODEC, failed: 0 });
    expect(avro).toMatchObject({ emitted: 2 * AVRO_EVENTS, delivered: 2 * AVRO_EVENTS, failed: 0 });

    const total = CODECS.length * PER_CODEC + AVRO_EVENTS;
    const counted = () => detector.state.counters.consumed + detector.state.counters.late;
    await waitFor(() => counted() >= total, 60_000, `${total} events counted (have ${counted()})`);
    expect(counted()).toBe(total);
    expect(detector.state.counters.deadLettered).toBe(0);
    await waitFor(async () => (await counterOf(detector.metrics.labelsJoined, modelId)) >= AVRO_EVENTS, 30_000, 'the labels to join');
    expect(await counterOf(detector.metrics.labelsJoined, modelId)).toBe(AVRO_EVENTS);
    await waitFor(() => detector.state.counters.evaluations > 0, 30_000, 'an evaluation');
    expect(await counterOf(detector.metrics.evaluations, modelId)).toBeGreaterThan(0);
    const [published] = await consumeMessages(testKafka(), topics.metrics, 1);
    expect(JSON.parse(published.value!.toString())).toMatchObject({ modelId });
  }, 240_000);
});
