import { DriftstreamError } from '../errors.js';
import type { DeadLetter, RecordHeaders } from '../ports/dead-letter-sink.js';

/** Headers a dead-lettered record carries (DESIGN.md section 2). */
export const DLQ_HEADERS = Object.freeze({
  error: 'driftstream-error',
  sourceTopic: 'driftstream-source-topic',
  sourcePartition: 'driftstream-source-partition',
  sourceOffset: 'driftstream-source-offset',
});

/**
 * What happens to a record that cannot be decoded or validated: `dlq` (the
 * default) writes it to the dead-letter topic with its reason and carries on;
 * `fail` stops the detector on it, for pipelines that must not skip anything.
 */
export type ProcessingErrorPolicy = 'dlq' | 'fail';

/** The `fail` policy met a record it could not process. */
export class ProcessingFailedError extends DriftstreamError {
  constructor(
    readonly letter: DeadLetter,
  ) {
    super(
      'PROCESSING_FAILED',
      `record ${letter.record.topic}/${letter.record.partition}@${letter.record.offset} cannot be processed (${letter.reason}: ${letter.message}) and the processing-error policy is fail`,
    );
  }
}

/** The value of the `driftstream-error` header: `<reason>: <message>`, bounded. */
export function errorHeaderOf(letter: DeadLetter): string {
  const text = `${letter.reason}: ${letter.message}`;
  return text.length > 1000 ? `${text.slice(0, 997)}...` : text;
}

/** Headers of a dead-lettered record: the original ones plus the reason and the source coordinates. */
export function deadLetterHeaders(letter: DeadLetter): RecordHeaders {
  const r = letter.record;
  return {
    ...(r.headers ?? {}),
    [DLQ_HEADERS.error]: errorHeaderOf(letter),
    [DLQ_HEADERS.sourceTopic]: r.topic,
    [DLQ_HEADERS.sourcePartition]: String(r.partition),
    [DLQ_HEADERS.sourceOffset]: r.offset,
  };
}
