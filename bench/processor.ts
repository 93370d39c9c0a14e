// Detector processor throughput without Kafka: records (Avro in the Confluent wire format, or JSON)
// through InferenceProcessor.process — decode, validate, route, panes, pane close, coordinator,
// evaluation — with in-memory ports and no-op sinks. 20 numeric + 5 categorical features, one model,
// batches of 1,000 records as kafkajs hands them over. Needs the schema registry for the Avro run.
//
//   npx tsx bench/processor.ts [--events 300000]
import { EventCodec } from '../src/adapters/registry/event-codec.js';
import { MemoryAlertStateStore, MemoryCheckpointStore, MemoryModelRepository, MemoryPaneCoordinator, MemoryResultRepository } from '../src/adapters/memory/index.js';
import { parseModelConfig } from '../src/core/model/model-config.js';
import { ReferenceProfileBuilder, type ColumnType } from '../src/core/profile/reference-profile.js';
import { createLogger } from '../src/observability/logger.js';
import { createMetrics } from '../src/observability/metrics.js';
import { DetectorState } from '../src/stream/detector-state.js';
import { InferenceProcessor, type ProcessorContext } from '../src/stream/inference-processor.js';
import { ModelCatalog } from '../src/stream/model-catalog.js';
import type { SourceMessage } from '../src/ports/dead-letter-sink.js';
import { WindowEvaluator } from '../src/stream/window-evaluator.js';
import type { BenchLine } from './stats.js';
import { mulberry32, normalGenerator } from './random.js';

const NUMERIC = 20;
const CATEGORICAL = 5;
const CATEGORIES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
const REGISTRY = process.env.DRIFTSTREAM_SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7';

export async function benchProcessor(events = 300_000): Promise<BenchLine[]> {
  const features: Record<string, 'numeric' | 'categorical'> = {};
  for (let i = 0; i < NUMERIC; i++) features[`n${i}`] = 'numeric';
  for (let i = 0; i < CATEGORICAL; i++) features[`c${i}`] = 'categorical';
  const rnd = mulberry32(3);
  const g = normalGenerator(5);
  const row = () => {
    const f: Record<string, number | string> = {};
    for (let i = 0; i < NUMERIC; i++) f[`n${i}`] = g() + i;
    for (let i = 0; i < CATEGORICAL; i++) f[`c${i}`] = CATEGORIES[Math.floor(rnd() * CATEGORIES.length)];
    return f;
  };
  const model = parseModelConfig({ modelId: 'bench', features, windows: [{ name: '10s', size: '10s' }, { name: '1m', size: '1m', slide: '10s' }], allowedLateness: '2s' });
  const b = new ReferenceProfileBuilder({ ...features, score: 'numeric', prediction: 'categorical' } as Record<string, ColumnType>);
  for (let i = 0; i < 5000; i++) b.accept({ ...row(), score: rnd(), prediction: rnd() < 0.5 ? '1' : '0' });
  const profile = b.build({ createdAt: 0, id: 'bench-ref', modelId: 'bench' });

  const codec = new EventCodec({ registryUrl: REGISTRY });
  const schemaId = await codec.register(`bench-processor-${Date.now()}-value`, 'InferenceEvent');
  const t0 = Date.UTC(2026, 0, 1);
  const distinct = 20_000;
  const make = (i: number) => ({ eventId: `e${i}`, modelId: 'bench', modelVersion: 'v1', timestamp: t0, features: row(), prediction: rnd() < 0.5 ? '1' : '0', score: rnd(), attributes: {} });
  const bodies = Array.from({ length: distinct }, (_, i) => make(i));

  const lines: BenchLine[] = [];
  for (const format of ['avro', 'json'] as const) {
    const logger = createLogger('silent');
    const metrics = createMetrics({ defaultMetrics: false });
    const repo = new MemoryModelRepository();
    const catalog = new ModelCatalog({ repository: repo, logger, autoRegister: false });
    await repo.putModel({ modelId: 'bench', features, windows: [{ name: '10s', size: '10s' }, { name: '1m', size: '1m', slide: '10s' }], allowedLateness: '2s' });
    await repo.addReference('bench', profile.id, profile);
    await catalog.init([model]);
    const coordinator = new MemoryPaneCoordinator(3_600_000);
    const state = new DetectorState(catalog);
    const sink = { publishAlerts: async () => {}, publishEvaluations: async () => {} };
    const evaluator = new WindowEvaluator({ catalog, coordinator, alertState: new MemoryAlertStateStore(), sink, results: new MemoryResultRepository(), state, metrics, logger });
    const ctx: ProcessorContext = {
      groupId: 'bench', catalog, decoder: codec, coordinator, evaluator, checkpoints: new MemoryCheckpointStore(),
      deadLetters: { send: async () => {} }, state, metrics, logger, policy: 'dlq', idleTimeoutMs: 30_000, now: Date.now,
    };
    const p = new InferenceProcessor('bench', 0, 1, ctx);
    // Event time advances 1 ms per event: a 10 s pane closes every 10,000 events.
    const messages: SourceMessage[] = new Array(events);
    for (let i = 0; i < events; i++) {
      const e = { ...bodies[i % distinct], timestamp: t0 + i };
      messages[i] = { offset: String(i), key: null, value: format === 'avro' ? codec.encode(schemaId, e) : EventCodec.encodeJson(e), timestamp: String(t0), headers: {} };
    }
    const control = { heartbeat: async () => {}, isRunning: () => true };
    const cpu0 = process.cpuUsage();
    const w0 = performance.now();
    for (let i = 0; i < events; i += 1000) await p.process(messages.slice(i, i + 1000), control);
    const wall = (performance.now() - w0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSec = (cpu.user + cpu.system) / 1e6;
    lines.push({ name: `detector processor, ${format}, 20 numeric + 5 categorical, events/s (CPU time)`, value: events / cpuSec, unit: 'events/s', note: `${state.counters.evaluations} evaluations; wall ${(events / wall).toFixed(0)}/s` });
    if (state.counters.consumed !== events) throw new Error(`counted ${state.counters.consumed} of ${events}`);
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--events');
  for (const l of await benchProcessor(i > 0 ? Number(process.argv[i + 1]) : undefined)) console.log(`${l.name.padEnd(80)} ${Math.round(l.value).toLocaleString('en-US')} ${l.unit}  (${l.note})`);
}
