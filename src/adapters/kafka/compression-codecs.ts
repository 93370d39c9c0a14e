import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { gzip as gzipCallback, unzip as unzipCallback } from 'node:zlib';
import { init as initZstdWasm, compress as zstdWasmCompress, decompress as zstdWasmDecompress } from '@bokuweb/zstd-wasm';
import { decompress as fzstdDecompress } from 'fzstd';
import kafkajs, { CompressionTypes } from 'kafkajs';
import * as lz4js from 'lz4js';

// snappy-wasm's ES build fetches its WebAssembly over HTTP (browsers); its CommonJS build reads the file.
const snappy = createRequire(import.meta.url)('snappy-wasm') as {
  compress_raw(input: Uint8Array): Uint8Array;
  decompress_raw(input: Uint8Array): Uint8Array;
};
import type { KafkaCompression } from '../../config/config.js';
import { DriftstreamError } from '../../errors.js';
import { undecodableBatchHeader, UNDECODABLE_BATCH_HEADER } from '../../stream/undecodable-batch.js';

/** The kafkajs compression type of a codec name (`DRIFTSTREAM_KAFKA_COMPRESSION`). */
export function compressionTypeOf(name: KafkaCompression): CompressionTypes {
  switch (name) {
    case 'none':
      return CompressionTypes.None;
    case 'gzip':
      return CompressionTypes.GZIP;
    case 'snappy':
      return CompressionTypes.Snappy;
    case 'lz4':
      return CompressionTypes.LZ4;
    case 'zstd':
      return CompressionTypes.ZSTD;
  }
}

/**
 * A decompressed batch may not grow past this: Kafka's own limits keep a batch
 * to a few MB, and a corrupt or hostile length field must not make the
 * process allocate gigabytes.
 */
export const MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

// Snappy: the Java client (snappy-java) writes Xerial's stream framing — a 16-byte header, then
// blocks each prefixed by its big-endian length; librdkafka writes one raw Snappy block. Both arrive.
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;
const XERIAL_BLOCK_BYTES = 32 * 1024;

/** Uncompressed length of a raw Snappy block (its leading varint), checked before allocating. */
function snappyLength(block: Uint8Array): number {
  let n = 0;
  for (let i = 0, shift = 0; i < 5 && i < block.length; i++, shift += 7) {
    n += (block[i] & 0x7f) * 2 ** shift;
    if ((block[i] & 0x80) === 0) return n;
  }
  throw new Error('snappy: bad length header');
}

function snappyBlock(block: Uint8Array, budget: number): Buffer {
  if (snappyLength(block) > budget) throw new Error(`snappy: block inflates past ${MAX_DECOMPRESSED_BYTES} bytes`);
  return asBuffer(snappy.decompress_raw(block));
}

export function snappyDecompress(buffer: Buffer): Buffer {
  if (buffer.length < XERIAL_HEADER_BYTES || !buffer.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) {
    return snappyBlock(buffer, MAX_DECOMPRESSED_BYTES);
  }
  const parts: Buffer[] = [];
  let total = 0;
  for (let at = XERIAL_HEADER_BYTES; at < buffer.length; ) {
    if (at + 4 > buffer.length) throw new Error('snappy: truncated Xerial block header');
    const size = buffer.readUInt32BE(at);
    at += 4;
    if (at + size > buffer.length) throw new Error('snappy: truncated Xerial block');
    const part = snappyBlock(buffer.subarray(at, at + size), MAX_DECOMPRESSED_BYTES - total);
    parts.push(part);
    total += part.length;
    at += size;
  }
  return Buffer.concat(parts, total);
}

/** Xerial framing, as the Java client writes it, so every Kafka client and the broker read it. */
export function snappyCompress(input: Buffer): Buffer {
  const header = Buffer.alloc(XERIAL_HEADER_BYTES);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(1, 8); // version
  header.writeInt32BE(1, 12); // minimum compatible version
  const parts: Buffer[] = [header];
  for (let at = 0; at < input.length; at += XERIAL_BLOCK_BYTES) {
    const block = snappy.compress_raw(input.subarray(at, at + XERIAL_BLOCK_BYTES));
    const size = Buffer.alloc(4);
    size.writeUInt32BE(block.byteLength, 0);
    parts.push(size, asBuffer(block));
  }
  return Buffer.concat(parts);
}

// LZ4: since KIP-57 (message format 1 and up) Kafka carries the standard LZ4 frame format.
export function lz4Decompress(buffer: Buffer): Buffer {
  const bound = lz4js.decompressBound(buffer) as unknown as number;
  if (!(bound >= 0) || bound > MAX_DECOMPRESSED_BYTES) throw new Error(`lz4: frame inflates past ${MAX_DECOMPRESSED_BYTES} bytes`);
  return asBuffer(lz4js.decompress(buffer, bound));
}

// Written by hand around lz4js's block compressor: its own frame writer links blocks, which the
// Java client and broker refuse ("Dependent block stream is unsupported"). Kafka's frames have
// independent 64 KB blocks and no checksums, as the Java client writes them.
const LZ4_MAGIC = [0x04, 0x22, 0x4d, 0x18];
const LZ4_FLG = 0x60; // version 01, independent blocks
const LZ4_BD = 0x40; // 64 KB blocks
const LZ4_BLOCK_BYTES = 64 * 1024;
const LZ4_UNCOMPRESSED = 0x80000000;
const xxh32 = createRequire(import.meta.url)('lz4js/xxh32.js') as { hash(seed: number, src: Uint8Array, index: number, length: number): number };
const lz4Table = new Uint32Array(1 << 16);
const lz4Out = new Uint8Array(lz4js.compressBound(LZ4_BLOCK_BYTES));

export function lz4Compress(input: Buffer): Buffer {
  const header = Buffer.from([...LZ4_MAGIC, LZ4_FLG, LZ4_BD, 0]);
  header[6] = (xxh32.hash(0, header, 4, 2) >>> 8) & 0xff; // descriptor checksum (KIP-57: over FLG and BD only)
  const parts: Buffer[] = [header];
  for (let at = 0; at < input.length; at += LZ4_BLOCK_BYTES) {
    const block = input.subarray(at, at + LZ4_BLOCK_BYTES);
    lz4Table.fill(0); // a fresh table: no match reaches into an earlier block
    const n = lz4js.compressBlock(block, lz4Out, 0, block.length, lz4Table);
    const size = Buffer.alloc(4);
    if (n === 0 || n >= block.length) {
      size.writeUInt32LE((block.length | LZ4_UNCOMPRESSED) >>> 0, 0);
      parts.push(size, Buffer.from(block));
    } else {
      size.writeUInt32LE(n, 0);
      parts.push(size, Buffer.from(lz4Out.subarray(0, n)));
    }
  }
  parts.push(Buffer.alloc(4)); // end mark
  return Buffer.concat(parts);
}

// zstd: the WebAssembly build of the reference library decodes into a buffer of the frame's stated
// content size; the Java client's streaming writer states none, and then the buffer is a guess. A
// frame that outgrows the guess is decoded again by fzstd (pure JavaScript, 5x slower), which grows
// its output as it goes.
const ZSTD_GUESS_RATIO = 32;
const ZSTD_MIN_GUESS = 1024 * 1024;

export async function zstdDecompress(buffer: Buffer): Promise<Buffer> {
  await zstdWasmReady();
  const declared = zstdContentSize(buffer);
  if (declared !== undefined && declared > MAX_DECOMPRESSED_BYTES) throw new Error(`zstd: frame inflates past ${MAX_DECOMPRESSED_BYTES} bytes`);
  const guess = Math.min(MAX_DECOMPRESSED_BYTES, Math.max(ZSTD_MIN_GUESS, buffer.length * ZSTD_GUESS_RATIO));
  try {
    return asBuffer(zstdWasmDecompress(buffer, { defaultHeapSize: guess }));
  } catch {
    const out = fzstdDecompress(buffer);
    if (out.byteLength > MAX_DECOMPRESSED_BYTES) throw new Error(`zstd: frame inflates past ${MAX_DECOMPRESSED_BYTES} bytes`);
    return asBuffer(out);
  }
}

/** The frame content size a zstd frame header declares, if any (RFC 8878 section 3.1.1.1). */
function zstdContentSize(b: Buffer): number | undefined {
  if (b.length < 6 || b.readUInt32LE(0) !== 0xfd2fb528) return undefined;
  const fhd = b[4];
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  const dictIdBytes = [0, 1, 2, 4][fhd & 3];
  let at = 5 + (singleSegment ? 0 : 1) + dictIdBytes;
  const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag];
  if (fcsBytes === 0 || at + fcsBytes > b.length) return undefined;
  if (fcsBytes === 1) return b[at];
  if (fcsBytes === 2) return b.readUInt16LE(at) + 256;
  if (fcsBytes === 4) return b.readUInt32LE(at);
  const lo = b.readUInt32LE(at);
  at += 4;
  return b.readUInt32LE(at) * 2 ** 32 + lo;
}

let zstdReady: Promise<void> | undefined;
const zstdWasmReady = (): Promise<void> => (zstdReady ??= initZstdWasm());

export async function zstdCompress(input: Buffer): Promise<Buffer> {
  await zstdWasmReady();
  return asBuffer(zstdWasmCompress(input, 3));
}

// A record batch (magic 2) is 61 header bytes, then the records. kafkajs hands a codec the records
// as a slice of the fetch response, so the header sits just before it in the same memory.
const BATCH_HEADER_BYTES = 61;
const LENGTH_FIELD = 53; // bytes before the records: the batch length (int32)
const MAGIC_FIELD = 45;
const ATTRIBUTES_FIELD = 40;
const LAST_OFFSET_DELTA_FIELD = 38;
const RECORD_COUNT_FIELD = 4;
const BASE_OFFSET_FIELD = 61;

interface BatchHeader {
  readonly baseOffset: bigint;
  readonly lastOffsetDelta: number;
  readonly count: number;
}

/** The header of the batch whose compressed records `records` are, when it can be read and agrees. */
export function batchHeaderBefore(records: Buffer, codecId: number): BatchHeader | undefined {
  if (records.byteOffset < BATCH_HEADER_BYTES) return undefined;
  const view = Buffer.from(records.buffer, records.byteOffset - BATCH_HEADER_BYTES, BATCH_HEADER_BYTES);
  const at = (fromEnd: number): number => BATCH_HEADER_BYTES - fromEnd;
  const length = view.readInt32BE(at(LENGTH_FIELD));
  const magic = view.readInt8(at(MAGIC_FIELD));
  const attributes = view.readInt16BE(at(ATTRIBUTES_FIELD));
  const lastOffsetDelta = view.readInt32BE(at(LAST_OFFSET_DELTA_FIELD));
  const count = view.readInt32BE(at(RECORD_COUNT_FIELD));
  // The batch length counts 49 header bytes after itself plus the records: a check that this is the header.
  if (magic !== 2 || (attributes & 0x07) !== codecId || length !== 49 + records.length) return undefined;
  if (count <= 0 || lastOffsetDelta < count - 1 || count > 10_000_000) return undefined;
  return { baseOffset: view.readBigInt64BE(at(BASE_OFFSET_FIELD)), lastOffsetDelta, count };
}

/** Reads a zigzag varint at `at`; returns [value, next position], or undefined past `end` or beyond 5 bytes. */
function readVarint(b: Buffer, at: number, end: number, maxBytes = 5): [number, number] | undefined {
  let raw = 0;
  for (let i = 0, mul = 1; i < maxBytes; i++, mul *= 0x80) {
    if (at >= end) return undefined;
    const byte = b[at++];
    raw += (byte & 0x7f) * mul;
    if ((byte & 0x80) === 0) return [raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2, at];
  }
  return undefined;
}

/** Walks a length-prefixed field (key, value, header); returns the position after it or undefined. */
function skipBytes(b: Buffer, at: number, end: number, nullable: boolean): number | undefined {
  const len = readVarint(b, at, end);
  if (!len) return undefined;
  if (len[0] < 0) return nullable && len[0] === -1 ? len[1] : undefined;
  return len[1] + len[0] <= end ? len[1] + len[0] : undefined;
}

/**
 * True when `data` is exactly `count` well-formed records (format v2). Some codecs (lz4 frames
 * without checksums, as Kafka clients write them) turn corrupt input into wrong bytes rather than
 * an error; kafkajs would then fail on them while parsing the whole fetch, for every partition.
 */
export function recordsFit(data: Buffer, count: number): boolean {
  let at = 0;
  for (let i = 0; i < count; i++) {
    const len = readVarint(data, at, data.length);
    if (!len || len[0] < 0 || len[1] + len[0] > data.length) return false;
    const end = len[1] + len[0];
    let p: number | undefined = len[1] + 1; // attributes
    const ts = p <= end ? readVarint(data, p, end, 10) : undefined; // timestamp delta (varlong)
    const od = ts && readVarint(data, ts[1], end); // offset delta
    p = od ? skipBytes(data, od[1], end, true) : undefined; // key
    p = p !== undefined ? skipBytes(data, p, end, true) : undefined; // value
    const headers = p !== undefined ? readVarint(data, p, end) : undefined;
    if (!headers || headers[0] < 0) return false;
    p = headers[1];
    for (let h = 0; h < headers[0] && p !== undefined; h++) {
      p = skipBytes(data, p, end, false);
      p = p !== undefined ? skipBytes(data, p, end, true) : undefined;
    }
    if (p !== end) return false;
    at = end;
  }
  return at === data.length;
}

function writeVarint(out: number[], value: number): void {
  let v = value >= 0 ? value * 2 : -value * 2 - 1; // zigzag
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/** One record (format v2) with no key, the given value and one header. */
function encodeRecord(offsetDelta: number, value: Buffer | null, headerKey: Buffer, headerValue: Buffer): Buffer {
  const head: number[] = [0];
  writeVarint(head, 0); // timestamp delta
  writeVarint(head, offsetDelta);
  writeVarint(head, -1); // null key
  writeVarint(head, value === null ? -1 : value.length);
  const tail: number[] = [];
  writeVarint(tail, 1);
  writeVarint(tail, headerKey.length);
  const valueLength: number[] = [];
  writeVarint(valueLength, headerValue.length);
  const body = Buffer.concat([Buffer.from(head), value ?? Buffer.alloc(0), Buffer.from(tail), headerKey, Buffer.from(valueLength), headerValue]);
  const length: number[] = [];
  writeVarint(length, body.length);
  return Buffer.concat([Buffer.from(length), body]);
}

/** The largest compressed batch a dead letter carries as its value. */
export const STAND_IN_VALUE_LIMIT = 512 * 1024;

/**
 * The records kafkajs is given in place of a batch that cannot be
 * decompressed: one per record of the batch, the first at the batch's first
 * offset with the compressed bytes as its value, the last at its last offset,
 * each marked with {@link UNDECODABLE_BATCH_HEADER}. The consumer then sees
 * the batch's offsets as usual and the stream dead-letters it once.
 */
export function standInRecords(header: BatchHeader, codec: string, compressed: Buffer, error: string): Buffer {
  // A batch near the broker's message size limit would not fit in one dead letter with its headers:
  // the dead letter then says how large it was instead of carrying it.
  const keep = compressed.length <= STAND_IN_VALUE_LIMIT;
  if (!keep) error = `${error} (the ${compressed.length} compressed bytes are not kept)`;
  const firstOffset = header.baseOffset.toString();
  const lastOffset = (header.baseOffset + BigInt(header.lastOffsetDelta)).toString();
  const key = Buffer.from(UNDECODABLE_BATCH_HEADER);
  const parts: Buffer[] = [];
  for (let i = 0; i < header.count; i++) {
    const first = i === 0;
    const delta = i === header.count - 1 ? header.lastOffsetDelta : i;
    const value = Buffer.from(undecodableBatchHeader({ first, firstOffset, lastOffset, codec, error }));
    parts.push(encodeRecord(delta, first && keep ? compressed : null, key, value));
  }
  return Buffer.concat(parts);
}

/** A batch that cannot be decompressed and whose header could not be found to stand in for it. */
export class UndecodableBatchError extends DriftstreamError {
  constructor(codec: string, options: { cause?: unknown }) {
    super('UNDECODABLE_BATCH', `a ${codec} record batch cannot be decompressed: ${(options.cause as Error)?.message ?? String(options.cause)}`, options);
  }
}

type Transform = (b: Buffer) => Buffer | Promise<Buffer>;

function guarded(name: string, codecId: number, decompress: Transform, compress: Transform): Codec {
  return {
    async compress(encoder) {
      return compress(encoder.buffer);
    },
    async decompress(buffer) {
      let failure: unknown;
      try {
        const out = await decompress(buffer);
        const header = batchHeaderBefore(buffer, codecId);
        if (!header || recordsFit(out, header.count)) return out;
        failure = new Error(`the decompressed bytes are not ${header.count} well-formed records`);
      } catch (err) {
        failure = err;
      }
      const header = batchHeaderBefore(buffer, codecId);
      if (!header) throw new UndecodableBatchError(name, { cause: failure });
      const message = ((failure as Error)?.message ?? String(failure)).replace(/\s+/g, ' ').slice(0, 300);
      return standInRecords(header, name, buffer, message);
    },
  };
}

const gzip = promisify(gzipCallback);
const unzip = promisify(unzipCallback);
const gzipCodec = guarded('gzip', CompressionTypes.GZIP, (b) => unzip(b, { maxOutputLength: MAX_DECOMPRESSED_BYTES }), (b) => gzip(b));
const snappyCodec = guarded('snappy', CompressionTypes.Snappy, snappyDecompress, snappyCompress);
const lz4Codec = guarded('lz4', CompressionTypes.LZ4, lz4Decompress, lz4Compress);
const zstdCodec = guarded('zstd', CompressionTypes.ZSTD, zstdDecompress, zstdCompress);

/**
 * Makes kafkajs read and write Snappy (raw and Xerial-framed), LZ4 (frame
 * format) and zstd batches besides gzip, and turns a batch that
 * cannot be decompressed into stand-in records the stream dead-letters
 * (see {@link standInRecords}) instead of a fetch error that would stop the
 * consumer. Registration is process-wide and idempotent.
 */
export function registerCompressionCodecs(): void {
  // CompressionCodecs is not among the names Node detects in kafkajs's CommonJS exports.
  const codecs = kafkajs.CompressionCodecs as Record<number, () => Codec>;
  codecs[CompressionTypes.GZIP] = () => gzipCodec;
  codecs[CompressionTypes.Snappy] = () => snappyCodec;
  codecs[CompressionTypes.LZ4] = () => lz4Codec;
  codecs[CompressionTypes.ZSTD] = () => zstdCodec;
}
