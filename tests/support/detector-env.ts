import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import { BROKERS, REGISTRY_URL, createTopics } from './kafka.js';
import { DATABASE_URL } from './postgres.js';
import { REDIS_URL } from './redis.js';

/** The topics one test run's detector reads and writes. */
export interface RunTopics {
  inference: string;
  groundTruth: string;
  alerts: string;
  metrics: string;
  dlq: string;
}

/** The topics of a test run, named after its id. */
export function runTopics(runId: string) {
  return { inference: `${runId}-inference`, groundTruth: `${runId}-gt`, alerts: `${runId}-alerts`, metrics: `${runId}-metrics`, dlq: `${runId}-dlq` };
}

/** How many events each stored window of a model holds, by window start (ms). */
export async function storedWindowCounts(db: pg.Pool, modelId: string): Promise<Map<number, number>> {
  const { rows } = await db.query<{ start: Date; n: string }>(`SELECT window_start AS start, sample_size AS n FROM evaluations WHERE model_id = $1`, [modelId]);
  return new Map(rows.map((row) => [row.start.getTime(), Number(row.n)]));
}

/**
 * The environment of a detector that keeps all its state under one test run's own names: topics,
 * consumer group, Redis key prefix, PostgreSQL schema and models file. `servers` moves it to other
 * servers (a private broker, a proxy in front of Redis or PostgreSQL).
 */
export function detectorEnv(
  run: { runId: string; topics: RunTopics; redisPrefix: string; databaseSchema: string; modelsFile: string },
  servers: { brokers?: string; redisUrl?: string; databaseUrl?: string } = {},
): Record<string, string> {
  return {
    DRIFTSTREAM_KAFKA_BROKERS: servers.brokers ?? BROKERS.join(','),
    DRIFTSTREAM_SCHEMA_REGISTRY_URL: REGISTRY_URL,
    DRIFTSTREAM_INFERENCE_TOPIC: run.topics.inference,
    DRIFTSTREAM_GROUND_TRUTH_TOPIC: run.topics.groundTruth,
    DRIFTSTREAM_ALERTS_TOPIC: run.topics.alerts,
    DRIFTSTREAM_METRICS_TOPIC: run.topics.metrics,
    DRIFTSTREAM_DLQ_TOPIC: run.topics.dlq,
    DRIFTSTREAM_GROUP_ID: `${run.runId}-group`,
    DRIFTSTREAM_REDIS_URL: servers.redisUrl ?? REDIS_URL,
    DRIFTSTREAM_REDIS_KEY_PREFIX: run.redisPrefix,
    DRIFTSTREAM_DATABASE_URL: servers.databaseUrl ?? DATABASE_URL,
    DRIFTSTREAM_DATABASE_SCHEMA: run.databaseSchema,
    DRIFTSTREAM_MODELS_FILE: run.modelsFile,
    // The runs replay event time from 2026-01-01: keep their windows' history whatever its age.
    DRIFTSTREAM_HISTORY_RETENTION: '0',
  };
}

/** Creates a run's topics: the inference and dead-letter topics with `partitions`, the others with one. */
export async function createRunTopics(kafka: Kafka, topics: RunTopics, partitions = 3): Promise<void> {
  await createTopics(kafka, [topics.inference, topics.dlq], partitions);
  await createTopics(kafka, [topics.groundTruth, topics.alerts, topics.metrics], 1);
}
