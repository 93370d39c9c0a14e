import type { Kafka } from 'kafkajs';
import { dropSchema } from './postgres.js';
import { deletePrefix, testRedis } from './redis.js';

/** What one detector test run owns on the shared servers. */
export interface RunState {
  schema: string;
  prefix: string;
  topics: Record<string, string>;
}

/**
 * Removes a run's PostgreSQL schema, Redis keys and topics. Each is removed
 * even when another fails; the schema and key failures are reported together
 * afterwards (a topic that is already gone is not an error).
 */
export async function removeRunState(kafka: Kafka, run: RunState): Promise<void> {
  const redis = testRedis();
  const admin = kafka.admin();
  const results = await Promise.allSettled([
    dropSchema(run.schema),
    deletePrefix(redis, run.prefix),
    (async () => {
      await admin.connect();
      await admin.deleteTopics({ topics: Object.values(run.topics) }).catch(() => undefined);
    })(),
  ]);
  await admin.disconnect().catch(() => undefined);
  await redis.quit().catch(() => undefined);
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
  if (errors.length > 0) throw new AggregateError(errors, `could not remove all of ${run.schema}, ${run.prefix}*`);
}
