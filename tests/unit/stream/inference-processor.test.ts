import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../../src/core/model/model-config.js';
import type { InferenceEvent } from '../../../src/core/events.js';
import { ProcessingFailedError } from '../../../src/stream/processing-error-policy.js';
import { buildReference } from '../../../src/stream/reference-bootstrap.js';
import { row, rng } from '../core/windows/fixtures.js';
import { Harness, T0, control } from './harness.js';

const model = parseModelConfig({
  modelId: 'm1',
  features: { x: 'numeric', y: 'numeric', region: 'categorical' },
  windows: [{ name: '10s', size: '10s' }, { name: '30s', size: '30s', slide: '10s' }],
  allowedLateness: '2s',
  resolveAfter: 2,
});

function event(r: () => number, ts: number, i: number, opts: { shift?: number; modelId?: string } = {}): InferenceEvent {
  const e = row(r, opts);
  return { eventId: `e${i}`, modelId: opts.modelId ?? 'm1', modelVersion: 'v1', timestamp: ts, features: e.features, prediction: e.prediction, score: e.score, attributes: {} };
}

async function withReference(h: Harness): Promise<Harness> {
  const r = rng(1);
  const rows = Array.from({ length: 5000 }, () => row(r));
  const profile = buildReference(model, { ...model.features }, rows, { hasScore: true, predictionType: 'categorical' }, { createdAt: 0, id: 'ref-1' });
  await h.repo.putModel({ modelId: 'm1' });
  await h.repo.addReference('m1', 'ref-1', profile);
  return h.init([model]);
}

/** `n` events spread evenly over [from, from + spanMs). */
function traffic(r: () => number, from: number, spanMs: number, n: number, opts: { shift?: number } = {}, start = 0): InferenceEvent[] {
  return Array.from({ length: n }, (_, i) => event(r, from + Math.floor((i * spanMs) / n), start + i, opts));
}

describe('InferenceProcessor', () => {
  it('counts events into panes and evaluates every window when the watermark passes a pane', async () => {
    const h = await withReference(new Harness());
    const p = h.processor();
    const r = rng(2);
    await p.process(h.messages(0, traffic(r, T0, 10_000, 1000)), control);
    expect(h.published.evaluations).toEqual([]);
    await p.process(h.messages(0, traffic(r, T0 + 10_000, 2_100, 210)), control); // clock T0 + 12.09 s: watermark past T0 + 10 s
    expect(h.published.evaluations.map((e) => [e.windowName, e.windowStart, e.sampleSize])).toEqual([
      ['10s', T0, 1000],
      ['30s', T0 - 20_000, 1000],
    ]);
    expect(h.published.alerts).toEqual([]);
    expect(h.state.counters.consumed).toBe(1210);
    expect(h.state.modelStatus('m1')).toMatchObject({ status: 'ok', eventsConsumed: 1210, referenceId: 'ref-1' });
  });

  it('alerts on drift and resolves it after resolveAfter clean windows', async () => {
    const h = await withReference(new Harness());
    const p = h.processor();
    const r = rng(3);
    for (let k = 0; k < 6; k++) {
      await p.process(h.messages(0, traffic(r, T0 + k * 10_000, 10_000, 1000, { shift: k === 1 ? 1.5 : 0 }, k * 1000)), control);
    }
    await p.process(h.messages(0, [event(r, T0 + 70_000, 99_999)]), control);
    const tumbling = h.published.alerts.filter((a) => a.windowName === '10s');
    expect(tumbling.filter((a) => a.kind === 'FEATURE_DRIFT').map((a) => `${a.feature}:${a.status}`)).toEqual(['x:FIRING', 'x:RESOLVED']);
    const fired = tumbling.find((a) => a.status === 'FIRING')!;
    expect(fired.windowStart).toBe(T0 + 10_000);
    expect(tumbling.find((a) => a.status === 'RESOLVED' && a.alertId === fired.alertId)!.windowStart).toBe(T0 + 30_000);
    expect((await h.results.listAlerts({ modelId: 'm1' })).alerts.length).toBe(h.published.alerts.length);
  });

  it('dead-letters malformed records and type contradictions with their reason, and counts late events', async () => {
    const h = await withReference(new Harness());
    const p = h.processor();
    const r = rng(4);
    const good = traffic(r, T0, 5000, 10);
    const wrongType = { ...event(r, T0 + 100, 50), features: { x: 'high', y: 1, region: 'north' } };
    await p.process(h.messages(0, [...good, '{"eventId":', null, wrongType, { ...event(r, T0, 51), timestamp: 12 }]), control);
    expect(h.dead.map((d) => d.reason)).toEqual(['bad_json', 'empty_value', 'type_mismatch', 'invalid_event']);
    expect(h.dead[2].message).toMatch(/feature "x" is string, model m1 declares it numeric/);
    expect(h.dead[0].record).toMatchObject({ topic: 't', partition: 0, offset: '10' });
    await p.process(h.messages(0, [event(r, T0 + 20_000, 60)]), control);
    await p.process(h.messages(0, [event(r, T0 + 1_000, 61)]), control);
    expect(h.state.counters.late).toBe(1);
    expect(h.state.counters.consumed).toBe(11);
    expect(h.published.evaluations[0].dataQuality?.typeErrors).toBe(1);
    const invalid = await h.metrics.registry.getSingleMetric('driftstream_events_invalid_total')!.get();
    expect(invalid.values.map((v) => [v.labels.reason, v.value]).sort()).toEqual([['bad_json', 1], ['empty_value', 1], ['invalid_event', 1], ['type_mismatch', 1]]);
  });

  it('stops on the first bad record under the fail policy', async () => {
    const h = await withReference(new Harness({ policy: 'fail' }));
    const p = h.processor();
    await expect(p.process(h.messages(0, ['not json']), control)).rejects.toBeInstanceOf(ProcessingFailedError);
  });

  it('dead-letters unknown models when auto-registration is off', async () => {
    const h = await withReference(new Harness({ autoRegister: false }));
    await h.processor().process(h.messages(0, [event(rng(5), T0, 1, { modelId: 'other' })]), control);
    expect(h.dead.map((d) => d.reason)).toEqual(['unknown_model']);
  });

  it('auto-registers an unknown model, warms up from its first events, then evaluates against the bootstrapped reference', async () => {
    const h = await new Harness().init();
    const p = h.processor();
    const r = rng(6);
    const auto = (ts: number, i: number) => ({ ...event(r, ts, i, { modelId: 'auto' }) });
    await p.process(h.messages(0, Array.from({ length: 3000 }, (_, i) => auto(T0 + i * 10, i))), control);
    expect(h.state.modelStatus('auto')).toMatchObject({ status: 'warming_up', bootstrap: { collected: 3000, target: 5000 } });
    await p.process(h.messages(0, Array.from({ length: 2000 }, (_, i) => auto(T0 + 30_000 + i * 10, 3000 + i))), control);
    expect(h.state.modelStatus('auto')?.status).toBe('ok');
    await h.catalog.flush();
    const stored = await h.repo.getModel('auto');
    expect(stored).toMatchObject({ modelId: 'auto', autoRegistered: true, features: { x: 'numeric', y: 'numeric', region: 'categorical' } });
    const ref = await h.repo.latestReference('auto');
    expect(ref?.profile).toMatchObject({ rows: 5000 });
    // Warm-up events make the reference, not windows: the first window starts after it.
    await p.process(h.messages(0, Array.from({ length: 400 }, (_, i) => auto(T0 + 60_000 + i * 300, 5000 + i))), control);
    expect(h.published.evaluations.length).toBeGreaterThan(0);
    expect(h.published.evaluations.every((e) => e.windowStart >= T0 + 60_000 && e.referenceId === ref!.referenceId)).toBe(true);
  });

  it('restores a checkpoint and skips replayed records, so each event counts once', async () => {
    const r = rng(8);
    const events = traffic(r, T0, 25_000, 2500);
    const tail = [event(r, T0 + 40_000, 9999)];

    const straight = await withReference(new Harness());
    const sp = straight.processor();
    await sp.process(straight.messages(0, events), control);
    await sp.process(straight.messages(0, tail), control);

    const h = await withReference(new Harness());
    const first = h.processor();
    const msgs = h.messages(0, events);
    await first.process(msgs.slice(0, 1200), control);
    const cp = await first.checkpoint();
    expect(cp).toMatchObject({ topic: 't', partition: 0, nextOffset: '1200' });
    await first.process(msgs.slice(1200, 1800), control); // processed, but not checkpointed: lost in the crash
    await first.close();
    const second = h.processor();
    await second.init(await h.checkpoints.loadCheckpoint('g', 't', 0));
    expect(second.nextOffset).toBe('1200');
    await second.process(msgs.slice(0, 1800), control); // the replay starts before the checkpoint too
    await second.process(msgs.slice(1800), control);
    await second.process(h.messages(0, tail), control);

    const key = (e: { windowName: string; windowStart: number }) => `${e.windowName}@${e.windowStart}`;
    const want = new Map(straight.published.evaluations.map((e) => [key(e), e]));
    const got = new Map(h.published.evaluations.map((e) => [key(e), e]));
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [k, e] of want) {
      expect(got.get(k)!.sampleSize, k).toBe(e.sampleSize);
      expect(got.get(k)!.features.x.psi).toBeCloseTo(e.features.x.psi!, 12);
      expect(got.get(k)!.features.region.chiSquare!.statistic).toBeCloseTo(e.features.region.chiSquare!.statistic, 9);
    }
  });

  it('merges the partials of one pane from every partition before evaluating it', async () => {
    const h = await withReference(new Harness());
    const p0 = h.processor(0, 2);
    const p1 = h.processor(1, 2);
    const r = rng(9);
    const events = traffic(r, T0, 10_000, 1000);
    await p0.process(h.messages(0, events.filter((_, i) => i % 3 === 0)), control);
    await p1.process(h.messages(1, events.filter((_, i) => i % 3 !== 0)), control);
    await p0.process(h.messages(0, [event(r, T0 + 12_500, 5000)]), control);
    // Partition 1 has not passed the pane yet: nothing is evaluated.
    expect(h.published.evaluations).toEqual([]);
    await p1.process(h.messages(1, [event(r, T0 + 12_600, 5001)]), control);
    const tumbling = h.published.evaluations.filter((e) => e.windowName === '10s');
    expect(tumbling.map((e) => e.sampleSize)).toEqual([1000]);
  });

  it('closes the panes of an idle partition after the idle timeout', async () => {
    const h = await withReference(new Harness({ idleTimeoutMs: 5000 }));
    const p = h.processor();
    await p.process(h.messages(0, traffic(rng(10), T0, 8000, 500)), control);
    h.now += 4000;
    await p.punctuate();
    expect(h.published.evaluations).toEqual([]);
    h.now += 3000; // idle 7 s: the clock is estimated past T0 + 10 s
    await p.punctuate();
    expect(h.published.evaluations.filter((e) => e.windowName === '10s').map((e) => e.sampleSize)).toEqual([500]);
  });
});
