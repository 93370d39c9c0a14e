import { Kafka, logLevel, type Consumer, type KafkaConfig as KafkaJsConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaConfig } from '../../config/config.js';
import { UnavailableError } from '../../errors.js';
import { registerCompressionCodecs } from './compression-codecs.js';

// Every client of the process reads and writes snappy, lz4 and zstd batches.
registerCompressionCodecs();

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * Answers a broker gives while it (or a new topic) is still starting: kafkajs logs them as errors and
 * retries, and they pass by themselves, so they are logged at debug.
 */
const STARTUP_NOISE = /coordinator is loading|COORDINATOR_LOAD_IN_PROGRESS|COORDINATOR_NOT_AVAILABLE|no leader for this topic-partition|LEADER_NOT_AVAILABLE/i;

function startupNoise(message: string, rest: Record<string, unknown>): boolean {
  return STARTUP_NOISE.test(message) || (typeof rest.error === 'string' && STARTUP_NOISE.test(rest.error));
}

/**
 * A kafkajs client from the validated configuration: TLS and SASL (PLAIN,
 * SCRAM-SHA-256/512) when configured, its log routed into the pino logger.
 * kafkajs INFO chatter (joins, commits) is logged at debug.
 */
export function createKafka(config: KafkaConfig, logger: Logger, clientId = config.clientId): Kafka {
  const sasl: SASLOptions | undefined = config.sasl
    ? ({ mechanism: config.sasl.mechanism, username: config.sasl.username, password: config.sasl.password } as SASLOptions)
    : undefined;
  const options: KafkaJsConfig = {
    clientId,
    brokers: [...config.brokers],
    ssl: config.ssl === false ? false : { ca: config.ssl.ca ? [config.ssl.ca] : undefined, rejectUnauthorized: config.ssl.rejectUnauthorized },
    sasl,
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const level = LEVELS[entry.level] ?? 'info';
      const { message, ...rest } = entry.log;
      const target = level === 'info' || startupNoise(message, rest) ? 'debug' : level;
      logger[target]({ kafka: { namespace: entry.namespace, ...rest } }, `kafka: ${message}`);
    },
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 10_000 },
  };
  return new Kafka(options);
}

/** Creates topics that do not exist yet (existing ones are left as they are). */
export async function ensureTopics(kafka: Kafka, topics: readonly { topic: string; numPartitions?: number }[]): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) {
      await admin.createTopics({ waitForLeaders: true, topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.numPartitions ?? 1 })) });
    }
  } catch (err) {
    throw new UnavailableError('kafka', `could not create topics ${topics.map((t) => t.topic).join(', ')}: ${(err as Error).message}`, { cause: err });
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Number of partitions of a topic. */
export async function partitionCountOf(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return meta.topics[0]?.partitions.length ?? 1;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * Waits for a consumer's stop or disconnect, at most `ms`: kafkajs can wait forever when the group
 * rebalances while it leaves (several detectors stopping together), and a shutdown must end. The
 * group drops a member that left without a word after its session timeout.
 */
export async function settleWithin(what: Promise<unknown>, ms: number, onTimeout: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
    timer.unref();
  });
  try {
    const outcome = await Promise.race([what.then(() => 'done' as const, () => 'done' as const), timeout]);
    if (outcome === 'timeout') onTimeout();
  } finally {
    clearTimeout(timer);
  }
}

// A member the coordinator no longer knows (dropped after a missed session timeout, as under a
// loaded machine or a long stop-the-world pause) or of an older generation. kafkajs rejoins the
// group when one of these reaches its fetch loop with its protocol type; a commit wraps it in a
// non-retriable error first, which would end the consumer instead.
const MEMBERSHIP_ERRORS: ReadonlySet<string> = new Set(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP']);

/** The group-membership protocol error inside `err` (itself or a cause), if there is one. */
export function membershipErrorOf(err: unknown): Error | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string' && MEMBERSHIP_ERRORS.has(type)) return e;
  }
  return undefined;
}

/**
 * Commits offsets; a refusal because this member left the group is rethrown as the protocol error
 * itself, so that, inside `eachBatch`, kafkajs rejoins the group (the partitions' next owner, maybe
 * this process again, resumes from their checkpoints) rather than stopping the consumer.
 */
export async function commitOffsetsOrRejoin(consumer: Consumer, offsets: Parameters<Consumer['commitOffsets']>[0]): Promise<void> {
  try {
    await consumer.commitOffsets(offsets);
  } catch (err) {
    throw membershipErrorOf(err) ?? err;
  }
}
