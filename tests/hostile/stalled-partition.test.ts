// A partition whose processing is stuck (its pane coordinator stops answering, as a dependency that
// hangs would): the lag measured from the broker's offsets shows the waiting records instead of 0,
// the partition is reported stalled after the stall timeout, stop() still ends, and once the
// coordinator answers again the partition catches up and the report clears.
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCodec } from '../../src/adapters/registry/event-codec.js';
import { MemoryPaneCoordinator } from '../../src/adapters/memory/memory-pane-coordinator.js';
import { parseModelConfig } from '../../src/core/model/model-config.js';
import { createLogger } from '../../src/observability/logger.js';
import { startDetector, type DetectorHandle } from '../../src/app/detector.js';
import type { CompletePane, PaneProgress } from '../../src/ports/pane-coordinator.js';
import { testKafka } from '../support/kafka.js';
import { createStreamTopics, inference, rng, streamConfig, waitFor, type StreamTopics } from '../integration/stream/stream-support.js';

/** A memory coordinator that can be made to hang, like a store that stopped answering. */
class HangingCoordinator extends MemoryPaneCoordinator {
  hang = false;
  private release: (() => void) | undefined;
  override async report(progress: PaneProgress): Promise<CompletePane[]> {
    if (this.hang) await new Promise<void>((resolve) => (this.release = resolve));
    return super.report(progress);
  }
  answer(): void {
    this.hang = false;
    this.release?.();
  }
}

const kafka = testKafka();
let producer: Producer;
let topics: StreamTopics;
let handle: DetectorHandle | undefined;
const model = parseModelConfig({ modelId: 'stalling', features: { f0: 'numeric' }, windows: [{ name: '1m', size: '1m' }] });

beforeAll(async () => {
  producer = kafka.producer();
  await producer.connect();
  topics = await createStreamTopics(kafka, 'stall', 1);
});

afterAll(async () => {
  await handle?.stop().catch(() => undefined);
  await producer?.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
  await admin.disconnect();
});

describe('a stalled partition', () => {
  it('shows its lag from the broker, is reported stalled, and recovers', async () => {
    const coordinator = new HangingCoordinator(3_600_000);
    const config = streamConfig(topics, { DRIFTSTREAM_STALL_TIMEOUT: '3s' });
    handle = await startDetector(config, { coordinator, logger: createLogger('error') }, { models: [model] });
    await handle.joined;
    const r = rng(3);
    const send = (n: number, from: number) =>
      producer.send({ topic: topics.inference, messages: Array.from({ length: n }, (_, i) => ({ value: EventCodec.encodeJson({ ...inference('stalling', r, Date.now() - 60_000 + i, false, from + i), features: { f0: r() } }) })) });
    await send(100, 0);
    await waitFor(() => handle!.state.counters.consumed >= 100, 30_000, 'the first events counted');

    coordinator.hang = true;
    await send(1, 100); // this batch hangs in the coordinator
    await send(500, 101); // these wait behind it
    const lag = async () => (await handle!.metrics.consumerLag.get()).values.reduce((n, v) => n + v.value, 0);
    await waitFor(async () => (await lag()) >= 500, 30_000, 'lag from the broker offsets to show the waiting records');
    await waitFor(() => handle!.progress.stalledPartitions().length > 0, 30_000, 'the partition to be reported stalled');
    expect(handle.progress.stalledPartitions()).toEqual([{ topic: topics.inference, partition: 0, lag: expect.any(Number), stalledForMs: expect.any(Number) }]);
    expect(handle.progress.stalledPartitions()[0].lag).toBeGreaterThanOrEqual(500);

    coordinator.answer();
    await waitFor(() => handle!.state.counters.consumed >= 601, 30_000, 'the waiting events counted');
    await waitFor(async () => (await lag()) === 0 && handle!.progress.stalledPartitions().length === 0, 30_000, 'lag 0 and nothing stalled');

    // Stuck again, stop() still ends: the busy partition is left to replay from its checkpoint.
    coordinator.hang = true;
    await send(1, 601);
    await send(10, 602);
    await waitFor(async () => (await lag()) > 0, 30_000, 'records waiting again');
    const started = Date.now();
    await handle.stop();
    handle = undefined;
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 180_000);
});
