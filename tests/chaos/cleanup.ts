// Removes what a kept chaos run left behind (its PostgreSQL schema, Redis keys and topics):
//   npx tsx tests/chaos/cleanup.ts test-artifacts/chaos/<run>/run.json [...]
import { readFileSync } from 'node:fs';
import { testKafka } from '../support/kafka.js';
import { removeRunState, type RunState } from '../support/run-state.js';

const kafka = testKafka('driftstream-chaos-cleanup');
for (const file of process.argv.slice(2)) {
  const run = JSON.parse(readFileSync(file, 'utf8')) as RunState;
  await removeRunState(kafka, run);
  console.log(`removed ${run.schema}, ${run.prefix}*, ${Object.values(run.topics).length} topics`);
}
