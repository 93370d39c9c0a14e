/**
 * CPU per event of the per-partition ingest path without Kafka: the records
 * of the throughput phase's models (10 models, 20 numeric + 5 categorical
 * features, Avro) decoded, validated and counted into panes by
 * PartitionIngest, with the label-join fields collected, against decoding
 * alone with the same codec (what the bare consumer does), in one process,
 * rounds alternating. Needs the schema registry (one subject is registered).
 *
 * `npx tsx load-tests/ingest-bench.ts [--events N] [--rounds N]`
 */
import { parseArgs } from 'node:util';
import { EventCodec } from '../src/adapters/registry/event-codec.js';
import { parseModelConfig } from '../src/core/model/model-config.js';
import { createPaneLayout } from '../src/core/windows/pane-layout.js';
import { paneLengthOf } from '../src/core/windows/window-spec.js';
import { PartitionIngest, type IngestModel, type IngestRecords } from '../src/stream/partition-ingest.js';
import { cleanProfile } from './scenario.js';
import { TrafficGenerator, featureTypes, modelIds } from './traffic.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '5' },
    registry: { type: 'string', default: process.env.DRIFTSTREAM_SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7' },
  },
});
const EVENTS = Number(values.events);
const ROUNDS = Number(values.rounds);

const base = { features: featureTypes(), prediction: 'score', positiveClass: '1' };
const profile = await cleanProfile(parseModelConfig({ modelId: 'reference-template', ...base }), 20_000);
const models = new Map<string, IngestModel>();
for (const modelId of modelIds('load', 10)) {
  const config = parseModelConfig({ modelId, ...base });
  models.set(modelId, { config, params: { paneMs: paneLengthOf(config.windows), latenessMs: config.allowedLatenessMs }, layout: createPaneLayout(config, `ref-${modelId}`, profile) });
}

const codec = new EventCodec({ registryUrl: values.registry! });
const schemaId = await codec.register('driftstream-ingest-bench-value', 'InferenceEvent');
const gen = new TrafficGenerator(7, 'bench');
const ids = [...models.keys()];
const start = Date.now() - 3_600_000;
// Event time advances 10,000 events per second, as in the throughput phase.
const values_ = Array.from({ length: EVENTS }, (_, i) => codec.encode(schemaId, gen.event(ids[i % ids.length], start + Math.floor(i / 10), i > EVENTS / 5)));

function records(from: number): IngestRecords {
  return {
    length: values_.length,
    offset: (i) => from + i,
    timestamp: () => 0,
    value: (i) => values_[i],
    standIn: () => undefined,
  };
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function decodeOnly(): number {
  const t = cpuMs();
  let n = 0;
  for (const v of values_) if (codec.decodeCached(v) !== undefined) n++;
  if (n !== values_.length) throw new Error('not every value decoded');
  return cpuMs() - t;
}

function ingest(): number {
  const p = new PartitionIngest('bench/0', codec, models, Date.now(), undefined, undefined);
  const t = cpuMs();
  const batch = 500;
  let counted = 0;
  // Batches as a consumer gets them: ingest, take the step, close the panes the watermark passed.
  for (let from = 0; from < values_.length; from += batch) {
    const part = values_.slice(from, from + batch);
    const r: IngestRecords = { ...records(from), length: part.length, value: (i) => part[i] };
    const stop = p.run(r, 0, Date.now(), false);
    if (stop) throw new Error(`ingest stopped: ${stop.kind}`);
    const step = p.take(undefined);
    for (const c of step.counts) counted += c[1] + c[2];
    p.close(false, Date.now(), 60_000);
  }
  const ms = cpuMs() - t;
  if (counted !== values_.length) throw new Error(`counted ${counted} of ${values_.length}`);
  return ms;
}

const rows: { decode: number; ingest: number }[] = [];
for (let r = 0; r < ROUNDS + 1; r++) {
  const d = decodeOnly();
  const i = ingest();
  // The first round warms up the JIT.
  if (r > 0) rows.push({ decode: d, ingest: i });
}
const perCpuS = (ms: number) => Math.round(EVENTS / (ms / 1000));
const ratios = rows.map((x) => x.decode / x.ingest).sort((a, b) => a - b);
process.stdout.write(
  JSON.stringify(
    {
      events: EVENTS,
      rounds: rows.map((x) => ({ decodeOnlyPerCpuS: perCpuS(x.decode), ingestPerCpuS: perCpuS(x.ingest) })),
      ratio: { min: +ratios[0].toFixed(3), median: +ratios[Math.floor(ratios.length / 2)].toFixed(3), max: +ratios[ratios.length - 1].toFixed(3) },
    },
    null,
    2,
  ) + '\n',
);
process.exit(0);
