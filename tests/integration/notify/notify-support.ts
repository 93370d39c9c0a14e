import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createNotificationTransport } from '../../../src/app/notification-transport.js';
import { secretResolver } from '../../../src/config/notify-secrets.js';
import { toAlertRecord, type AlertRecord } from '../../../src/core/notify/alert-record.js';
import { Notifier } from '../../../src/notify/notifier.js';
import { createNotifyMetrics } from '../../../src/observability/notify-metrics.js';
import type { ChannelRepository, NotificationLog } from '../../../src/ports/notification-log.js';
import type { NotifyMetrics } from '../../../src/notify/notify-metrics.js';

export const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);

/** A clock the test moves: the notifier's notion of now (leases, backoff, breaker, quiet hours, rate limit). */
export class TestClock {
  constructor(public t = T0) {}
  readonly now = () => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface NotifierRig {
  notifier: Notifier;
  clock: TestClock;
  metrics: NotifyMetrics;
  registry: Registry;
  close(): Promise<void>;
}

/** A secrets directory with the SMTP password as a mounted file, and the environment with the others. */
export function testSecrets(env: Record<string, string>): { resolve: ReturnType<typeof secretResolver>; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'driftstream-secrets-'));
  writeFileSync(join(dir, 'smtp-password'), 'mail-pass\n');
  return { resolve: secretResolver(env, dir), dir };
}

/** A notifier over the given log and channels with the real transport, driven by a test clock (random 0.5 for jitter). */
export function notifierRig(log: NotificationLog, channels: ChannelRepository, secrets: ReturnType<typeof secretResolver>, owner = 'test'): NotifierRig {
  const clock = new TestClock();
  const registry = new Registry();
  const metrics = createNotifyMetrics(registry);
  const transport = createNotificationTransport();
  const notifier = new Notifier(
    { log, channels, transport, secrets, logger: pino({ level: 'silent' }), metrics, reportBaseUrl: 'https://drift.example.com', now: clock.now, random: () => 0.5 },
    { owner, reloadMs: Number.MAX_SAFE_INTEGER },
  );
  return { notifier, clock, metrics, registry, close: () => transport.close() };
}

/** Rounds of dispatch, the clock moving `stepMs` before each, until `done` holds (at most `rounds`). */
export async function dispatchUntil(rig: NotifierRig, done: () => boolean | Promise<boolean>, stepMs = 1_000, rounds = 200): Promise<number> {
  for (let i = 0; i < rounds; i++) {
    if (await done()) return i;
    rig.clock.advance(stepMs);
    await rig.notifier.dispatchOnce();
  }
  if (await done()) return rounds;
  throw new Error(`not done after ${rounds} dispatch rounds`);
}

/** A burst: `n` feature alerts of one model in one window. */
export function burst(n: number, over: Record<string, unknown> = {}, prefix = 'a'): AlertRecord[] {
  return Array.from({ length: n }, (_, i) =>
    toAlertRecord(
      {
        alertId: `${prefix}-${i}`,
        modelId: 'credit-risk',
        kind: 'FEATURE_DRIFT',
        feature: `feature_${String(i).padStart(2, '0')}`,
        statistic: 'wasserstein',
        value: 0.3 + i / 100,
        threshold: 0.1,
        severity: 'WARNING',
        status: 'FIRING',
        windowName: '1m',
        windowStart: T0 - 60_000,
        windowEnd: T0,
        sampleSize: 1500,
        referenceId: 'ref-1',
        detectedAt: T0,
        details: { effect: String(0.25 + i / 100), segment: 'eu' },
        ...over,
      },
      T0,
    ),
  );
}

/** Sample value of a counter series in the registry. */
export async function counterValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const v = (metric?.values ?? []).find((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l));
  return v?.value ?? 0;
}
