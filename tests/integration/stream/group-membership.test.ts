// A member the coordinator dropped (it missed its session timeout: a loaded machine, a long pause)
// must rejoin the group when its next offset commit is refused, not stop consuming.
import { afterAll, describe, expect, it } from 'vitest';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { commitOffsetsOrRejoin } from '../../../src/adapters/kafka/kafka-client.js';
import { createTopics, testKafka, uniqueName } from '../../support/kafka.js';

const SESSION_MS = 6_000; // the broker's default group.min.session.timeout.ms
const kafka: Kafka = testKafka('driftstream-membership-test');
const consumers: Consumer[] = [];
const topics: string[] = [];

afterAll(async () => {
  await Promise.allSettled(consumers.map((c) => c.disconnect()));
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
});

/** Blocks the event loop (no heartbeats go out) for `ms`. */
function freeze(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

interface Outcome {
  crashed: { message: string; restart: boolean } | undefined;
  committed: string | undefined;
  batches: number;
}

/** One consumer that freezes past its session timeout in its first batch, then commits with `commit`. */
async function frozenMemberCommits(commit: (c: Consumer, p: EachBatchPayload) => Promise<void>): Promise<Outcome> {
  const topic = uniqueName('membership');
  topics.push(topic);
  await createTopics(kafka, [topic]);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: `m${i}` })) });
  await producer.disconnect();

  const groupId = `${topic}-group`;
  const consumer = kafka.consumer({ groupId, sessionTimeout: SESSION_MS, heartbeatInterval: 1_000, retry: { retries: 2 } });
  consumers.push(consumer);
  const outcome: Outcome = { crashed: undefined, committed: undefined, batches: 0 };
  consumer.on(consumer.events.CRASH, (e) => {
    outcome.crashed ??= { message: e.payload.error.message, restart: e.payload.restart };
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async (payload) => {
      outcome.batches++;
      if (outcome.batches === 1) freeze(SESSION_MS + 3_000);
      await commit(consumer, payload);
    },
  });

  const deadline = Date.now() + 45_000;
  const admin = kafka.admin();
  await admin.connect();
  try {
    while (Date.now() < deadline && !(outcome.crashed && !outcome.crashed.restart)) {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      outcome.committed = offsets.partitions[0]?.offset;
      if (outcome.committed === '10') break;
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await admin.disconnect();
  }
  await consumer.disconnect();
  return outcome;
}

const offsetsOf = (p: EachBatchPayload) => [{ topic: p.batch.topic, partition: p.batch.partition, offset: String(Number(p.batch.lastOffset()) + 1) }];

describe('a group member dropped by the coordinator (real broker)', () => {
  it('a plain commit ends the consumer: kafkajs does not restart a non-retriable refusal', async () => {
    const outcome = await frozenMemberCommits((c, p) => c.commitOffsets(offsetsOf(p)));
    expect(outcome.crashed?.message).toMatch(/not aware of this member|generation|rebalanc/i);
    expect(outcome.crashed?.restart).toBe(false);
    expect(outcome.committed).not.toBe('10');
  }, 60_000);

  it('commitOffsetsOrRejoin rejoins the group and commits the replayed batch', async () => {
    const outcome = await frozenMemberCommits((c, p) => commitOffsetsOrRejoin(c, offsetsOf(p)));
    expect(outcome.crashed).toBeUndefined();
    expect(outcome.batches).toBeGreaterThanOrEqual(2);
    expect(outcome.committed).toBe('10');
  }, 60_000);
});
