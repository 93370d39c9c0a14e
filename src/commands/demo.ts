import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { Consumer } from 'kafkajs';
import { createKafka } from '../adapters/kafka/kafka-client.js';
import { EventCodec } from '../adapters/registry/event-codec.js';
import { loadConfig, type Config } from '../config/config.js';
import { parseDuration } from '../core/duration.js';
import type { DriftAlert } from '../core/events.js';
import { modelConfigToJson, parseModelConfig, type ModelConfig } from '../core/model/model-config.js';
import { serializeProfile } from '../core/profile/reference-profile.js';
import { ConfigError } from '../errors.js';
import { parseChannelConfig, type ChannelConfig } from '../core/notify/channel-config.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { demoReportUrl, writeDemoReport } from './demo-report.js';
import { createInferenceEmitter, type InferenceEmitter } from '../producer/index.js';
import { buildReference } from '../stream/reference-bootstrap.js';
import { startRun, type RunHandle } from './run.js';
import { CREDIT_RISK_FEATURES, creditApplication, seeded } from './demo-traffic.js';

export interface DemoOptions {
  rate: number;
  driftAfterMs: number;
  driftForMs: number;
  durationMs: number;
  stack: boolean;
  http: boolean;
  /** How long to wait after the traffic for the last panes to close (default 13 s: pane + lateness + a second). */
  settleMs?: number;
  /** false: only produce the traffic (and print alerts), for detectors that run elsewhere (docker-compose.yml's demo profile). */
  detector?: boolean;
  /** A webhook URL the detector's notifier delivers the alerts to (CloudEvents, unsigned). */
  notifyWebhook?: string;
}

/**
 * Seed of the demo's reference and traffic. The traffic is the same every run, so a chance excursion
 * in it would be a real drift that every run whose panes frame it reports. In this seed's first
 * 54,000 events no window of 500 to 12,000 events moves the mean or spread of an undrifted feature,
 * or an employment share, beyond p = 5e-4 (tests/unit/commands/demo-traffic.test.ts).
 */
export const DEMO_SEED = 20_261_224;
const MODEL_ID = 'credit-risk';

/** Finds scripts/stack.mjs from this module, in src/ (tsx) or in dist/ (compiled). */
function stackScript(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'scripts', 'stack.mjs');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

const time = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/** One readable line per alert record. */
export function formatAlert(a: DriftAlert): string {
  const cmp = a.statistic === 'chiSquare' ? '<' : '>=';
  const what = `${a.statistic}=${a.value.toPrecision(3)} (${cmp} ${a.threshold})`;
  const status = a.status === 'FIRING' ? 'FIRING  ' : 'RESOLVED';
  return [
    time(a.detectedAt),
    status,
    a.severity.padEnd(8),
    a.kind.padEnd(16),
    (a.feature ?? '-').padEnd(22),
    what.padEnd(34),
    `window ${a.windowName} ${time(a.windowStart)}-${time(a.windowEnd)}`,
    `n=${a.sampleSize}`,
    `id=${a.alertId.slice(0, 8)}`,
  ].join('  ');
}

function demoConfig(ownTopics: boolean, notify: boolean): Config {
  const env = { ...process.env };
  if (notify) env.DRIFTSTREAM_NOTIFY = 'true';
  // With its own detector the demo keeps to its own topics and group, so it neither reads nor
  // disturbs real traffic; without one, its traffic is for the detectors on the configured topics.
  if (ownTopics) {
    env.DRIFTSTREAM_INFERENCE_TOPIC ??= 'driftstream-demo-inference';
    env.DRIFTSTREAM_ALERTS_TOPIC ??= 'driftstream-demo-alerts';
    env.DRIFTSTREAM_METRICS_TOPIC ??= 'driftstream-demo-metrics';
    env.DRIFTSTREAM_DLQ_TOPIC ??= 'driftstream-demo-dlq';
  }
  env.DRIFTSTREAM_GROUP_ID ??= `driftstream-demo-${Date.now().toString(36)}`;
  // Warnings about in-memory state are expected here; errors still show.
  env.DRIFTSTREAM_LOG_LEVEL ??= 'error';
  env.DRIFTSTREAM_IDLE_TIMEOUT ??= '5s';
  env.DRIFTSTREAM_CHECKPOINT_INTERVAL ??= '5s';
  return loadConfig(env);
}

async function startAlertPrinter(config: Config, logger: Logger, out: (line: string) => void, seen: DriftAlert[]): Promise<Consumer> {
  const kafka = createKafka(config.kafka, logger, 'driftstream-demo-alerts');
  const codec = new EventCodec({ registryUrl: config.registry.url, auth: config.registry.auth });
  const consumer = kafka.consumer({ groupId: `${config.groupId}-printer`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [config.topics.alerts], fromBeginning: false });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({
    eachMessage: async ({ message }) => {
      try {
        const a = (await codec.decode(message.value)).value as DriftAlert;
        const alert = { ...a, windowStart: Number(a.windowStart), windowEnd: Number(a.windowEnd), detectedAt: Number(a.detectedAt), value: Number(a.value) };
        seen.push(alert);
        out(formatAlert(alert));
      } catch (err) {
        out(`(undecodable alert record: ${(err as Error).message})`);
      }
    },
  });
  await joined;
  return consumer;
}

function bringStackUp(out: (line: string) => void): void {
  const script = stackScript();
  if (!script) {
    out('scripts/stack.mjs not found: assuming Kafka and the schema registry are up');
    return;
  }
  out('bringing the local stack up (Kafka, schema registry) ...');
  const r = spawnSync(process.execPath, [script, 'up', '--quiet'], { stdio: 'inherit' });
  if (r.status !== 0) throw new ConfigError('the local stack did not come up (node scripts/stack.mjs up); start Kafka and the registry, or pass --no-stack');
}

/** The credit-risk model, declared with a reference profile built from undrifted traffic and written to a file. */
async function demoModel(r: ReturnType<typeof seeded>, out: (line: string) => void): Promise<ModelConfig> {
  const model = parseModelConfig(
    {
      modelId: MODEL_ID,
      features: CREDIT_RISK_FEATURES,
      prediction: 'score',
      positiveClass: '1',
      windows: [{ name: '10s', size: '10s' }, { name: '30s', size: '30s', slide: '10s' }],
      allowedLateness: '2s',
      minSamples: 100,
      resolveAfter: 3,
    },
    { allowedLatenessMs: 2000, bootstrapEvents: 5000, bootstrapDurationMs: 600_000, resolveAfter: 3 },
  );
  const rows = Array.from({ length: 10_000 }, () => creditApplication(r, false));
  const profile = buildReference(model, { ...CREDIT_RISK_FEATURES }, rows, { hasScore: true, predictionType: 'categorical' }, { createdAt: Date.now(), id: `credit-risk-demo-${Date.now().toString(36)}` });
  const profileFile = join(tmpdir(), `${profile.id}.json`);
  await writeFile(profileFile, serializeProfile(profile));
  out(`reference ${profile.id}: ${profile.rows} applications, features ${Object.keys(CREDIT_RISK_FEATURES).join(', ')}`);
  return parseModelConfig({ ...modelConfigToJson(model), reference: { profileFile } });
}

/** What the traffic loop reads and reports to. */
interface TrafficRun {
  readonly opts: DemoOptions;
  readonly r: ReturnType<typeof seeded>;
  readonly handle?: RunHandle;
  readonly alerts: readonly DriftAlert[];
  readonly out: (line: string) => void;
  readonly stopRequested: () => boolean;
}

/** Announces drift starting and ending, once each. */
function driftAnnouncer(out: (line: string) => void): (tick: number, drift: boolean) => void {
  let driftAnnounced = false;
  let cleanAnnounced = false;
  return (tick, drift) => {
    if (drift && !driftAnnounced) {
      driftAnnounced = true;
      out(`${time(tick)}  >>> drift injected: income shifted down, region mix changed`);
    }
    if (!drift && driftAnnounced && !cleanAnnounced) {
      cleanAnnounced = true;
      out(`${time(tick)}  >>> drift removed: traffic back to the reference distribution`);
    }
  };
}

function statusLine(run: TrafficRun, tick: number, sent: number): string {
  if (!run.handle) return `${time(tick)}  sent ${sent}, alert records seen ${run.alerts.length}`;
  const s = run.handle.detector.state.modelStatus(MODEL_ID);
  const c = run.handle.detector.state.counters;
  return `${time(tick)}  status: ${s?.status ?? 'unknown'}; sent ${sent}, consumed ${c.consumed}, evaluations ${c.evaluations}, alert records ${c.alerts}`;
}

/** Produces the model's traffic in real time, in 100 ms ticks, drifted for a while; returns how many events were sent. */
async function produceTraffic(run: TrafficRun, emitter: InferenceEmitter): Promise<number> {
  const { opts, r } = run;
  const announce = driftAnnouncer(run.out);
  const started = Date.now();
  let nextStatus = started + 10_000;
  const tickMs = 100;
  let carry = 0;
  let sent = 0;
  while (!run.stopRequested() && Date.now() - started < opts.durationMs) {
    const tick = Date.now();
    const elapsed = tick - started;
    const drift = elapsed >= opts.driftAfterMs && elapsed < opts.driftAfterMs + opts.driftForMs;
    announce(tick, drift);
    carry += (opts.rate * tickMs) / 1000;
    const n = Math.floor(carry);
    carry -= n;
    for (let i = 0; i < n; i++) {
      const app = creditApplication(r, drift);
      await emitter.emit({ modelId: MODEL_ID, modelVersion: 'v7', timestamp: Date.now(), features: app.features, score: app.score, prediction: app.prediction, attributes: { channel: 'web' } });
      sent++;
    }
    if (tick >= nextStatus) {
      nextStatus += 10_000;
      run.out(statusLine(run, tick, sent));
    }
    const spent = Date.now() - tick;
    if (spent < tickMs) await new Promise((res) => setTimeout(res, tickMs - spent));
  }
  return sent;
}

/**
 * `driftstream demo`: brings the local stack up, starts the detector (and the
 * HTTP service) with a credit-risk model whose reference was built from
 * undrifted traffic, produces that model's traffic in real time, shifts
 * income and the region mix for a while, and prints every alert record as it
 * arrives on the alerts topic.
 */
export async function runDemo(opts: DemoOptions, out: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<{ alerts: DriftAlert[]; sent: number }> {
  if (opts.stack) bringStackUp(out);
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  const config = demoConfig(opts.detector !== false, opts.notifyWebhook !== undefined);
  const channels = opts.notifyWebhook ? [demoWebhook(opts.notifyWebhook)] : [];
  const logger = createLogger(config.logLevel);
  const r = seeded(DEMO_SEED);
  const declared = await demoModel(r, out);

  const alerts: DriftAlert[] = [];
  let handle: RunHandle | undefined;
  let printer: Consumer | undefined;
  let stopRequested = false;
  const onSignal = () => {
    stopRequested = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (opts.detector !== false) handle = await startRun(config, { modelConfigs: [declared], channels, startFrom: 'latest', http: opts.http, logger });
    printer = await startAlertPrinter(config, logger, out, alerts);
    await handle?.detector.joined;
    const emitter = createInferenceEmitter({
      brokers: config.kafka.brokers,
      registryUrl: config.registry.url,
      registryAuth: config.registry.auth,
      topic: config.topics.inference,
      format: 'avro',
      lingerMs: 20,
    });
    out(handle ? `detector running${handle.url ? `; dashboard and API at ${handle.url}` : ''}` : 'no detector here: the traffic is for the detectors consuming the topic');
    if (handle?.url) out(`drift report (HTML) of the latest ${declared.windows[0].name} window: ${demoReportUrl(handle.url, declared)}`);
    out(`producing ${opts.rate} events/s to ${config.topics.inference}; drift (income -35%, region mix) from +${opts.driftAfterMs / 1000}s for ${opts.driftForMs / 1000}s; alerts from ${config.topics.alerts}:`);
    const sent = await produceTraffic({ opts, r, handle, alerts, out, stopRequested: () => stopRequested }, emitter);
    await emitter.close();
    // Let the last pane close (pane + lateness + a little) before stopping.
    if (!stopRequested) await new Promise((res) => setTimeout(res, opts.settleMs ?? 13_000));
    const firing = alerts.filter((a) => a.status === 'FIRING').length;
    const resolved = alerts.filter((a) => a.status === 'RESOLVED').length;
    const consumed = handle ? `, ${handle.detector.state.counters.consumed} consumed` : '';
    out(`done: ${sent} events sent${consumed}, ${firing} FIRING and ${resolved} RESOLVED alert records`);
    const report = handle ? await writeDemoReport(handle, declared, Date.now()) : undefined;
    if (report) out(`drift report written to ${report} (self-contained HTML: open it offline or attach it to a message)`);
    if (handle && opts.notifyWebhook) out(await notificationSummary(handle, opts.notifyWebhook));
    return { alerts, sent };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await printer?.disconnect().catch(() => undefined);
    await handle?.close();
  }
}

/** The webhook channel of `--notify-webhook`: every alert, bursts grouped for a second. */
function demoWebhook(url: string): ChannelConfig {
  try {
    return parseChannelConfig({ id: 'demo-webhook', type: 'webhook', url, groupWait: '1s', timeout: '5s', retry: { maxAttempts: 5, baseDelay: '500ms', maxDelay: '5s' } });
  } catch (err) {
    throw new ConfigError(`--notify-webhook: ${(err as Error).message.replace(/^channel\.url: /, '')}`, { cause: err });
  }
}

/** Waits (at most 15 s) for the notifications still pending, then says what reached the webhook. */
async function notificationSummary(handle: RunHandle, url: string): Promise<string> {
  const log = handle.adapters.notifications;
  const count = async (state: 'pending' | 'delivered' | 'dead') => (await log.list({ channelId: 'demo-webhook', state, limit: 500 })).notifications.length;
  const deadline = Date.now() + 15_000;
  while ((await count('pending')) > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 200));
  const [delivered, pending, dead] = [await count('delivered'), await count('pending'), await count('dead')];
  return `notifications to ${url}: ${delivered} delivered, ${pending} pending, ${dead} dead-lettered (GET /api/v1/notifications while it runs)`;
}

function duration(flag: string, v: string): number {
  const ms = parseDuration(v);
  if (ms === undefined) throw new ConfigError(`${flag}: expected a duration like 90s or 3m, got ${JSON.stringify(v)}`);
  return ms;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('bring the local stack up, run the detector on a credit-risk model with injected drift, and print alerts as they arrive')
    .option('--rate <n>', 'events per second', '300')
    .option('--drift-after <duration>', 'when drift starts', '75s')
    .option('--drift-for <duration>', 'how long drift lasts before traffic is clean again', '45s')
    .option('--duration <duration>', 'how long the demo produces traffic', '3m')
    .option('--no-stack', 'do not run scripts/stack.mjs up (Kafka and the registry are already up)')
    .option('--no-http', 'do not start the HTTP service')
    .option('--notify-webhook <url>', 'deliver the alerts to this webhook (CloudEvents JSON) through the notifier')
    .option('--no-detector', 'only produce the traffic (to DRIFTSTREAM_INFERENCE_TOPIC, default inference-events) and print the alerts, for detectors running elsewhere')
    .action(async (o: { rate: string; driftAfter: string; driftFor: string; duration: string; stack: boolean; http: boolean; detector: boolean; notifyWebhook?: string }) => {
      const rate = Number(o.rate);
      if (!Number.isFinite(rate) || rate <= 0 || rate > 100_000) throw new ConfigError(`--rate: expected events per second between 1 and 100000, got ${JSON.stringify(o.rate)}`);
      await runDemo({
        rate,
        driftAfterMs: duration('--drift-after', o.driftAfter),
        driftForMs: duration('--drift-for', o.driftFor),
        durationMs: duration('--duration', o.duration),
        stack: o.stack,
        http: o.http,
        detector: o.detector,
        notifyWebhook: o.notifyWebhook,
      });
    });
}
