import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../../src/core/model/model-config.js';
import type { InferenceEvent } from '../../../src/core/events.js';
import { InferenceProcessor } from '../../../src/stream/inference-processor.js';
import { ModelCatalog } from '../../../src/stream/model-catalog.js';
import { buildReference } from '../../../src/stream/reference-bootstrap.js';
import { DEFAULT_STREAM_LIMITS } from '../../../src/stream/stream-limits.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { row, rng } from '../core/windows/fixtures.js';
import { Harness, T0, control } from './harness.js';

const model = parseModelConfig({
  modelId: 'm1',
  features: { x: 'numeric', y: 'numeric', region: 'categorical' },
  windows: [{ name: '10s', size: '10s' }],
  allowedLateness: '2s',
});

function event(r: () => number, ts: number, i: number, modelId = 'm1'): InferenceEvent {
  const e = row(r);
  return { eventId: `e${i}`, modelId, modelVersion: 'v1', timestamp: ts, features: e.features, prediction: e.prediction, score: e.score, attributes: {} };
}

async function withReference(h: Harness): Promise<Harness> {
  const r = rng(1);
  const rows = Array.from({ length: 2000 }, () => row(r));
  const profile = buildReference(model, { ...model.features }, rows, { hasScore: true, predictionType: 'categorical' }, { createdAt: 0, id: 'ref-1' });
  await h.repo.putModel({ modelId: 'm1' });
  await h.repo.addReference('m1', 'ref-1', profile);
  return h.init([model]);
}

describe('stream limits', () => {
  it('dead-letters an event stamped far in the future as future_timestamp; it never moves the clock', async () => {
    const h = await withReference(new Harness({ autoRegister: false }));
    const p = h.processor();
    const r = rng(2);
    const poison = { ...event(r, Date.UTC(2199, 0, 1), 999) };
    const events = [...Array.from({ length: 100 }, (_, i) => event(r, T0 + i * 10, i)), poison, ...Array.from({ length: 100 }, (_, i) => event(r, T0 + 1000 + i * 10, 100 + i))];
    await p.process(h.messages(0, events), control);
    expect(h.dead.map((d) => d.reason)).toEqual(['future_timestamp']);
    expect(h.dead[0].record.offset).toBe('100');
    // No event was counted late and the clock is that of the valid events.
    expect(h.state.counters.late).toBe(0);
    expect(h.state.counters.consumed).toBe(200);
    const cp = await p.checkpoint();
    expect(cp!.watermark).toBe(T0 + 1000 + 99 * 10);
    // Within the skew of the record's timestamp is fine.
    await p.process(h.messages(0, [event(r, T0 + DEFAULT_STREAM_LIMITS.maxFutureSkewMs - 1, 300)]), control);
    expect(h.dead).toHaveLength(1);
  });

  it('repairs a checkpoint whose clock an older version let a future event poison', async () => {
    const h = await withReference(new Harness({ autoRegister: false }));
    const r = rng(3);
    const first = h.processor();
    await first.process(h.messages(0, Array.from({ length: 50 }, (_, i) => event(r, T0 + i * 10, i))), control);
    const cp = await first.checkpoint();
    // What an older version wrote after a 2199 event: the clock and the closed-up-to mark in 2199.
    const poisoned = structuredClone(cp!) as typeof cp & { state: { windows: { clock: number; models: Record<string, { closedUpTo: number }> } } };
    const far = Date.UTC(2199, 0, 1);
    poisoned.state.windows.clock = far;
    for (const m of Object.values(poisoned.state.windows.models)) m.closedUpTo = far - 2000;
    await h.checkpoints.saveCheckpoint('g', poisoned);
    const second = h.processor();
    await second.init(await h.checkpoints.loadCheckpoint('g', 't', 0));
    await second.process(h.messages(0, Array.from({ length: 50 }, (_, i) => event(r, T0 + 500 + i * 10, 50 + i))), control);
    expect(h.state.counters.late).toBe(0);
    expect(h.state.counters.consumed).toBe(100);
    expect((await second.checkpoint())!.watermark).toBeLessThan(T0 + 60_000);
  });

  it('dead-letters over-long and NUL-carrying string values with their own reasons', async () => {
    const h = await withReference(new Harness({ autoRegister: false }));
    const p = new InferenceProcessor('t', 0, 1, { ...h.ctx, limits: { ...DEFAULT_STREAM_LIMITS, maxStringBytes: 64 } });
    const r = rng(4);
    const long = event(r, T0, 1);
    long.features = { ...long.features, region: 'x'.repeat(65) };
    const nul = event(r, T0, 2);
    nul.features = { ...nul.features, region: 'no\u0000rth' };
    const fine = event(r, T0, 3);
    fine.features = { ...fine.features, region: 'é'.repeat(32) }; // 64 bytes exactly
    await p.process(h.messages(0, [long, nul, fine]), control);
    expect(h.dead.map((d) => d.reason)).toEqual(['value_too_long', 'control_character']);
    expect(h.state.counters.consumed).toBe(1);
  });

  it('refuses auto-registration beyond the model limits and events with too many features', async () => {
    const h = new Harness();
    const catalog = new ModelCatalog({ repository: h.repo, logger: h.logger, autoRegister: true, maxAutoRegistered: 2 });
    await catalog.init();
    const p = new InferenceProcessor('t', 0, 1, { ...h.ctx, catalog, limits: { ...DEFAULT_STREAM_LIMITS, maxAutoFeatures: 5 } });
    const r = rng(5);
    const wide = event(r, T0, 10, 'wide');
    wide.features = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`f${i}`, i]));
    await p.process(h.messages(0, [event(r, T0, 1, 'a'), event(r, T0, 2, 'b'), event(r, T0, 3, 'c'), wide, event(r, T0, 4, 'a')]), control);
    expect(h.dead.map((d) => d.reason)).toEqual(['model_limit', 'too_many_features']);
    expect(h.dead[0].message).toMatch(/2 models are auto-registered already/);
    expect(h.dead[1].message).toMatch(/6 features, more than the 5/);
    const q = new InferenceProcessor('t', 1, 1, { ...h.ctx, limits: { ...DEFAULT_STREAM_LIMITS, maxAutoFeatures: 5 } });
    await q.process(h.messages(1, [wide]), control);
    // Refused before registration: the model is not created by an event that cannot be counted.
    expect(h.dead.map((d) => d.reason)).toEqual(['model_limit', 'too_many_features', 'too_many_features']);
    await catalog.flush();
    expect((await h.repo.listModels()).map((m) => m.modelId)).toEqual(['a', 'b']);
  });

  it('never lets auto-registration replace a model declared meanwhile; its types are enforced', async () => {
    const h = new Harness();
    await h.init();
    // Declared over the API after this detector's last refresh: the detector does not know it yet.
    await h.repo.putModel({ modelId: 'credit', features: { age: 'numeric' } });
    const p = h.processor();
    const ev = (i: number, age: unknown) => ({ eventId: `c${i}`, modelId: 'credit', timestamp: T0 + i, features: { age }, score: 0.5 });
    await p.process(h.messages(0, [ev(0, 'forty') as unknown as InferenceEvent]), control);
    await h.catalog.flush();
    expect(await h.repo.getModel('credit')).toEqual({ modelId: 'credit', features: { age: 'numeric' } });
    await p.process(h.messages(0, [ev(1, 'fifty') as unknown as InferenceEvent, ev(2, 41) as unknown as InferenceEvent]), control);
    expect(h.dead.map((d) => d.reason)).toEqual(['type_mismatch']);
    expect(h.catalog.get('credit')!.config.autoRegistered).toBe(false);
    expect(h.catalog.get('credit')!.config.features).toEqual({ age: 'numeric' });
  });

  it('gives the first N models their own series and sums the rest under model="__other__"', async () => {
    const h = await new Harness().init();
    const metrics = createMetrics({ defaultMetrics: false, maxModelSeries: 2 });
    const p = new InferenceProcessor('t', 0, 1, { ...h.ctx, metrics });
    const r = rng(6);
    const models = ['a', 'b', 'c', 'd', 'e'];
    await p.process(h.messages(0, models.flatMap((m, k) => Array.from({ length: k + 1 }, (_, i) => event(r, T0 + i, k * 10 + i, m)))), control);
    const consumed = (await metrics.eventsConsumed.get()).values.map((v) => [v.labels.model, v.value]);
    expect(Object.fromEntries(consumed)).toEqual({ a: 1, b: 2, __other__: 3 + 4 + 5 });
  });

  it('drops eventIds seen again within the de-duplication window and counts them', async () => {
    const h = await withReference(new Harness({ autoRegister: false }));
    const p = new InferenceProcessor('t', 0, 1, { ...h.ctx, dedup: { windowMs: 60_000, capacity: 10_000 } });
    const r = rng(7);
    const once = Array.from({ length: 200 }, (_, i) => event(r, T0 + i, i));
    await p.process(h.messages(0, [...once, ...once.slice(0, 50).map((e) => ({ ...e, timestamp: e.timestamp + 1 }))]), control);
    expect(h.state.counters.consumed).toBe(200);
    expect((await h.metrics.duplicates.get()).values[0].value).toBe(50);
    // Past two windows the ids are forgotten: the same id counts again.
    h.now += 120_001;
    await p.process(h.messages(0, [{ ...once[0], timestamp: T0 + 130_000 }]), control);
    expect(h.state.counters.consumed).toBe(201);
    // Off by default: 200 events with one eventId count 200 times, as before.
    const q = h.processor(1);
    await q.process(h.messages(1, Array.from({ length: 20 }, (_, i) => ({ ...event(r, T0 + 130_000 + i, 7), eventId: 'same' }))), control);
    expect(h.state.counters.consumed).toBe(221);
  });

  it('keeps the de-duplication filter in the checkpoint: a restored partition still knows the ids it counted', async () => {
    const h = await withReference(new Harness({ autoRegister: false }));
    const dedup = { windowMs: 60_000, capacity: 10_000 };
    const r = rng(8);
    const once = Array.from({ length: 100 }, (_, i) => event(r, T0 + i, i));
    const p = new InferenceProcessor('t', 0, 1, { ...h.ctx, dedup });
    await p.process(h.messages(0, once), control);
    const cp = await p.checkpoint();
    expect(cp).toBeDefined();
    // The checkpoint goes through JSON, as in Redis.
    const restored = JSON.parse(JSON.stringify(cp));
    const q = new InferenceProcessor('t', 0, 1, { ...h.ctx, dedup });
    await q.init(restored);
    // Records after the checkpoint: 30 duplicates of ids counted before it and 20 new ids.
    const later = [...once.slice(0, 30).map((e) => ({ ...e, timestamp: e.timestamp + 1 })), ...Array.from({ length: 20 }, (_, i) => event(r, T0 + 200 + i, 100 + i))];
    await q.process(h.messages(0, later), control);
    expect(h.state.counters.consumed).toBe(120);
    expect((await h.metrics.duplicates.get()).values[0].value).toBe(30);

    // A checkpoint of an older version (no filter) or of another capacity still loads, with an empty filter.
    for (const state of [{ ...restored.state, dedup: undefined }, restored.state]) {
      const other = new InferenceProcessor('t', 0, 1, { ...h.ctx, dedup: { windowMs: 60_000, capacity: 20_000 } });
      await other.init({ ...restored, state });
      expect(other.nextOffset).toBe('100');
      const before = h.state.counters.consumed;
      await other.process(h.messages(0, once.slice(0, 5).map((e) => ({ ...e, timestamp: e.timestamp + 2 }))), control);
      expect(h.state.counters.consumed - before).toBe(5);
    }
  });
});
