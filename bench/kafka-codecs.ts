// `npx tsx bench/kafka-codecs.ts`: decompression throughput of the Kafka codecs driftstream
// registers, on the record sets librdkafka and the Java client wrote (tests/fixtures/kafka-batches,
// 30 JSON events each), and compression plus decompression of a 1 MB record set of such events.
// Median of 7 rounds, with the spread.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import kafkajs, { CompressionTypes } from 'kafkajs';
import { registerCompressionCodecs } from '../src/adapters/kafka/compression-codecs.js';

registerCompressionCodecs();
type Codec = { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> };
const codecs = kafkajs.CompressionCodecs as unknown as Record<number, () => Codec>;
const TYPES = { gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD };
const FIXTURES = join(import.meta.dirname, '../tests/fixtures/kafka-batches');

async function rounds(fn: () => Promise<number>): Promise<{ median: number; min: number; max: number }> {
  await fn();
  const rates: number[] = [];
  for (let i = 0; i < 7; i++) rates.push(await fn());
  rates.sort((a, b) => a - b);
  return { median: rates[3], min: rates[0], max: rates[6] };
}

const fmt = (r: { median: number; min: number; max: number }) => `${r.median.toFixed(0)} MB/s (${r.min.toFixed(0)}-${r.max.toFixed(0)})`;

// Decompression of the captured record sets.
for (const client of ['librdkafka', 'java']) {
  for (const [name, type] of Object.entries(TYPES)) {
    const input = readFileSync(join(FIXTURES, `${client}-${name}.bin`));
    const codec = codecs[type]();
    const r = await rounds(async () => {
      let out = 0;
      const t = performance.now();
      for (let i = 0; i < 300; i++) out += (await codec.decompress(input)).length;
      return out / 1e6 / ((performance.now() - t) / 1000);
    });
    console.log(`decompress ${name.padEnd(6)} ${client.padEnd(10)} ${String(input.length).padStart(5)} B batch  ${fmt(r)} of output`);
  }
}

// A 1 MB record set of JSON inference events, written and read by driftstream's own codecs.
const events = Array.from({ length: 2400 }, (_, i) =>
  JSON.stringify({ eventId: `e-${i}`, modelId: 'credit-risk', timestamp: 1_764_900_000_000 + i, features: { age: 20 + (i % 50), income: 30_000 + ((i * 7919) % 90_000), region: ['north', 'south', 'east'][i % 3] }, score: (i % 100) / 100, prediction: i % 2 ? '1' : '0', attributes: {} }),
);
const plain = Buffer.from(events.join('\n'));
for (const [name, type] of Object.entries(TYPES)) {
  const codec = codecs[type]();
  const packed = await codec.compress({ buffer: plain });
  const c = await rounds(async () => {
    const t = performance.now();
    await codec.compress({ buffer: plain });
    return plain.length / 1e6 / ((performance.now() - t) / 1000);
  });
  const d = await rounds(async () => {
    const t = performance.now();
    await codec.decompress(packed);
    return plain.length / 1e6 / ((performance.now() - t) / 1000);
  });
  console.log(`1 MB of events ${name.padEnd(6)} size ${((100 * packed.length) / plain.length).toFixed(0)}%  compress ${fmt(c)}  decompress ${fmt(d)}`);
}
