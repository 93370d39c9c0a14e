/**
 * The baseline of the throughput figure: a bare kafkajs consumer group that
 * reads a topic from the beginning with `eachBatch` and the detector's fetch
 * settings, and only decodes each value with the same {@link EventCodec}
 * (Avro with a cached writer schema, or JSON). No validation, no state.
 *
 * Run as its own process so it measures what one Node process does:
 * `npx tsx load-tests/bare-consumer.ts --topic T --expect N`; prints one JSON line.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { FETCH_MAX_BYTES, FETCH_MAX_BYTES_PER_PARTITION } from '../src/adapters/kafka/kafka-stream-runner.js';
import { EventCodec } from '../src/adapters/registry/event-codec.js';

export interface BareConsumeOptions {
  readonly brokers: readonly string[];
  readonly registryUrl: string;
  readonly topic: string;
  /** Stop once this many records have been read. */
  readonly expect: number;
  readonly timeoutMs?: number;
  /** Same as the detector's runner (src/adapters/kafka/kafka-stream-runner.ts). Default 4. */
  readonly partitionsConsumedConcurrently?: number;
  /** Fetch sizes; default the detector's (FETCH_MAX_BYTES_PER_PARTITION, FETCH_MAX_BYTES). */
  readonly maxBytesPerPartition?: number;
  readonly maxBytes?: number;
}

export interface BareConsumeResult {
  readonly consumed: number;
  readonly decodeErrors: number;
  /** From the first batch to the last record. */
  readonly elapsedMs: number;
  readonly eventsPerSecond: number;
  /** CPU time of this process over the same span. */
  readonly cpuMs: number;
  readonly joinMs: number;
  readonly peakRssMb: number;
}

/** Consumes `expect` records of `topic` and reports the rate. */
export async function bareConsume(options: BareConsumeOptions): Promise<BareConsumeResult> {
  const kafka = new Kafka({ clientId: 'driftstream-load-bare', brokers: [...options.brokers], logLevel: logLevel.ERROR });
  const codec = new EventCodec({ registryUrl: options.registryUrl });
  // The detector's consumer settings, so the two differ only in what they do per record.
  const consumer = kafka.consumer({
    groupId: `load-bare-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    sessionTimeout: 30_000,
    heartbeatInterval: 3000,
    maxBytesPerPartition: options.maxBytesPerPartition ?? FETCH_MAX_BYTES_PER_PARTITION,
    maxBytes: options.maxBytes ?? FETCH_MAX_BYTES,
    maxWaitTimeInMs: 100,
  });
  const started = performance.now();
  let consumed = 0;
  let decodeErrors = 0;
  let firstAt = 0;
  let lastAt = 0;
  let cpuAtFirst: NodeJS.CpuUsage | undefined;
  let cpuMs = 0;
  let sink = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));

  await consumer.connect();
  await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 4,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      if (batch.messages.length === 0 || !isRunning() || isStale()) return;
      if (firstAt === 0) {
        firstAt = performance.now();
        cpuAtFirst = process.cpuUsage();
      }
      for (const m of batch.messages) {
        try {
          const d = codec.decodeCached(m.value) ?? (await codec.decode(m.value));
          // Touch the value so the decode cannot be optimized away.
          if (d.value !== undefined) sink++;
        } catch {
          decodeErrors++;
        }
      }
      consumed += batch.messages.length;
      resolveOffset(batch.lastOffset());
      await heartbeat();
      if (consumed >= options.expect && lastAt === 0) {
        lastAt = performance.now();
        const cpu = process.cpuUsage(cpuAtFirst);
        cpuMs = (cpu.user + cpu.system) / 1000;
        finish();
      }
    },
  });
  const timeout = setTimeout(() => finish(), options.timeoutMs ?? 300_000);
  await finished;
  clearTimeout(timeout);
  await consumer.disconnect().catch(() => undefined);
  if (lastAt === 0) throw new Error(`bare consumer read only ${consumed} of ${options.expect} records before the timeout`);
  const elapsedMs = lastAt - firstAt;
  void sink;
  return {
    consumed,
    decodeErrors,
    elapsedMs,
    eventsPerSecond: consumed / (elapsedMs / 1000),
    cpuMs,
    joinMs: firstAt - started,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

async function cli(): Promise<void> {
  const { values } = parseArgs({
    options: {
      topic: { type: 'string' },
      expect: { type: 'string' },
      brokers: { type: 'string', default: process.env.DRIFTSTREAM_KAFKA_BROKERS ?? '127.0.0.1:9092' },
      registry: { type: 'string', default: process.env.DRIFTSTREAM_SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7' },
      'timeout-ms': { type: 'string', default: '300000' },
      'max-bytes-per-partition': { type: 'string' },
      'max-bytes': { type: 'string' },
    },
  });
  if (!values.topic || !values.expect) throw new Error('usage: bare-consumer.ts --topic T --expect N');
  const result = await bareConsume({
    brokers: values.brokers!.split(','),
    registryUrl: values.registry!,
    topic: values.topic,
    expect: Number(values.expect),
    timeoutMs: Number(values['timeout-ms']),
    maxBytesPerPartition: values['max-bytes-per-partition'] === undefined ? undefined : Number(values['max-bytes-per-partition']),
    maxBytes: values['max-bytes'] === undefined ? undefined : Number(values['max-bytes']),
  });
  process.stdout.write(JSON.stringify(result) + '\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  cli().catch((err: Error) => {
    process.stderr.write(`bare-consumer: ${err.message}\n`);
    process.exitCode = 1;
  });
}
