import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { PartitionWindowsJSON } from '../core/windows/partition-windows.js';
import { UnavailableError } from '../errors.js';
import type { SourceMessage } from '../ports/dead-letter-sink.js';
import type { IngestBackend, IngestSnapshot } from '../stream/ingest-backend.js';
import type { ModelCatalog } from '../stream/model-catalog.js';
import type { DedupStateJSON } from '../stream/event-deduplicator.js';
import type { ClosedReport, IngestResolution, IngestStep, RestoreReport } from '../stream/partition-ingest.js';
import { describeUndecodableBatch, undecodableBatchOf } from '../stream/undecodable-batch.js';
import { ModelSyncSender } from './ingest-model-sync.js';
import type { IngestReply, IngestRequest, IngestWorkerData, PackedRecords } from './ingest-protocol.js';

/** The number of ingest workers `DRIFTSTREAM_WORKERS` asks for: -1 is one per core. */
export function ingestWorkerCount(setting: number): number {
  return setting < 0 ? availableParallelism() : setting;
}

/**
 * The worker's entry: the compiled file, or the TypeScript source run through tsx (development,
 * tests). A worker inherits the process's Node options (tsx among them, when the process was started
 * with it); only under a runner that transforms TypeScript itself (vitest) is tsx added.
 */
function workerEntry(): { url: URL; execArgv?: string[] } {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return { url: new URL('./ingest-worker.js', here) };
  const url = new URL('./ingest-worker.ts', here);
  if (process.execArgv.some((a) => a.includes('tsx'))) return { url };
  return { url, execArgv: ['--import', pathToFileURL(createRequire(here).resolve('tsx')).href] };
}

/** One ingest worker thread: its requests in flight and the models it has been given. */
class IngestWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private seq = 0;
  private failed: Error | undefined;
  /** What the worker holds: the model changes it must take before a run or restore. */
  readonly models: ModelSyncSender;

  constructor(
    readonly index: number,
    data: IngestWorkerData,
    catalog: ModelCatalog,
    private readonly logger: Logger,
  ) {
    this.models = new ModelSyncSender(catalog);
    const { url, execArgv } = workerEntry();
    this.worker = new Worker(url, { workerData: data, ...(execArgv ? { execArgv } : {}), name: `ingest-${index}` });
    this.worker.on('message', (reply: IngestReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if ('error' in reply) p.reject(reply.error.unavailable ? new UnavailableError('schema-registry', reply.error.message) : new Error(`ingest worker ${index}: ${reply.error.message}`));
      else p.resolve(reply.result);
    });
    const fail = (err: Error): void => {
      this.failed ??= err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', (err: Error) => {
      this.logger.error({ err, worker: index }, 'ingest worker failed');
      fail(err);
    });
    this.worker.on('exit', (code) => fail(new Error(`ingest worker ${index} exited with code ${code}`)));
  }

  call<T>(req: IngestRequest, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.failed) return Promise.reject(this.failed);
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, req }, transfer);
    });
  }

  async terminate(): Promise<void> {
    this.failed ??= new Error(`ingest worker ${this.index} was stopped`);
    await this.worker.terminate();
  }
}

/** Copies a batch's values into one buffer whose memory moves to the worker (no second copy). */
function pack(messages: readonly SourceMessage[], topic: string, partition: number): { records: PackedRecords; transfer: ArrayBuffer[] } {
  const n = messages.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += messages[i].value?.length ?? 0;
  const bytes = new Uint8Array(total);
  const lengths = new Int32Array(n);
  const offsets = new Float64Array(n);
  const timestamps = new Float64Array(n);
  const standIns: [number, string][] = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    const m = messages[i];
    offsets[i] = Number(m.offset);
    timestamps[i] = Number(m.timestamp);
    if (m.value === null || m.value === undefined) lengths[i] = -1;
    else {
      bytes.set(m.value, at);
      at += m.value.length;
      lengths[i] = m.value.length;
    }
    if (m.headers !== undefined) {
      const b = undecodableBatchOf(m);
      if (b !== undefined) standIns.push([i, b.first ? describeUndecodableBatch(topic, partition, b) : '']);
    }
  }
  return { records: { bytes, lengths, offsets, timestamps, standIns }, transfer: [bytes.buffer, lengths.buffer, offsets.buffer, timestamps.buffer] };
}

/** A partition whose per-event work runs on an ingest worker. */
class WorkerIngest implements IngestBackend {
  private static opened = 0;
  /** The partition and this opening of it: a reassigned partition never meets its predecessor's state. */
  private readonly key: string;
  /** The model whose layout the batch waits for (after a model stop). */
  private waitingFor: string | undefined;

  constructor(
    private readonly worker: IngestWorker,
    private readonly topic: string,
    private readonly partition: number,
  ) {
    this.key = `${topic}/${partition}#${++WorkerIngest.opened}`;
  }

  async run(records: readonly SourceMessage[] | undefined, resolution: IngestResolution | undefined, now: number, failFast: boolean): Promise<IngestStep> {
    const wanted = resolution?.kind === 'retry' && this.waitingFor !== undefined ? [this.waitingFor] : [];
    const models = this.worker.models.sync(wanted);
    const packed = records && pack(records, this.topic, this.partition);
    const step = await this.worker.call<IngestStep>({ op: 'run', key: this.key, models, records: packed?.records, resolution, now, failFast }, packed?.transfer);
    this.waitingFor = step.stop?.kind === 'model' ? step.stop.event.modelId : undefined;
    return step;
  }

  fetchSchema(index: number): Promise<IngestResolution> {
    return this.worker.call({ op: 'fetchSchema', key: this.key, index });
  }

  close(idle: boolean, now: number, idleTimeoutMs: number): Promise<ClosedReport | undefined> {
    return this.worker.call({ op: 'close', key: this.key, idle, now, idleTimeoutMs });
  }

  snapshot(): Promise<IngestSnapshot> {
    return this.worker.call({ op: 'snapshot', key: this.key });
  }

  restore(windows: PartitionWindowsJSON, dedup: DedupStateJSON | undefined, next: number, savedAt: number, now: number): Promise<RestoreReport> {
    const models = this.worker.models.syncForRestore(windows);
    return this.worker.call({ op: 'restore', key: this.key, models, windows, dedup, next, savedAt, now });
  }

  release(): void {
    this.worker.call({ op: 'release', key: this.key }).catch(() => {});
  }
}

/**
 * The ingest workers of a detector (`DRIFTSTREAM_WORKERS`): partition p's
 * per-event work runs on worker p mod n, which owns its panes. The main
 * thread keeps Kafka, the catalog, the coordinator, evaluation, label-join
 * writes, checkpoints and HTTP.
 */
export class IngestWorkers {
  private readonly workers: IngestWorker[];

  constructor(
    count: number,
    data: IngestWorkerData,
    catalog: ModelCatalog,
    logger: Logger,
  ) {
    this.workers = Array.from({ length: count }, (_, i) => new IngestWorker(i, data, catalog, logger));
  }

  get size(): number {
    return this.workers.length;
  }

  /** The backend of one partition (for ProcessorContext.ingestBackend). */
  backend(topic: string, partition: number): IngestBackend {
    return new WorkerIngest(this.workers[partition % this.workers.length], topic, partition);
  }

  /** The references each worker holds, as `[modelId, referenceId]` pairs (for tests and diagnostics). */
  references(): Promise<[string, string][][]> {
    return Promise.all(this.workers.map((w) => w.call<[string, string][]>({ op: 'references' })));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
