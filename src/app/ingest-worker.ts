import { parentPort, workerData } from 'node:worker_threads';
import { EventCodec } from '../adapters/registry/event-codec.js';
import { UnavailableError } from '../errors.js';
import { fetchSchemaOf, IngestCursor } from '../stream/ingest-backend.js';
import { PartitionIngest, type IngestRecords } from '../stream/partition-ingest.js';
import { WorkerModels } from './ingest-model-sync.js';
import type { IngestReply, IngestRequest, IngestWorkerData, ModelSync, PackedRecords } from './ingest-protocol.js';

/*
 * An ingest worker (src/app/ingest-workers.ts starts it): owns the panes of
 * the partitions the main thread hands it, decodes, validates and counts their
 * records, and answers with what the main thread needs.
 */

const data = workerData as IngestWorkerData;
const codec = new EventCodec(data.codec);
const models = new WorkerModels();
const cursors = new Map<string, IngestCursor>();

/** Takes the main thread's model changes; `keep`: the references only a restore in the same request needs stay until it is done. */
function applyModels(sync: readonly ModelSync[], keep = false): void {
  if (sync.length === 0) return;
  models.apply(sync);
  if (!keep) models.evict();
}

function cursorOf(key: string, now: number): IngestCursor {
  let c = cursors.get(key);
  if (c === undefined) {
    // The key is `topic/partition#opening`; panes name their source `topic/partition`.
    const source = key.slice(0, key.lastIndexOf('#'));
    cursors.set(key, (c = new IngestCursor(new PartitionIngest(source, codec, models, now, data.limits, data.dedup))));
  }
  return c;
}

function unpack(p: PackedRecords): IngestRecords {
  const starts = new Int32Array(p.lengths.length);
  let at = 0;
  for (let i = 0; i < p.lengths.length; i++) {
    starts[i] = at;
    if (p.lengths[i] > 0) at += p.lengths[i];
  }
  const standIns = new Map(p.standIns);
  let cachedIndex = -1;
  let cached: Buffer | null = null;
  return {
    length: p.lengths.length,
    offset: (i) => p.offsets[i],
    timestamp: (i) => p.timestamps[i],
    value: (i) => {
      if (i !== cachedIndex) {
        cachedIndex = i;
        cached = p.lengths[i] < 0 ? null : Buffer.from(p.bytes.buffer, p.bytes.byteOffset + starts[i], p.lengths[i]);
      }
      return cached;
    },
    standIn: (i) => (standIns.size === 0 ? undefined : standIns.get(i)),
  };
}

async function handle(req: IngestRequest): Promise<unknown> {
  switch (req.op) {
    case 'run': {
      applyModels(req.models);
      return cursorOf(req.key, req.now).run(req.records && unpack(req.records), req.resolution, req.now, req.failFast);
    }
    case 'fetchSchema':
      return fetchSchemaOf(codec, cursors.get(req.key)?.current?.value(req.index));
    case 'close':
      return cursors.get(req.key)?.ingest.close(req.idle, req.now, req.idleTimeoutMs);
    case 'snapshot':
      return cursors.get(req.key)?.ingest.snapshot() ?? { next: undefined, windows: { v: 1, clock: null, models: {} } };
    case 'restore': {
      applyModels(req.models, true);
      const ingest = cursorOf(req.key, req.now).ingest;
      const report = ingest.restore(req.windows, req.dedup, req.next, req.savedAt, req.now, (m, r) => models.layoutFor(m, r));
      models.evict();
      return report;
    }
    case 'release':
      cursors.delete(req.key);
      return undefined;
    case 'references':
      return models.references();
  }
}

parentPort!.on('message', (msg: { id: number; req: IngestRequest }) => {
  handle(msg.req).then(
    (result) => parentPort!.postMessage({ id: msg.id, result } satisfies IngestReply),
    (err: unknown) => {
      const e = err as Error;
      parentPort!.postMessage({ id: msg.id, error: { message: e?.stack ?? String(err), unavailable: err instanceof UnavailableError } } satisfies IngestReply);
    },
  );
});
