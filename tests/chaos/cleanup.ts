// Removes what a kept chaos run left behind (its PostgreSQL schema, Redis keys and topics):
//   npx tsx tests/chaos/cleanup.ts test-artifacts/chaos/<run>/run.json [...]
import { readFileSync } from 'node:fs';
import { testKafka } from '../support/kafka.js';
import { dropSchema } from '../support/postgres.js';
import { deletePrefix, testRedis } from '../support/redis.js';

const redis = testRedis();
const admin = testKafka('driftstream-chaos-cleanup').admin();
await admin.connect();
for (const file of process.argv.slice(2)) {
  const run = JSON.parse(readFileSync(file, 'utf8')) as { schema: string; prefix: string; topics: Record<string, string> };
  await dropSchema(run.schema);
  await deletePrefix(redis, run.prefix);
  await admin.deleteTopics({ topics: Object.values(run.topics) }).catch(() => undefined);
  console.log(`removed ${run.schema}, ${run.prefix}*, ${Object.values(run.topics).length} topics`);
}
await admin.disconnect();
await redis.quit();
