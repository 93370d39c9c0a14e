import { randomBytes } from 'node:crypto';
import type { SourceMessage } from '../ports/dead-letter-sink.js';

/**
 * Header of the records that stand in for a record batch the Kafka client
 * could not decompress (a corrupt batch, or a codec fault). The client keeps
 * the batch's offsets: one record per offset of the batch, so offsets,
 * checkpoints and commits move past it as past any other batch. The record at
 * the batch's first offset carries the compressed bytes and this header; the
 * others carry it with an empty value and are skipped.
 */
export const UNDECODABLE_BATCH_HEADER = 'driftstream-undecodable-batch';

// Only this process writes stand-ins, so its header value starts with a token a producer cannot know:
// a record that merely carries the header name is an ordinary record, never skipped.
const TOKEN = randomBytes(12).toString('hex');

/** The reason tag of the dead letter written for an undecodable batch. */
export const UNDECODABLE_BATCH_REASON = 'undecodable_batch';

/** What a stand-in record says about its batch. */
export interface UndecodableBatch {
  /** True on the record at the batch's first offset: the one that is dead-lettered. */
  readonly first: boolean;
  readonly firstOffset: string;
  readonly lastOffset: string;
  readonly codec: string;
  readonly error: string;
}

/** The header value: `<token>|<first>|<firstOffset>|<lastOffset>|<codec>|<error>`. */
export function undecodableBatchHeader(b: UndecodableBatch): string {
  return `${TOKEN}|${b.first ? 1 : 0}|${b.firstOffset}|${b.lastOffset}|${b.codec}|${b.error}`;
}

/** The batch a stand-in record belongs to, or undefined for an ordinary record. */
export function undecodableBatchOf(m: SourceMessage): UndecodableBatch | undefined {
  const h = m.headers?.[UNDECODABLE_BATCH_HEADER];
  if (h === undefined) return undefined;
  const text = (Array.isArray(h) ? h[0] : h)?.toString() ?? '';
  const [token, first, firstOffset = '?', lastOffset = '?', codec = '?', ...error] = text.split('|');
  if (token !== TOKEN) return undefined;
  return { first: first === '1', firstOffset, lastOffset, codec, error: error.join('|') };
}

/** The dead letter's message: names the partition, the offset range, the codec and the error. */
export function describeUndecodableBatch(topic: string, partition: number, b: UndecodableBatch): string {
  return `record batch ${topic}/${partition} offsets ${b.firstOffset}..${b.lastOffset} (${b.codec}) cannot be decompressed: ${b.error}`;
}
