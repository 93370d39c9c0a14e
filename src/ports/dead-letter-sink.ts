/** Header values as Kafka clients carry them. */
export type RecordHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

/** A record of a batch of one partition, as the client library hands it over. */
export interface SourceMessage {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: RecordHeaders;
  /** Record timestamp, epoch ms as a string (Kafka's CreateTime or LogAppendTime). */
  readonly timestamp: string;
}

/** A record with its source coordinates (Kafka Streams' Record), independent of the client library. */
export interface SourceRecord extends SourceMessage {
  readonly topic: string;
  readonly partition: number;
}

/** A record that could not be processed and why. */
export interface DeadLetter {
  readonly record: SourceRecord;
  /** Short machine-readable tag (a DecodeReason): `bad_json`, `unknown_schema`, `type_mismatch`, ... */
  readonly reason: string;
  readonly message: string;
}

/** Where records that cannot be processed go (the DLQ topic in production). */
export interface DeadLetterSink {
  /** Writes the records unchanged with reason headers; resolves when they are durable. */
  send(letters: readonly DeadLetter[]): Promise<void>;
}
