import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import kafkajs, { CompressionTypes } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { recordsFit, registerCompressionCodecs } from '../../../../src/adapters/kafka/compression-codecs.js';
import type { SourceMessage } from '../../../../src/ports/dead-letter-sink.js';
import { UNDECODABLE_BATCH_HEADER, undecodableBatchOf } from '../../../../src/stream/undecodable-batch.js';
import { MemoryLabelJoin } from '../../../../src/adapters/memory/memory-label-join.js';
import { EventCodec } from '../../../../src/adapters/registry/event-codec.js';
import { createLogger } from '../../../../src/observability/logger.js';
import { createMetrics } from '../../../../src/observability/metrics.js';
import { GroundTruthProcessor } from '../../../../src/stream/ground-truth-processor.js';
import type { DeadLetter } from '../../../../src/ports/dead-letter-sink.js';
import { Harness, control } from '../../stream/harness.js';

// kafkajs's own record batch encoder and decoder: the decoder is the code that calls a codec while
// it parses a fetch response, so these tests run the codecs exactly where the consumer does.
const require = createRequire(import.meta.url);
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch(o: { compression: number; firstOffset: string; lastOffsetDelta: number; records: unknown[] }): Promise<{ buffer: Buffer }>;
};
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (o: { offsetDelta: number; key: Buffer | null; value: Buffer | null; headers?: Record<string, string> }) => unknown;
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (d: unknown) => Promise<{ records: (SourceMessage & { offset: string })[] }>;
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => unknown;

type Codec = { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> };
const codecOf = (t: CompressionTypes): Codec => (kafkajs.CompressionCodecs as unknown as Record<number, () => Codec>)[t]();

const CODECS = { gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD } as const;
const FIXTURES = join(import.meta.dirname, '../../../fixtures/kafka-batches');

beforeAll(() => registerCompressionCodecs());

/** A record batch as a broker returns it, written by kafkajs with our codecs. */
async function batch(codec: number, firstOffset: number, values: string[]): Promise<Buffer> {
  const records = values.map((v, i) => Record({ offsetDelta: i, key: Buffer.from('m1'), value: Buffer.from(v) }));
  return (await RecordBatch({ compression: codec, firstOffset: String(firstOffset), lastOffsetDelta: values.length - 1, records })).buffer;
}

function countRecords(data: Buffer): number {
  for (let n = 1; n <= 10_000; n++) if (recordsFit(data, n)) return n;
  return 0;
}

describe('Kafka compression codecs', () => {
  // Record sets captured from batches that librdkafka 2.0.2 (python3-confluent-kafka) and the Java
  // client 4.4 wrote to the broker, 30 JSON events each (see tests/fixtures/kafka-batches/README.md).
  for (const client of ['librdkafka', 'java'] as const) {
    for (const [name, type] of Object.entries(CODECS)) {
      it(`reads ${name} batches written by ${client}`, async () => {
        const compressed = readFileSync(join(FIXTURES, `${client}-${name}.bin`));
        const out = await codecOf(type).decompress(compressed);
        const n = countRecords(out);
        expect(n).toBeGreaterThan(10);
        const ids = [...out.toString('latin1').matchAll(/"eventId": ?"([a-z]+-[a-z0-9]+)-(\d+)"/g)];
        expect(ids).toHaveLength(n);
        expect(new Set(ids.map((m) => m[1]))).toEqual(new Set([`${client}-${name}`]));
      });
    }
  }

  it('recognises the Java client\'s Xerial-framed snappy and librdkafka\'s raw block', () => {
    expect(readFileSync(join(FIXTURES, 'java-snappy.bin')).subarray(1, 7).toString()).toBe('SNAPPY');
    expect(readFileSync(join(FIXTURES, 'librdkafka-snappy.bin')).subarray(1, 7).toString()).not.toBe('SNAPPY');
  });

  for (const [name, type] of Object.entries(CODECS)) {
    it(`round-trips ${name} through kafkajs's batch encoder and decoder`, async () => {
      const values = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ eventId: `e-${i}`, modelId: 'm1', features: { x: Math.sin(i) } }));
      const records = (await decodeBatch(new Decoder(await batch(type, 500, values)))).records;
      expect(records.map((r) => r.value!.toString())).toEqual(values);
      expect(records.map((r) => r.offset)).toEqual(values.map((_, i) => String(500 + i)));
    });
  }

  it('writes snappy in the Xerial framing the Java client writes, in 32 KB blocks', async () => {
    const input = Buffer.from('driftstream '.repeat(10_000));
    const out = await codecOf(CompressionTypes.Snappy).compress({ buffer: input });
    expect(out.subarray(0, 8)).toEqual(Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]));
    expect(out.readUInt32BE(8)).toBe(1);
    expect((await codecOf(CompressionTypes.Snappy).decompress(out)).equals(input)).toBe(true);
  });

  it('reads zstd frames without a content size that outgrow the first output buffer (the Java client streams frames like that)', async () => {
    const input = Buffer.from(Array.from({ length: 100_000 }, (_, i) => `{"modelId":"m","features":{"x":${i % 7}}}`).join(''));
    const frame = await codecOf(CompressionTypes.ZSTD).compress({ buffer: input });
    // Rewrite the frame header without its content size field (RFC 8878 3.1.1.1), as a streaming writer emits it.
    const fhd = frame[4];
    const singleSegment = (fhd >> 5) & 1;
    const dictBytes = [0, 1, 2, 4][fhd & 3];
    const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fhd >> 6];
    const windowDescriptor = singleSegment ? Buffer.from([(23 - 10) << 3]) : frame.subarray(5, 6); // 8 MB window
    const dictStart = 5 + (singleSegment ? 0 : 1);
    const stripped = Buffer.concat([frame.subarray(0, 4), Buffer.from([fhd & 0x1f & ~0x20]), windowDescriptor, frame.subarray(dictStart, dictStart + dictBytes), frame.subarray(dictStart + dictBytes + fcsBytes)]);
    expect(stripped.length * 32).toBeLessThan(input.length); // larger than the first buffer the decoder tries
    expect((await codecOf(CompressionTypes.ZSTD).decompress(stripped)).equals(input)).toBe(true);
  });

  it('writes lz4 frames with independent 64 KB blocks, which the Java client and broker require', async () => {
    const input = Buffer.from(Array.from({ length: 200_000 }, (_, i) => `event ${i % 977};`).join(''));
    const out = await codecOf(CompressionTypes.LZ4).compress({ buffer: input });
    expect(out.readUInt32LE(0)).toBe(0x184d2204);
    expect(out[4]).toBe(0x60); // version 01, block independence, no checksums, no content size
    expect(out[5]).toBe(0x40); // 64 KB maximum block size
    expect(out.length).toBeLessThan(input.length / 2);
    expect((await codecOf(CompressionTypes.LZ4).decompress(out)).equals(input)).toBe(true);
  });

  for (const [name, type] of Object.entries(CODECS)) {
    it(`turns a corrupt ${name} batch into stand-ins that keep its offsets, instead of failing the fetch`, async () => {
      const good = await batch(type, 1000, ['a', 'b', 'c', 'd', 'e'].map((v) => `{"v":"${v}${'x'.repeat(200)}"}`));
      const bad = Buffer.from(good);
      // The records start 61 bytes into the batch (after offset and length, 12 bytes, and the 49-byte header).
      for (let i = 61 + 8; i < bad.length; i += 3) bad[i] ^= 0x5a;
      const records = (await decodeBatch(new Decoder(bad))).records;
      expect(records.map((r) => r.offset)).toEqual(['1000', '1001', '1002', '1003', '1004']);
      const marks = records.map((r) => undecodableBatchOf(r));
      expect(marks.map((m) => m?.first)).toEqual([true, false, false, false, false]);
      expect(marks[0]).toMatchObject({ firstOffset: '1000', lastOffset: '1004', codec: name });
      expect(records[0].value!.equals(bad.subarray(61))).toBe(true);
      expect(records.slice(1).every((r) => r.value === null)).toBe(true);
    });
  }

  it('describes rather than carries a corrupt batch too large for one dead letter', async () => {
    const noise = (n: number) => randomBytes(n).toString('base64');
    const good = await batch(CompressionTypes.Snappy, 0, [noise(300_000), noise(300_000)]);
    const bad = Buffer.from(good);
    for (let i = 61 + 40; i < bad.length; i += 5) bad[i] ^= 0xa5;
    const records = (await decodeBatch(new Decoder(bad))).records;
    expect(records.map((r) => r.offset)).toEqual(['0', '1']);
    expect(records[0].value).toBeNull();
    expect(undecodableBatchOf(records[0])?.error).toMatch(/\(the \d+ compressed bytes are not kept\)$/);
  });

  it('dead-letters an undecodable batch once, names its offsets, and moves the partition past it', async () => {
    const h = await new Harness().init();
    const p = h.processor();
    const good = await batch(CompressionTypes.LZ4, 3, ['x', 'y', 'z'].map((v) => `{"v":"${v}${'x'.repeat(300)}"}`));
    const bad = Buffer.from(good);
    for (let i = 61 + 8; i < bad.length; i += 2) bad[i] = 0xff;
    const standIns = (await decodeBatch(new Decoder(bad))).records;
    const ts = Date.UTC(2026, 0, 1, 12, 0, 1);
    const event = (i: number) => JSON.stringify({ eventId: `e${i}`, modelId: 'm1', timestamp: ts, features: { a: i } });
    const before = h.messages(0, [event(0), event(1), event(2)]);
    const after = [5, 6].map((o) => ({ offset: String(o + 1), key: null, value: Buffer.from(event(o)), timestamp: String(ts) }));
    await p.process([...before, ...standIns, ...after], control);
    expect(h.dead).toHaveLength(1);
    expect(h.dead[0].reason).toBe('undecodable_batch');
    expect(h.dead[0].message).toMatch(/^record batch t\/0 offsets 3\.\.5 \(lz4\) cannot be decompressed: /);
    expect(h.dead[0].record.offset).toBe('3');
    expect(p.nextOffset).toBe('8');
    expect(h.state.counters.consumed).toBe(5);
  });

  it('dead-letters an undecodable batch of the ground-truth topic once and joins the labels around it', async () => {
    const letters: DeadLetter[] = [];
    const metrics = createMetrics({ defaultMetrics: false });
    const processor = new GroundTruthProcessor({
      decoder: new EventCodec({ registryUrl: 'http://127.0.0.1:1/unused' }),
      join: new MemoryLabelJoin(),
      deadLetters: { send: async (l) => void letters.push(...l) },
      policy: 'dlq',
      metrics,
      logger: createLogger('silent'),
    });
    const good = await batch(CompressionTypes.ZSTD, 10, ['p', 'q'].map((v) => `{"v":"${v}${'x'.repeat(300)}"}`));
    const bad = Buffer.from(good);
    for (let i = 61 + 8; i < bad.length; i += 2) bad[i] = 0x00;
    const standIns = (await decodeBatch(new Decoder(bad))).records;
    const label = (o: number) => ({ offset: String(o), key: null, value: Buffer.from(JSON.stringify({ eventId: `e${o}`, modelId: 'm', timestamp: 1_700_000_000_000, label: 1 })), timestamp: '0' });
    const outcome = await processor.process('gt', 2, [label(9), ...standIns, label(12)], control);
    expect(outcome?.stored).toBe(2);
    expect(letters.map((l) => [l.record.offset, l.reason])).toEqual([['10', 'undecodable_batch']]);
    expect(letters[0].message).toMatch(/^record batch gt\/2 offsets 10\.\.11 \(zstd\)/);
    expect((await metrics.dlqRecords.get()).values).toEqual([expect.objectContaining({ value: 1, labels: { topic: 'gt', reason: 'undecodable_batch' } })]);
  });

  it('treats a record that merely carries the stand-in header as an ordinary record', () => {
    const forged: SourceMessage = { offset: '1', key: null, value: Buffer.from('{}'), timestamp: '0', headers: { [UNDECODABLE_BATCH_HEADER]: '0|1|1|lz4|x' } };
    expect(undecodableBatchOf(forged)).toBeUndefined();
  });
});
