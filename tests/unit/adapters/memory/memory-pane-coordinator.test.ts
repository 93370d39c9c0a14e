import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryPaneCoordinator } from '../../../../src/adapters/memory/memory-pane-coordinator.js';

const partial = (partition: number, n: number) => ({
  modelId: 'm',
  paneStart: 0,
  paneEnd: 60_000,
  topic: 't',
  partition,
  state: { r: 'ref', n, values: [n, n + 0.5] },
});

describe('MemoryPaneCoordinator complete panes', () => {
  afterEach(() => vi.restoreAllMocks());

  it('hands out partials as the text it holds, parsed once when the evaluator first reads them', async () => {
    const c = new MemoryPaneCoordinator();
    expect(await c.report({ topic: 't', partition: 0, partitionCount: 2, watermark: 60_000, idle: false, partials: [partial(0, 3)] })).toEqual([]);
    const parse = vi.spyOn(JSON, 'parse');
    const [pane] = await c.report({ topic: 't', partition: 1, partitionCount: 2, watermark: 60_000, idle: false, partials: [partial(1, 4)] });
    // Not parsed yet: a pane waiting in the evaluation queue costs no parsed copy.
    expect(pane).toBeDefined();
    expect(pane.paneStart).toBe(0);
    expect(parse).not.toHaveBeenCalled();
    expect(pane.partials).toEqual([partial(0, 3).state, partial(1, 4).state]);
    expect(parse).toHaveBeenCalledTimes(2);
    // Read again (the evaluator reads them more than once): the same objects, not parsed again.
    expect(pane.partials[0]).toBe(pane.partials[0]);
    expect(parse).toHaveBeenCalledTimes(2);
  });

  it('still hands out the partials of a pane asked for later (panes)', async () => {
    const c = new MemoryPaneCoordinator();
    await c.report({ topic: 't', partition: 0, partitionCount: 1, watermark: 60_000, idle: false, partials: [partial(0, 7)] });
    const [pane] = await c.panes('m', 0, 60_000);
    expect(pane.partials).toEqual([partial(0, 7).state]);
  });
});
