// Decode and validation of one inference event without Kafka: JSON.parse or Avro (avsc, and the
// InferenceEventReader the codec uses for the project's schema), then validateInference with every
// string check, with the checks judged once per record (what the processor does), and with none.
// 20 numeric + 5 categorical features; CPU time per event over 20,000 distinct events, 15 passes.
//
//   npx tsx bench/decode.ts    (or npm run bench -- decode)
import avro from 'avsc';
import { InferenceEventReader } from '../src/adapters/registry/inference-event-reader.js';
import { loadSchema } from '../src/adapters/registry/schemas.js';
import { CHECK_STRINGS, stringChecksFor, validateInference } from '../src/stream/validate-inference.js';
import type { BenchLine } from './stats.js';
import { mulberry32 } from './random.js';

const N = 20_000;
const PASSES = 15;
const MAX = 1024;

function nsPerEvent(fn: (i: number) => void): number {
  for (let i = 0; i < N; i++) fn(i);
  const t0 = process.cpuUsage();
  for (let r = 0; r < PASSES; r++) for (let i = 0; i < N; i++) fn(i);
  const c = process.cpuUsage(t0);
  return ((c.user + c.system) * 1000) / (PASSES * N);
}

export function benchDecode(): BenchLine[] {
  const type = avro.Type.forSchema(loadSchema('InferenceEvent') as avro.Schema);
  const rnd = mulberry32(11);
  const event = (i: number) => {
    const features: Record<string, number | string> = {};
    for (let j = 0; j < 20; j++) features[`n${j}`] = rnd() * 10;
    for (let j = 0; j < 5; j++) features[`c${j}`] = 'abcdefgh'[Math.floor(rnd() * 8)];
    return { eventId: `e${i}`, modelId: 'bench', modelVersion: 'v1', timestamp: 1_767_225_600_000 + i, features, prediction: '1', score: rnd(), attributes: {} };
  };
  const events = Array.from({ length: N }, (_, i) => event(i));
  const json = events.map((e) => Buffer.from(JSON.stringify(e)));
  const bodies = events.map((e) => type.toBuffer(e));
  const reader = new InferenceEventReader();
  const parse = (i: number) => {
    const text = json[i].toString('utf8');
    return { value: JSON.parse(text) as unknown, nulFree: !text.includes('\\u0000') };
  };
  const figures: [string, (i: number) => void][] = [
    ['JSON parse', (i) => void parse(i)],
    ['JSON parse + validate, every string check', (i) => void validateInference(parse(i).value, MAX, CHECK_STRINGS)],
    ['JSON parse + validate, checks judged per record', (i) => {
      const d = parse(i);
      validateInference(d.value, MAX, stringChecksFor(d, json[i].length, MAX));
    }],
    ['JSON parse + validate, no string check', (i) => void validateInference(parse(i).value, MAX, 0)],
    ['Avro decode, avsc', (i) => void type.decode(bodies[i], 0)],
    ['Avro decode, InferenceEventReader', (i) => void reader.read(bodies[i], 0)],
    ['Avro reader + validate, checks judged per record', (i) => {
      const d = reader.read(bodies[i], 0);
      validateInference(d.value, MAX, stringChecksFor(d, bodies[i].length, MAX));
    }],
  ];
  return figures.map(([name, fn]) => ({ name: `decode: ${name}`, value: nsPerEvent(fn), unit: 'ns/event (CPU)' }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const l of benchDecode()) console.log(`${l.name.padEnd(60)} ${Math.round(l.value).toLocaleString('en-US')} ${l.unit}`);
}
