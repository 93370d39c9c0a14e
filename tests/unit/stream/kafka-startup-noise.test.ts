import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createKafka } from '../../../src/adapters/kafka/kafka-client.js';
import { loadConfig } from '../../../src/config/config.js';

describe('kafkajs log levels', () => {
  it('logs the broker-is-starting answers at debug and real errors at error', () => {
    const lines: { level: number; msg: string }[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        done();
      },
    });
    const logger = pino({ level: 'debug' }, sink);
    const kafka = createKafka(loadConfig({}).kafka, logger);
    const log = kafka.logger();
    log.error('Response GroupCoordinator(key: 10, version: 2)', { error: "The coordinator is loading and hence can't process requests", correlationId: 1 });
    log.error('[Connection] Response Metadata', { error: 'There is no leader for this topic-partition as we are in the middle of a leadership election' });
    log.error('Crash: KafkaJSNumberOfRetriesExceeded', { error: 'Connection error: connect ECONNREFUSED 127.0.0.1:9092' });
    sink.end();
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        expect(lines.map((l) => l.level)).toEqual([20, 20, 50]);
        resolve();
      }),
    );
  });
});
