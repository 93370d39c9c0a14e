import { afterEach, describe, expect, it } from 'vitest';
import { MemoryModelRepository } from '../../../src/adapters/memory/memory-model-repository.js';
import { EventCodec } from '../../../src/adapters/registry/event-codec.js';
import { IngestWorkers } from '../../../src/app/ingest-workers.js';
import { modelConfigToJson } from '../../../src/core/model/model-config.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { SourceMessage } from '../../../src/ports/dead-letter-sink.js';
import { ModelCatalog } from '../../../src/stream/model-catalog.js';
import { DEFAULT_STREAM_LIMITS } from '../../../src/stream/stream-limits.js';
import { testModel, testReference } from '../core/windows/fixtures.js';

const T0 = Date.UTC(2026, 0, 1, 12);
const logger = createLogger('silent');
let pool: IngestWorkers | undefined;

afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

function message(offset: number, value: Buffer): SourceMessage {
  return { offset: String(offset), timestamp: String(T0), value, key: null, headers: undefined } as unknown as SourceMessage;
}

function eventOf(i: number): Buffer {
  return EventCodec.encodeJson({ eventId: `e${i}`, modelId: 'm1', timestamp: T0 + i, features: { x: 1, y: 10, region: 'north' }, score: 0.5, prediction: '1' });
}

describe('ingest workers', () => {
  it('replace the reference a worker holds when the model’s reference changes', async () => {
    const repo = new MemoryModelRepository();
    const model = testModel();
    await repo.putModel(modelConfigToJson(model));
    await repo.addReference('m1', 'ref-1', testReference(500, 1));
    const catalog = new ModelCatalog({ repository: repo, logger, autoRegister: false, now: () => T0 });
    await catalog.init([model]);
    pool = new IngestWorkers(1, { codec: { registryUrl: 'http://127.0.0.1:9/none' }, limits: DEFAULT_STREAM_LIMITS, dedup: undefined }, catalog, logger);
    const backend = pool.backend('t', 0);

    // The worker learns of a model from its first event: a model stop, then the retry brings the model.
    const first = await backend.run([message(0, eventOf(0))], undefined, T0, false);
    expect(first.stop?.kind).toBe('model');
    await backend.run(undefined, { kind: 'retry' }, T0, false);
    expect(await pool.references()).toEqual([[['m1', 'ref-1']]]);

    await repo.addReference('m1', 'ref-2', testReference(500, 2));
    await catalog.refresh();
    expect(catalog.get('m1')?.layout?.referenceId).toBe('ref-2');
    const next = await backend.run([message(1, eventOf(1))], undefined, T0, false);
    expect(next.stop).toBeUndefined();
    expect(next.counts).toEqual([['m1', 1, 0, T0 + 1]]);
    expect(await pool.references()).toEqual([[['m1', 'ref-2']]]);
  });
});
