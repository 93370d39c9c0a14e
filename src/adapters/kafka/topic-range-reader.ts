import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { toInferenceEvent, type InferenceEvent } from '../../core/events.js';
import { DecodeError } from '../../errors.js';

export interface TopicRangeOptions {
  topic: string;
  /** Record timestamps in [startMs, endMs). */
  startMs: number;
  endMs: number;
  /** Only events of this model. */
  modelId?: string;
  decoder: { decode(buf: Buffer | null): Promise<{ value: unknown }> };
  /** Gives up when no record arrives for this long. Default 30 s. */
  idleTimeoutMs?: number;
}

export interface TopicRangeStats {
  records: number;
  events: number;
  skipped: number;
}

interface OffsetRange {
  /** First offset in the range. */
  from: number;
  /** First offset after it. */
  to: number;
}

/** The non-empty offset range of each partition whose records fall in the time range. */
async function offsetRanges(kafka: Kafka, options: TopicRangeOptions): Promise<Map<number, OffsetRange>> {
  const { topic } = options;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const starts = await admin.fetchTopicOffsetsByTimestamp(topic, options.startMs);
    const ends = await admin.fetchTopicOffsetsByTimestamp(topic, options.endMs);
    const high = await admin.fetchTopicOffsets(topic);
    const ranges = new Map<number, OffsetRange>();
    for (const s of starts) {
      const hw = Number(high.find((h) => h.partition === s.partition)?.high ?? 0);
      const e = ends.find((x) => x.partition === s.partition);
      // -1 means no record at or after the timestamp: the range runs to the end of the partition.
      const from = Number(s.offset) < 0 ? hw : Number(s.offset);
      const to = !e || Number(e.offset) < 0 ? hw : Number(e.offset);
      if (to > from) ranges.set(s.partition, { from, to });
    }
    return ranges;
  } finally {
    await admin.disconnect();
  }
}

/** The events of the model among a batch's messages within the range; undecodable ones are counted and skipped. */
async function decodeInRange(messages: readonly KafkaMessage[], range: OffsetRange, options: TopicRangeOptions, stats: TopicRangeStats): Promise<InferenceEvent[]> {
  const out: InferenceEvent[] = [];
  for (const m of messages) {
    const offset = Number(m.offset);
    if (offset < range.from) continue;
    if (offset >= range.to) break;
    stats.records++;
    try {
      const ev = toInferenceEvent((await options.decoder.decode(m.value)).value);
      if (options.modelId === undefined || ev.modelId === options.modelId) {
        out.push(ev);
        stats.events++;
      }
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      stats.skipped++;
    }
  }
  return out;
}

/**
 * Reads the inference events whose records were written in a time range of a
 * topic, with a throwaway consumer (a random group that commits nothing): the
 * range's first offsets per partition come from `fetchTopicOffsetsByTimestamp`
 * (offsetsForTimes), the last from the offsets at the range's end. Yields
 * batches of valid events; undecodable records are counted and skipped.
 */
export async function* readTopicRange(kafka: Kafka, options: TopicRangeOptions, stats: TopicRangeStats = { records: 0, events: 0, skipped: 0 }): AsyncGenerator<InferenceEvent[]> {
  const { topic } = options;
  const ranges = await offsetRanges(kafka, options);
  if (ranges.size === 0) return;

  const consumer = kafka.consumer({ groupId: `driftstream-reference-${randomUUID()}`, maxWaitTimeInMs: 200 });
  const queue: InferenceEvent[][] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  const remaining = new Set(ranges.keys());
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const range = ranges.get(batch.partition);
        if (!range || !remaining.has(batch.partition)) return;
        const out = await decodeInRange(batch.messages, range, options, stats);
        if (Number(batch.lastOffset()) >= range.to - 1) remaining.delete(batch.partition);
        if (out.length > 0) queue.push(out);
        notify();
      },
    });
    consumer.on(consumer.events.CRASH, (e) => {
      failure = e.payload.error;
      notify();
    });
    for (const [partition, r] of ranges) consumer.seek({ topic, partition, offset: String(r.from) });
    const idle = options.idleTimeoutMs ?? 30_000;
    for (;;) {
      while (queue.length > 0) yield queue.shift()!;
      if (failure) throw failure;
      if (remaining.size === 0) break;
      const got = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), idle);
        wake = () => {
          clearTimeout(t);
          resolve(true);
        };
      });
      if (!got && queue.length === 0) throw new Error(`no records from ${topic} for ${idle} ms; partitions ${[...remaining].join(', ')} did not reach the end of the range`);
    }
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}
