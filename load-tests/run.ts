/**
 * `npm run load`: the figures of DESIGN.md section 6 that need Kafka, in one run.
 *
 * 1. throughput: pre-fills a topic, then measures in child processes, one
 *    after the other, a bare kafkajs consumer (eachBatch, decode only with
 *    the same EventCodec) and the detector (`driftstream run`, fresh consumer
 *    group), each from its first record to the last; their ratio.
 * 2. memory: 50 models x 25 features x the default 2 windows (1m tumbling,
 *    1h sliding by 5m), 65 minutes of event time so the sliding window is
 *    full; peak RSS (VmHWM) of the detector process, and what one pane,
 *    slide block, evaluation and label-join record cost (bytes per feature
 *    and pane). memory-large: the same with 1,000 models (not in the
 *    default phases: about 10 minutes).
 * 3. live: traffic at a target rate with event time = now, drift injected
 *    into f00 and c0 of every model at known times; delay from each model's
 *    first drifted event to the first FIRING alert of each drifted feature on
 *    the alerts topic (record timestamp), p50 and p95, against pane +
 *    lateness + 2 s.
 *
 * `npm run load -- --help` lists the options (sizes, phases, profiling).
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { DEFAULT_EVALUATIONS_PER_WINDOW } from '../src/adapters/memory/memory-result-repository.js';
import { parseDuration } from '../src/core/duration.js';
import { AlertReader } from './alerts.js';
import { NodeChild, REPO_ROOT, freePort, scrapeCounters, waitFor, type DetectorCounters } from './child-process.js';
import { summarizeCpuProfile, type ProfileSummary } from './cpu-profile.js';
import type { Footprint } from './memory-footprint.js';
import { ensureTopic, produce, type ProduceResult } from './produce.js';
import { writeScenario } from './scenario.js';
import { DRIFTED_FEATURES, modelIds } from './traffic.js';

const HELP = `npm run load -- [options]

  --phases LIST          throughput,memory,live (default: all three), and memory-large
  --events N             throughput: events pre-filled and consumed  [1000000]
  --models N             throughput: models  [10]
  --format F             avro or json  [avro]
  --partitions N         partitions of the load-test topics  [3]
  --reuse-topic T        throughput: consume this already filled topic instead of producing one
                         (its models must be <prefix>-NN as produce.ts writes them, --models of them)
  --memory-models N      memory: models  [50]
  --memory-minutes N     memory: minutes of event time  [65]
  --memory-per-minute N  memory: events per model per minute of event time  [200]
  --memory-timeout D     memory: longest catch-up measured; RSS is reported either way  [90s]
  --large-models N       memory-large: models  [1000]
  --large-per-minute N   memory-large: events per model per minute of event time  [10]
  --large-timeout D      memory-large: longest catch-up measured  [10m]
  --large-stall D        memory-large: longest time without progress before the run is given up (all
                         1,000 models evaluating at a pane end holds ingest back)  [240s]
  --live-models N        live: models  [20]
  --live-rate N          live: events/s  [5000]
  --live-pane D          live: tumbling window and slide of the sliding window  [10s]
  --live-lateness D      live: allowed lateness  [5s]
  --profile              also run the throughput detector once more under node --cpu-prof and
                         summarize the top frames
  --tsx                  run the detector as src/cli.ts through tsx instead of compiling src/ first
                         (quicker to start; tsx adds about 35 MB of RSS)
  --variant NAME         throughput and memory: also measure a detector variant
                         (load-tests/run-variant.ts), e.g. no-label-join
  --extras               throughput: models with multivariate drift on, references with labels
                         (so performance is estimated from calibrated scores), segmented by the
                         events' segment attribute
  --workers LIST         throughput: also run the detector with DRIFTSTREAM_WORKERS=N (ingest worker
                         threads) for each N in LIST, after the default detector, in the same run
                         (e.g. 2, or 1,2)
  --detector-env K=V,..  extra environment of the detector processes (e.g. DRIFTSTREAM_LABEL_HORIZON=1m)
  --sweep='SET;SET;..'   memory phases: run the detector once per set on the same topic, one after
                         the other, e.g. 'default;--max-old-space-size=128;MALLOC_ARENA_MAX=2 --max-old-space-size=128';
                         a set is node flags (passed in NODE_OPTIONS) and KEY=VALUE environment
                         entries; cli=PATH runs that compiled dist/cli.js instead of this tree's
                         (a baseline build beside this one, same topic); default is none  [default]
  --out FILE             JSON results  [load-tests/results/latest.json]
  --brokers B            [DRIFTSTREAM_KAFKA_BROKERS or 127.0.0.1:9092]
  --registry URL         [DRIFTSTREAM_SCHEMA_REGISTRY_URL or http://127.0.0.1:8081/apis/ccompat/v7]
`;

const TARGETS = { ratio: 1.0, eventsPerSecond: 100_000, rssMb: 200, largeRssMb: 1500, delaySlackMs: 2000 };

interface Options {
  phases: Set<string>;
  events: number;
  models: number;
  format: 'avro' | 'json';
  partitions: number;
  reuseTopic?: string;
  memoryModels: number;
  memoryMinutes: number;
  memoryPerMinute: number;
  memoryTimeoutMs: number;
  largeModels: number;
  largePerMinute: number;
  largeTimeoutMs: number;
  largeStallMs: number;
  liveModels: number;
  liveRate: number;
  livePaneMs: number;
  liveLatenessMs: number;
  profile: boolean;
  tsx: boolean;
  variant?: string;
  extras: boolean;
  workers: number[];
  detectorEnv: Record<string, string>;
  /** Memory phases: node flags and environment of each detector run, in order (the first is the reported one). */
  sweep: FlagSet[];
  out: string;
  brokers: string[];
  registry: string;
}

function parseOptions(): Options | undefined {
  const { values } = parseArgs({
    options: {
      phases: { type: 'string', default: 'throughput,memory,live' },
      events: { type: 'string', default: '1000000' },
      models: { type: 'string', default: '10' },
      format: { type: 'string', default: 'avro' },
      partitions: { type: 'string', default: '3' },
      'reuse-topic': { type: 'string' },
      'memory-models': { type: 'string', default: '50' },
      'memory-minutes': { type: 'string', default: '65' },
      'memory-per-minute': { type: 'string', default: '200' },
      'memory-timeout': { type: 'string', default: '90s' },
      'large-models': { type: 'string', default: '1000' },
      'large-per-minute': { type: 'string', default: '10' },
      'large-timeout': { type: 'string', default: '10m' },
      'large-stall': { type: 'string', default: '240s' },
      'live-models': { type: 'string', default: '20' },
      'live-rate': { type: 'string', default: '5000' },
      'live-pane': { type: 'string', default: '10s' },
      'live-lateness': { type: 'string', default: '5s' },
      profile: { type: 'boolean', default: false },
      tsx: { type: 'boolean', default: false },
      variant: { type: 'string' },
      workers: { type: 'string', default: '' },
      extras: { type: 'boolean', default: false },
      'detector-env': { type: 'string', default: '' },
      sweep: { type: 'string', default: 'default' },
      out: { type: 'string', default: join(REPO_ROOT, 'load-tests/results/latest.json') },
      brokers: { type: 'string', default: process.env.DRIFTSTREAM_KAFKA_BROKERS ?? '127.0.0.1:9092' },
      registry: { type: 'string', default: process.env.DRIFTSTREAM_SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return undefined;
  }
  const int = (name: string, v: string | undefined, min = 1): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: expected an integer >= ${min}, got ${v}`);
    return n;
  };
  const dur = (name: string, v: string | undefined): number => {
    const ms = v === undefined ? undefined : parseDuration(v);
    if (ms === undefined) throw new Error(`--${name}: expected a duration like 10s, got ${v}`);
    return ms;
  };
  if (values.format !== 'avro' && values.format !== 'json') throw new Error(`--format: expected avro or json, got ${values.format}`);
  const phases = new Set(values.phases!.split(',').map((s) => s.trim()).filter(Boolean));
  for (const p of phases) if (!['throughput', 'memory', 'memory-large', 'live'].includes(p)) throw new Error(`--phases: unknown phase ${p}`);
  return {
    phases,
    events: int('events', values.events),
    models: int('models', values.models),
    format: values.format,
    partitions: int('partitions', values.partitions),
    reuseTopic: values['reuse-topic'],
    memoryModels: int('memory-models', values['memory-models']),
    memoryMinutes: int('memory-minutes', values['memory-minutes']),
    memoryPerMinute: int('memory-per-minute', values['memory-per-minute']),
    memoryTimeoutMs: dur('memory-timeout', values['memory-timeout']),
    largeModels: int('large-models', values['large-models']),
    largePerMinute: int('large-per-minute', values['large-per-minute']),
    largeTimeoutMs: dur('large-timeout', values['large-timeout']),
    largeStallMs: dur('large-stall', values['large-stall']),
    liveModels: int('live-models', values['live-models']),
    liveRate: int('live-rate', values['live-rate']),
    livePaneMs: dur('live-pane', values['live-pane']),
    liveLatenessMs: dur('live-lateness', values['live-lateness']),
    profile: values.profile!,
    tsx: values.tsx!,
    variant: values.variant,
    workers: values.workers ? values.workers.split(',').map((w) => Number(w.trim())) : [],
    extras: values.extras!,
    detectorEnv: Object.fromEntries(
      values['detector-env']!
        .split(',')
        .filter(Boolean)
        .map((kv) => {
          const i = kv.indexOf('=');
          if (i < 1) throw new Error(`--detector-env: expected KEY=VALUE, got ${kv}`);
          return [kv.slice(0, i), kv.slice(i + 1)];
        }),
    ),
    sweep: values.sweep!.split(';').map((s) => s.trim()).filter(Boolean).map(parseFlagSet),
    out: values.out!,
    brokers: values.brokers!.split(','),
    registry: values.registry!,
  };
}

/** One runtime configuration of the detector process: node flags (NODE_OPTIONS) and environment. */
interface FlagSet {
  label: string;
  nodeFlags: string[];
  env: Record<string, string>;
  /** A compiled dist/cli.js to run instead of this tree's (`cli=PATH`, e.g. a build of main beside this one). */
  cli?: string;
}

function parseFlagSet(text: string): FlagSet {
  const nodeFlags: string[] = [];
  const env: Record<string, string> = {};
  let cli: string | undefined;
  for (const token of text.split(/\s+/).filter(Boolean)) {
    if (token === 'default') continue;
    if (token.startsWith('cli=')) cli = token.slice(4);
    else
    if (token.startsWith('--')) nodeFlags.push(token);
    else if (/^[A-Z_][A-Z0-9_]*=/.test(token)) env[token.slice(0, token.indexOf('='))] = token.slice(token.indexOf('=') + 1);
    else throw new Error(`--sweep: expected --flag or KEY=VALUE, got ${token}`);
  }
  return { label: text === 'default' ? 'default' : text, nodeFlags, env, cli };
}

/** Flags NODE_OPTIONS does not take: they go on the command line instead. */
const COMMAND_LINE_ONLY_FLAGS = new Set(['--trace-gc', '--trace-gc-nvp', '--trace-gc-verbose', '--heap-growing-percent', '--memory-pool', '--no-memory-pool', '--memory-pool-timeout']);
const COMMAND_LINE_ONLY = { has: (flag: string): boolean => COMMAND_LINE_ONLY_FLAGS.has(flag.split('=')[0]) };

/** The environment entries a flag set adds to a detector's (its flags join any NODE_OPTIONS already given). */
function flagSetEnv(set: FlagSet, base: Record<string, string>): Record<string, string> {
  const flags = set.nodeFlags.filter((f) => !COMMAND_LINE_ONLY.has(f));
  if (flags.length === 0) return set.env;
  const nodeOptions = [base.NODE_OPTIONS, ...flags].filter(Boolean).join(' ');
  return { ...set.env, NODE_OPTIONS: nodeOptions };
}

function log(message: string): void {
  process.stderr.write(`[load ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

interface Consumption {
  complete: boolean;
  stopReason?: string;
  counted: number;
  counters?: DetectorCounters;
  elapsedMs: number;
  eventsPerSecond: number;
  cpuMs: number;
  startOffset: number;
  /** Largest V8 heap used / reserved and memory outside the heap seen on /metrics, MB. */
  heapPeakMb: { used: number; total: number; external: number };
}

/** Everything a detector child needs, on topics of its own. */
interface DetectorRun {
  child: NodeChild;
  url: string;
  groupId: string;
  alertsTopic: string;
}

class Harness {
  readonly runId = `${Date.now().toString(36)}`;
  readonly kafka: Kafka;
  readonly logDir: string;
  readonly started = Date.now();
  /** dist/cli.js of a private build, or undefined to run src/cli.ts through tsx. */
  compiledCli: string | undefined;
  /** Every child started, so a failing phase leaves none behind. */
  readonly children = new Set<NodeChild>();
  /** Detector runs of the current phase, whose output topics go at its end. */
  readonly runs = new Set<DetectorRun>();

  constructor(
    readonly options: Options,
    readonly workDir: string,
  ) {
    this.kafka = new Kafka({ clientId: 'driftstream-load', brokers: options.brokers, logLevel: logLevel.ERROR });
    this.logDir = workDir;
  }

  /** Starts `driftstream run` as a child process on `topic`, with memory state and its own group and output topics. */
  async startDetector(name: string, topic: string, modelsFile: string, extraEnv: Record<string, string> = {}, cpuProfDir?: string, variant?: string, nodeArgs?: string[], cliPath?: string): Promise<DetectorRun> {
    const port = await freePort();
    const groupId = `load-${name}-${this.runId}`;
    const alertsTopic = `load-${name}-alerts-${this.runId}`;
    const env: Record<string, string> = {
      DRIFTSTREAM_KAFKA_BROKERS: this.options.brokers.join(','),
      DRIFTSTREAM_SCHEMA_REGISTRY_URL: this.options.registry,
      DRIFTSTREAM_INFERENCE_TOPIC: topic,
      DRIFTSTREAM_ALERTS_TOPIC: alertsTopic,
      DRIFTSTREAM_METRICS_TOPIC: `load-${name}-metrics-${this.runId}`,
      DRIFTSTREAM_DLQ_TOPIC: `load-${name}-dlq-${this.runId}`,
      DRIFTSTREAM_GROUND_TRUTH_TOPIC: `load-${name}-labels-${this.runId}`,
      DRIFTSTREAM_GROUP_ID: groupId,
      DRIFTSTREAM_HTTP_HOST: '127.0.0.1',
      DRIFTSTREAM_HTTP_PORT: String(port),
      DRIFTSTREAM_LOG_LEVEL: 'warn',
      ...this.options.detectorEnv,
      ...extraEnv,
    };
    const cli = cliPath ?? this.compiledCli ?? 'src/cli.ts';
    const child = new NodeChild({
      args: variant ? ['--expose-gc', 'load-tests/run-variant.ts', variant, '--models', modelsFile] : [cli, 'run', '--models', modelsFile, '--start-from', 'earliest'],
      captureStdout: variant !== undefined,
      env,
      logFile: join(this.logDir, `detector-${name}.log`),
      compiled: variant === undefined && (cliPath !== undefined || this.compiledCli !== undefined),
      cpuProfDir,
      nodeArgs,
    });
    this.children.add(child);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => {
      if (child.process.exitCode !== null) throw new Error(`detector exited with ${child.process.exitCode}; see ${join(this.logDir, `detector-${name}.log`)}`);
      return (await fetch(`${url}/healthz`)).ok;
    }, 60_000, `the ${name} detector's HTTP service`).catch((err: Error) => {
      void child.stop(1000);
      throw err;
    });
    const run = { child, url, groupId, alertsTopic };
    this.runs.add(run);
    return run;
  }

  /**
   * Waits until the detector has counted `expected` records (consumed, late or
   * invalid) and returns the rate from its first counted record to the last.
   * Stops early, with `complete: false`, at `timeoutMs` or when the count has
   * not moved for `stallMs` (the detector is stuck or was stopped).
   */
  async measureConsumption(run: DetectorRun, expected: number, timeoutMs: number, stallMs = 60_000): Promise<Consumption> {
    let first: { t: number; n: number; cpu: number } | undefined;
    let lastChange = performance.now();
    let lastN = -1;
    const heapPeak = { used: 0, total: 0, external: 0 };
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const exited = run.child.process.exitCode !== null || run.child.process.signalCode !== null;
      const c = exited ? undefined : await scrapeCounters(run.url).catch(() => undefined);
      const t = performance.now();
      const n = c ? c.consumed + c.late + c.invalid : lastN;
      if (c) {
        heapPeak.used = Math.max(heapPeak.used, c.heapUsed / 1e6 || 0);
        heapPeak.total = Math.max(heapPeak.total, c.heapTotal / 1e6 || 0);
        heapPeak.external = Math.max(heapPeak.external, c.external / 1e6 || 0);
      }
      if (n !== lastN) {
        lastN = n;
        lastChange = t;
      }
      if (first === undefined && n > 0) first = { t, n, cpu: run.child.cpuMs() ?? 0 };
      const done = first !== undefined && n >= expected;
      const stalled = t - lastChange > stallMs;
      if (done || exited || stalled || t > deadline) {
        const elapsedMs = first ? t - first.t : 0;
        return {
          complete: done,
          stopReason: done ? undefined : exited ? `detector exited with ${run.child.process.exitCode ?? run.child.process.signalCode}` : stalled ? `no progress for ${stallMs / 1000} s` : `time box of ${timeoutMs / 1000} s reached`,
          counted: Math.max(0, n),
          counters: c,
          elapsedMs,
          eventsPerSecond: first && elapsedMs > 0 ? (n - first.n) / (elapsedMs / 1000) : 0,
          cpuMs: first ? (run.child.cpuMs() ?? 0) - first.cpu : 0,
          startOffset: first?.n ?? 0,
          heapPeakMb: { used: round(heapPeak.used, 1), total: round(heapPeak.total, 1), external: round(heapPeak.external, 1) },
        };
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Fatal and error lines of a detector's log (pino JSON, level >= 50), shortened. */
  async detectorErrors(name: string): Promise<string[]> {
    try {
      const text = await readFile(join(this.logDir, `detector-${name}.log`), 'utf8');
      const out: string[] = [];
      for (const line of text.split('\n')) {
        if (!/"level":(50|60)/.test(line)) continue;
        try {
          const rec = JSON.parse(line) as { msg?: string; err?: { message?: string } | string };
          const err = typeof rec.err === 'string' ? rec.err : rec.err?.message;
          out.push(`${rec.msg ?? ''}${err ? `: ${err}` : ''}`.slice(0, 240));
        } catch {
          out.push(line.slice(0, 240));
        }
      }
      return [...new Set(out)].slice(0, 10);
    } catch {
      return [];
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.children].map((c) => c.stop(5000).catch(() => undefined)));
    this.children.clear();
    const topics = [...this.runs].flatMap((r) => this.outputTopics(r));
    this.runs.clear();
    if (topics.length > 0) await this.deleteTopics(topics);
  }

  /**
   * Compiles src/ into a private directory laid out like the package (dist/
   * beside links to schemas/, migrations/, node_modules/ and src/ for the
   * dashboard), so the detector runs as the published `driftstream` does,
   * without touching the work tree's dist/.
   */
  async buildCompiled(): Promise<string | undefined> {
    const root = join(this.workDir, 'package');
    await mkdir(root, { recursive: true });
    for (const entry of ['node_modules', 'schemas', 'migrations', 'src']) await symlink(join(REPO_ROOT, entry), join(root, entry));
    await copyFile(join(REPO_ROOT, 'package.json'), join(root, 'package.json'));
    const tsc = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
    const code = await new Promise<number | null>((resolve) => {
      const p = spawn(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', join(root, 'dist'), '--sourceMap', 'false', '--declaration', 'false'], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'ignore', 'ignore'],
      });
      p.once('exit', resolve);
    });
    const cli = join(root, 'dist/cli.js');
    try {
      await stat(cli);
    } catch {
      return undefined;
    }
    // tsc emits despite type errors elsewhere in the tree; only a missing cli.js stops us.
    if (code !== 0) log('compile: tsc reported errors (emitted anyway)');
    return cli;
  }

  async topicSize(topic: string): Promise<number> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
    } finally {
      await admin.disconnect();
    }
  }

  /** The topics a detector run created besides its input. */
  outputTopics(run: DetectorRun): string[] {
    const name = run.groupId.slice('load-'.length, run.groupId.length - this.runId.length - 1);
    return ['alerts', 'metrics', 'dlq', 'labels'].map((t) => `load-${name}-${t}-${this.runId}`);
  }

  async deleteTopics(topics: string[]): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const doomed = topics.filter((t) => existing.has(t));
      if (doomed.length > 0) await admin.deleteTopics({ topics: doomed, timeout: 30_000 });
    } catch (err) {
      log(`could not delete topics ${topics.join(', ')}: ${(err as Error).message}`);
    } finally {
      await admin.disconnect();
    }
  }
}

// ---------------------------------------------------------------------------- throughput

interface ThroughputResult {
  topic: string;
  events: number;
  models: number;
  features: string;
  format: string;
  partitions: number;
  produce?: { eventsPerSecond: number; bytesPerEvent: number; elapsedMs: number };
  bare: { eventsPerSecond: number; elapsedMs: number; cpuMs: number; eventsPerCpuSecond: number; peakRssMb: number; decodeErrors: number };
  detector: { eventsPerSecond: number; elapsedMs: number; cpuMs: number; eventsPerCpuSecond: number; peakRssMb: number; rssAtEndMb: number; consumed: number; late: number; invalid: number; alerts: number };
  ratio: number;
  cpuRatio: number;
  loadavg: number[];
  variant?: { name: string; complete: boolean; eventsPerSecond: number; eventsPerCpuSecond: number; peakRssMb: number };
  /** The detector again with ingest worker threads (`--workers`), ratios against the same bare consumer. */
  workers?: { workers: number; eventsPerSecond: number; elapsedMs: number; eventsPerCpuSecond: number; peakRssMb: number; ratio: number; cpuRatio: number }[];
  profile?: ProfileSummary;
  bareProfile?: ProfileSummary;
}

/** The main thread's profile: one is written per thread (tsx runs its loader in a worker), the main one is the largest. */
async function largestProfile(dir: string): Promise<ProfileSummary | undefined> {
  const files = await Promise.all((await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).map(async (f) => ({ f, size: (await stat(join(dir, f))).size })));
  files.sort((a, b) => b.size - a.size);
  return files.length > 0 ? summarizeCpuProfile(join(dir, files[0].f), 25) : undefined;
}

async function throughputPhase(h: Harness): Promise<ThroughputResult> {
  const o = h.options;
  const models = modelIds('load', o.models);
  const modelsFile = await writeScenario(h.workDir, 'throughput', models, o.extras ? { multivariate: true, labelledReference: true, segments: true } : {});
  if (o.extras) log('throughput: models with multivariate drift, estimated performance and segments (attribute segment)');
  const topic = o.reuseTopic ?? `load-throughput-${h.runId}`;
  let produced: ProduceResult | undefined;
  let events: number;
  const load0 = loadavg()[0];
  if (o.reuseTopic) {
    events = await h.topicSize(topic);
    log(`throughput: reusing ${topic} (${events} records)`);
  } else {
    // Event time advances 10,000 events per second from a minute boundary: the
    // stream crosses 1-minute panes, so panes close, windows are evaluated and
    // alerts published while it is measured. Drift 20 s in, so the first pane fires.
    const eventTimeRate = 10_000;
    const start = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
    const driftAt = start + 20_000;
    log(`throughput: producing ${o.events} ${o.format} events of ${o.models} models to ${topic}`);
    let next = 200_000;
    produced = await produce({
      brokers: o.brokers,
      registryUrl: o.registry,
      topic,
      format: o.format,
      models,
      count: o.events,
      eventTimeStart: start,
      eventTimeRate,
      driftFrom: () => driftAt,
      partitions: o.partitions,
      onProgress: (n) => {
        if (n >= next) {
          log(`  produced ${n}`);
          next += 200_000;
        }
      },
    });
    events = produced.produced;
    log(`throughput: produced ${events} in ${round(produced.elapsedMs / 1000, 1)} s (${round(produced.eventsPerSecond)} events/s, ${round(produced.bytes / events)} B/event)`);
  }

  log('throughput: bare kafkajs consumer (eachBatch, decode only)');
  const bareChild = new NodeChild({
    args: ['load-tests/bare-consumer.ts', '--topic', topic, '--expect', String(events), '--brokers', o.brokers.join(','), '--registry', o.registry],
    env: {},
    logFile: join(h.logDir, 'bare-consumer.log'),
    captureStdout: true,
  });
  const bareCode = await bareChild.exited;
  if (bareCode !== 0) throw new Error(`bare consumer exited with ${bareCode}; see ${join(h.logDir, 'bare-consumer.log')}`);
  const bare = JSON.parse(bareChild.stdout.trim().split('\n').pop()!) as { eventsPerSecond: number; elapsedMs: number; cpuMs: number; decodeErrors: number };
  log(`throughput: bare ${round(bare.eventsPerSecond)} events/s over ${round(bare.elapsedMs / 1000, 1)} s`);

  log('throughput: detector (driftstream run, fresh group)');
  const run = await h.startDetector('throughput', topic, modelsFile);
  const m = await h.measureConsumption(run, events, Math.max(180_000, (events / 5000) * 1000));
  run.child.sample();
  await run.child.stop();
  if (!m.complete) throw new Error(`throughput: the detector counted ${m.counted} of ${events} records (${m.stopReason}); ${(await h.detectorErrors('throughput')).join(' | ')}`);
  log(`throughput: detector ${round(m.eventsPerSecond)} events/s over ${round(m.elapsedMs / 1000, 1)} s`);

  let variant: ThroughputResult['variant'];
  if (o.variant) {
    log(`throughput: detector variant ${o.variant}`);
    const v = await h.startDetector(`throughput-${o.variant}`, topic, modelsFile, {}, undefined, o.variant);
    const vm = await h.measureConsumption(v, events, Math.max(180_000, (events / 5000) * 1000));
    v.child.sample();
    await v.child.stop();
    variant = {
      name: o.variant,
      complete: vm.complete,
      eventsPerSecond: round(vm.eventsPerSecond),
      eventsPerCpuSecond: round((vm.counted - vm.startOffset) / (vm.cpuMs / 1000)),
      peakRssMb: round(v.child.peakRssMb, 1),
    };
    log(`throughput: variant ${o.variant} ${variant.eventsPerSecond} events/s, ${variant.eventsPerCpuSecond} events per CPU-second`);
  }

  const bareCpuRate = events / (bare.cpuMs / 1000);
  const workers: NonNullable<ThroughputResult['workers']> = [];
  for (const [i, n] of o.workers.entries()) {
    log(`throughput: detector with DRIFTSTREAM_WORKERS=${n}`);
    // Its own name, so its own consumer group: a count may come twice in the list.
    const w = await h.startDetector(`throughput-workers-${i}-${n}`, topic, modelsFile, { DRIFTSTREAM_WORKERS: String(n) });
    const wm = await h.measureConsumption(w, events, Math.max(180_000, (events / 5000) * 1000));
    w.child.sample();
    await w.child.stop();
    if (!wm.complete) throw new Error(`throughput: the detector with ${n} workers counted ${wm.counted} of ${events} records (${wm.stopReason})`);
    const perCpu = (events - wm.startOffset) / (wm.cpuMs / 1000);
    workers.push({
      workers: n,
      eventsPerSecond: round(wm.eventsPerSecond),
      elapsedMs: round(wm.elapsedMs),
      eventsPerCpuSecond: round(perCpu),
      peakRssMb: round(w.child.peakRssMb, 1),
      ratio: round(wm.eventsPerSecond / bare.eventsPerSecond, 3),
      cpuRatio: round(perCpu / bareCpuRate, 3),
    });
    log(`throughput: ${n} workers ${round(wm.eventsPerSecond)} events/s, ${round(perCpu)} per CPU-second`);
  }

  let profile: ProfileSummary | undefined;
  let bareProfile: ProfileSummary | undefined;
  if (o.profile) {
    log('throughput: bare consumer again under --cpu-prof');
    const bareDir = join(h.workDir, 'cpu-prof-bare');
    await mkdir(bareDir, { recursive: true });
    const bp = new NodeChild({
      args: ['load-tests/bare-consumer.ts', '--topic', topic, '--expect', String(events), '--brokers', o.brokers.join(','), '--registry', o.registry],
      env: {},
      logFile: join(h.logDir, 'bare-consumer-prof.log'),
      cpuProfDir: bareDir,
    });
    await bp.exited;
    bareProfile = await largestProfile(bareDir);

    log('throughput: detector again under --cpu-prof');
    const dir = join(h.workDir, 'cpu-prof');
    await mkdir(dir, { recursive: true });
    const prof = await h.startDetector('throughput-prof', topic, modelsFile, {}, dir);
    await h.measureConsumption(prof, events, Math.max(180_000, (events / 5000) * 1000));
    await prof.child.stop(60_000);
    profile = await largestProfile(dir);
  }

  const result: ThroughputResult = {
    topic,
    events,
    models: o.models,
    features: '20 numeric + 5 categorical',
    format: o.format,
    partitions: o.partitions,
    produce: produced && { eventsPerSecond: round(produced.eventsPerSecond), bytesPerEvent: round(produced.bytes / produced.produced, 1), elapsedMs: round(produced.elapsedMs) },
    bare: {
      eventsPerSecond: round(bare.eventsPerSecond),
      elapsedMs: round(bare.elapsedMs),
      cpuMs: round(bare.cpuMs),
      eventsPerCpuSecond: round(events / (bare.cpuMs / 1000)),
      peakRssMb: round(bareChild.peakRssMb, 1),
      decodeErrors: bare.decodeErrors,
    },
    detector: {
      eventsPerSecond: round(m.eventsPerSecond),
      elapsedMs: round(m.elapsedMs),
      cpuMs: round(m.cpuMs),
      eventsPerCpuSecond: round((events - m.startOffset) / (m.cpuMs / 1000)),
      peakRssMb: round(run.child.peakRssMb, 1),
      rssAtEndMb: round(run.child.lastRssMb, 1),
      consumed: m.counters!.consumed,
      late: m.counters!.late,
      invalid: m.counters!.invalid,
      alerts: m.counters!.alerts,
    },
    ratio: round(m.eventsPerSecond / bare.eventsPerSecond, 3),
    cpuRatio: round((events - m.startOffset) / (m.cpuMs / 1000) / (events / (bare.cpuMs / 1000)), 3),
    loadavg: [round(load0, 2), round(loadavg()[0], 2)],
    variant,
    ...(workers.length > 0 ? { workers } : {}),
    profile,
    bareProfile,
  };
  if (!o.reuseTopic) await h.deleteTopics([topic]);
  return result;
}

// ---------------------------------------------------------------------------- memory

/** One memory scenario: N models x 25 features x the default windows. */
interface MemoryScenario {
  name: 'memory' | 'memory-large';
  models: number;
  perMinute: number;
  minutes: number;
  timeoutMs: number;
  /** Longest time without progress before the run is given up (1,000 models evaluate 1,000 windows at each pane end). */
  stallMs: number;
  targetMb: number;
}

function memoryScenario(o: Options, name: MemoryScenario['name']): MemoryScenario {
  return name === 'memory'
    ? { name, models: o.memoryModels, perMinute: o.memoryPerMinute, minutes: o.memoryMinutes, timeoutMs: o.memoryTimeoutMs, stallMs: 45_000, targetMb: TARGETS.rssMb }
    : { name, models: o.largeModels, perMinute: o.largePerMinute, minutes: o.memoryMinutes, timeoutMs: o.largeTimeoutMs, stallMs: o.largeStallMs, targetMb: TARGETS.largeRssMb };
}

interface MemoryResult extends Pick<SweepRun, 'complete' | 'stopReason' | 'counted' | 'minutesProcessed' | 'peakRssMb' | 'rssAtEndMb' | 'evaluations' | 'detectorErrors'> {
  targetMb: number;
  models: number;
  features: number;
  windows: string;
  eventTimeMinutes: number;
  events: number;
  catchUpEventsPerSecond: number;
  variant?: { name: string; complete: boolean; peakRssMb: number; rssAtEndMb: number; heap?: Record<string, number> };
  /** One entry per `--sweep` set, in order; the figures above are the first one's. */
  sweep: SweepRun[];
  /** Per-item heap costs and what they add up to at steady state (see memory-footprint.ts). */
  footprint?: Footprint & { projection: Record<string, number> };
  loadavg: number[];
}

/** One detector run of a memory scenario under one runtime flag set. */
interface SweepRun {
  flags: string;
  /** Whether the detector caught up with the whole topic within the time box. */
  complete: boolean;
  stopReason?: string;
  counted: number;
  /** Event-time minutes the detector had processed when the measurement ended (about). */
  minutesProcessed: number;
  peakRssMb: number;
  rssAtEndMb: number;
  eventsPerSecond: number;
  eventsPerCpuSecond: number;
  /** Peaks of V8's heap used and reserved and of memory outside the heap, from /metrics every 250 ms. */
  heapPeakMb: { used: number; total: number; external: number };
  evaluations?: number;
  detectorErrors: string[];
  loadavg: number[];
}

/** Runs the detector on a filled memory-scenario topic under one flag set and measures it to the end or the time box. */
async function sweepRun(h: Harness, s: MemoryScenario, topic: string, modelsFile: string, events: number, set: FlagSet, index: number): Promise<SweepRun> {
  const load0 = loadavg()[0];
  const runName = index === 0 ? s.name : `${s.name}-${index}`;
  log(`${s.name}: detector with the default windows (1m tumbling, 1h sliding by 5m), flags ${set.label}, at most ${s.timeoutMs / 1000} s`);
  const run = await h.startDetector(runName, topic, modelsFile, flagSetEnv(set, h.options.detectorEnv), undefined, undefined, set.nodeFlags.filter((f) => COMMAND_LINE_ONLY.has(f)), set.cli);
  const m = await h.measureConsumption(run, events, s.timeoutMs, s.stallMs);
  if (m.complete) {
    // Let the last evaluations finish, then read the settled RSS.
    await new Promise((r) => setTimeout(r, 3000));
  }
  run.child.sample();
  const rssAtEndMb = run.child.lastRssMb;
  let evaluations: number | undefined;
  try {
    const text = await (await fetch(`${run.url}/metrics`)).text();
    evaluations = text
      .split('\n')
      .filter((l) => l.startsWith('driftstream_evaluations_total{'))
      .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  } catch {
    // the detector may have stopped
  }
  await run.child.stop(10_000);
  const detectorErrors = await h.detectorErrors(runName);
  const result: SweepRun = {
    flags: set.label,
    complete: m.complete,
    stopReason: m.stopReason,
    counted: m.counted,
    minutesProcessed: round((m.counted / events) * s.minutes, 1),
    peakRssMb: round(run.child.peakRssMb, 1),
    rssAtEndMb: round(rssAtEndMb, 1),
    eventsPerSecond: round(m.eventsPerSecond),
    eventsPerCpuSecond: m.cpuMs > 0 ? round((m.counted - m.startOffset) / (m.cpuMs / 1000)) : 0,
    heapPeakMb: m.heapPeakMb,
    evaluations,
    detectorErrors,
    loadavg: [round(load0, 2), round(loadavg()[0], 2)],
  };
  log(`${s.name} [${set.label}]: peak RSS ${result.peakRssMb} MB, ${result.eventsPerCpuSecond} events per CPU-s, after ${m.counted} of ${events} events${m.complete ? '' : ` (${m.stopReason})`}`);
  return result;
}

async function memoryPhase(h: Harness, s: MemoryScenario): Promise<MemoryResult> {
  const o = h.options;
  const name = s.name;
  const models = modelIds(name === 'memory' ? 'mem' : 'memlg', s.models);
  const modelsFile = await writeScenario(h.workDir, name, models);
  const topic = `load-${name}-${h.runId}`;
  const perSecond = (s.models * s.perMinute) / 60;
  const events = s.models * s.perMinute * s.minutes;
  const start = Math.floor((Date.now() - (s.minutes + 10) * 60_000) / 60_000) * 60_000;
  const load0 = loadavg()[0];
  log(`${name}: producing ${events} events of ${s.models} models over ${s.minutes} min of event time to ${topic}`);
  await produce({ brokers: o.brokers, registryUrl: o.registry, topic, format: o.format, models, count: events, eventTimeStart: start, eventTimeRate: perSecond, partitions: o.partitions });
  const sweep: SweepRun[] = [];
  for (const [i, set] of o.sweep.entries()) sweep.push(await sweepRun(h, s, topic, modelsFile, events, set, i));
  const first = sweep[0];
  let variant: MemoryResult['variant'];
  if (o.variant) {
    const v = await h.startDetector(`${name}-${o.variant}`, topic, modelsFile, {}, undefined, o.variant);
    const vm = await h.measureConsumption(v, events, s.timeoutMs, s.stallMs);
    if (vm.complete) await new Promise((r) => setTimeout(r, 3000));
    v.child.sample();
    const rssAtEndMb = round(v.child.lastRssMb, 1);
    // What is still live after a full GC, against what RSS holds.
    const heapLine = v.child.stdout.length;
    v.child.process.kill('SIGUSR2');
    await waitFor(() => v.child.stdout.length > heapLine, 10_000, 'the heap report').catch(() => undefined);
    const heap = v.child.stdout.slice(heapLine).trim().split('\n').pop();
    await v.child.stop(10_000);
    variant = {
      name: o.variant,
      complete: vm.complete,
      peakRssMb: round(v.child.peakRssMb, 1),
      rssAtEndMb,
      heap: heap ? (JSON.parse(heap) as Record<string, number>) : undefined,
    };
    log(`${name}: variant ${o.variant} peak RSS ${variant.peakRssMb} MB`);
  }
  await h.deleteTopics([topic]);

  log(`${name}: per-item footprint (child process with --expose-gc)`);
  let footprint: MemoryResult['footprint'];
  const fp = new NodeChild({
    args: ['--expose-gc', 'load-tests/memory-footprint.ts', String(s.perMinute)],
    env: {},
    logFile: join(h.logDir, `${name}-footprint.log`),
    captureStdout: true,
  });
  if ((await fp.exited) === 0) {
    const f = JSON.parse(fp.stdout.trim().split('\n').pop()!) as Footprint;
    const panesPerHour = 60 * s.models;
    const evalsPerHour = s.models * (60 + 12); // 1m window every minute, 1h window every 5 minutes
    footprint = {
      ...f,
      projection: {
        // The evaluator's window cache: 12 slide-long blocks of the 1h window and about 3 merged panes per model;
        // the partitions' open panes: about 2 per model.
        windowCacheMb: round((s.models * (12 * f.blockBytes + 3 * f.keptPaneBytes)) / 1e6, 1),
        openPanesMb: round((s.models * 2 * f.openPaneBytes) / 1e6, 1),
        coordinatorPayloadMbPer10Min: round((10 * panesPerHour / 60 * f.paneJsonBytes) / 1e6, 1),
        evaluationsMbPerHour: round((evalsPerHour * f.evaluationBytes) / 1e6, 1),
        evaluationsMbAtRepositoryCap: round((s.models * 2 * DEFAULT_EVALUATIONS_PER_WINDOW * f.evaluationBytes) / 1e6),
        labelJoinMbPerMillionEvents: round((1e6 * f.labelJoinBytesPerEvent) / 1e6),
      },
    };
  }
  return {
    targetMb: s.targetMb,
    models: s.models,
    features: 25,
    windows: '1m tumbling + 1h sliding by 5m',
    eventTimeMinutes: s.minutes,
    events,
    complete: first.complete,
    stopReason: first.stopReason,
    counted: first.counted,
    minutesProcessed: first.minutesProcessed,
    peakRssMb: first.peakRssMb,
    rssAtEndMb: first.rssAtEndMb,
    catchUpEventsPerSecond: first.eventsPerSecond,
    evaluations: first.evaluations,
    detectorErrors: first.detectorErrors,
    variant,
    sweep,
    footprint,
    loadavg: [round(load0, 2), round(loadavg()[0], 2)],
  };
}

// ---------------------------------------------------------------------------- live

interface LiveResult {
  models: number;
  rate: number;
  achievedRate: number;
  paneMs: number;
  latenessMs: number;
  budgetMs: number;
  samples: number;
  missed: number;
  delayMs: { p50: number; p95: number; max: number; min: number };
  /** Alert time minus the earliest the pane holding the first drifted event can close (pane end + lateness). */
  overheadMs: { p50: number; p95: number; max: number };
  unexpectedAlerts: string[];
  peakRssMb: number;
  loadavg: number[];
}

async function livePhase(h: Harness): Promise<LiveResult> {
  const o = h.options;
  const models = modelIds('live', o.liveModels);
  const pane = o.livePaneMs;
  const paneText = `${pane}ms`;
  const modelsFile = await writeScenario(h.workDir, 'live', models, {
    windows: [
      { name: 'tumbling', size: paneText },
      { name: 'sliding', size: `${pane * 6}ms`, slide: paneText },
    ],
    allowedLateness: `${o.liveLatenessMs}ms`,
  });
  const topic = `load-live-${h.runId}`;
  await ensureTopic(h.kafka, topic, o.partitions);
  const load0 = loadavg()[0];
  const run = await h.startDetector('live', topic, modelsFile, { DRIFTSTREAM_IDLE_TIMEOUT: '10s' });
  const reader = new AlertReader(o.brokers, o.registry, run.alertsTopic);
  await reader.start();
  // The detector consumes once its group is stable; give it a moment before the clock starts.
  await waitFor(async () => {
    const admin = h.kafka.admin();
    await admin.connect();
    try {
      const { groups } = await admin.describeGroups([run.groupId]);
      return groups[0]?.state === 'Stable';
    } finally {
      await admin.disconnect();
    }
  }, 60_000, 'the live detector to join its group', 500);

  // Drift begins one and a half panes after a warm-up, at a different offset per model
  // (spread over the first half of a pane), so delays cover where in a pane drift starts.
  const t0 = Date.now();
  const driftBase = Math.ceil((t0 + 2.5 * pane) / pane) * pane;
  const driftFrom = new Map(models.map((m, i) => [m, driftBase + Math.floor((i / models.length) * 0.5 * pane)]));
  const budget = pane + o.liveLatenessMs + TARGETS.delaySlackMs;
  const lastDrift = Math.max(...driftFrom.values());
  const hardEnd = lastDrift + 2 * pane + o.liveLatenessMs + 15_000;
  const expected = models.length * DRIFTED_FEATURES.length;
  const fired = (): Set<string> => {
    const s = new Set<string>();
    for (const a of reader.firing()) if (a.alert.kind === 'FEATURE_DRIFT' && a.alert.feature) s.add(`${a.alert.modelId}|${a.alert.feature}`);
    return s;
  };
  let allFiredAt: number | undefined;
  log(`live: ${o.liveModels} models at ${o.liveRate} events/s, pane ${pane} ms, lateness ${o.liveLatenessMs} ms; drift from ${new Date(driftBase).toISOString().slice(11, 23)}`);
  const produced = await produce({
    brokers: o.brokers,
    registryUrl: o.registry,
    topic,
    format: o.format,
    models,
    rate: o.liveRate,
    durationMs: hardEnd - Date.now(),
    driftFrom: (m) => driftFrom.get(m)!,
    batchSize: 500,
    partitions: o.partitions,
    shouldStop: () => {
      // Keep traffic going a little past the last expected alert (watermarks need events).
      if (allFiredAt === undefined && fired().size >= expected) allFiredAt = Date.now();
      return allFiredAt !== undefined && Date.now() - allFiredAt > 2000;
    },
  });
  await new Promise((r) => setTimeout(r, 1000));
  run.child.sample();
  await run.child.stop();
  await reader.stop();

  const delays: number[] = [];
  const overheads: number[] = [];
  let missed = 0;
  const unexpected: string[] = [];
  for (const modelId of models) {
    const first = produced.firstDrifted[modelId];
    for (const feature of DRIFTED_FEATURES) {
      const alerts = reader
        .firing()
        .filter((a) => a.alert.modelId === modelId && a.alert.kind === 'FEATURE_DRIFT' && a.alert.feature === feature)
        .sort((a, b) => a.appearedAt - b.appearedAt);
      if (first === undefined || alerts.length === 0) {
        missed++;
        continue;
      }
      delays.push(alerts[0].appearedAt - first);
      const floor = Math.ceil((first + 1) / pane) * pane + o.liveLatenessMs;
      overheads.push(alerts[0].appearedAt - floor);
    }
  }
  for (const { alert } of reader.alerts) {
    const drifting = DRIFTED_FEATURES.includes(alert.feature ?? '') && alert.kind === 'FEATURE_DRIFT';
    const early = alert.windowEnd <= (driftFrom.get(alert.modelId) ?? Infinity);
    if (!drifting || early) unexpected.push(`${alert.modelId} ${alert.kind} ${alert.feature ?? '-'} ${alert.statistic} ${alert.status} ${alert.windowName}@${alert.windowStart}`);
  }
  delays.sort((a, b) => a - b);
  overheads.sort((a, b) => a - b);
  await h.deleteTopics([topic, run.alertsTopic]);
  return {
    models: o.liveModels,
    rate: o.liveRate,
    achievedRate: round(produced.eventsPerSecond),
    paneMs: pane,
    latenessMs: o.liveLatenessMs,
    budgetMs: budget,
    samples: delays.length,
    missed,
    delayMs: { p50: round(quantile(delays, 0.5)), p95: round(quantile(delays, 0.95)), max: round(delays[delays.length - 1] ?? NaN), min: round(delays[0] ?? NaN) },
    overheadMs: { p50: round(quantile(overheads, 0.5)), p95: round(quantile(overheads, 0.95)), max: round(overheads[overheads.length - 1] ?? NaN) },
    unexpectedAlerts: unexpected.slice(0, 50),
    peakRssMb: round(run.child.peakRssMb, 1),
    loadavg: [round(load0, 2), round(loadavg()[0], 2)],
  };
}

// ---------------------------------------------------------------------------- report

function table(results: { throughput?: ThroughputResult; memory?: MemoryResult; memoryLarge?: MemoryResult; live?: LiveResult }): string {
  const rows: [string, string, string, string][] = [];
  const mark = (ok: boolean | undefined) => (ok === undefined ? '' : ok ? 'PASS' : 'MISS');
  const n = (x: number) => x.toLocaleString('en-US');
  const t = results.throughput;
  if (t) {
    rows.push(['bare kafkajs consumer (decode only)', `${n(t.bare.eventsPerSecond)} events/s`, '', '']);
    rows.push(['detector (driftstream run)', `${n(t.detector.eventsPerSecond)} events/s`, `>= ${n(TARGETS.eventsPerSecond)}`, mark(t.detector.eventsPerSecond >= TARGETS.eventsPerSecond)]);
    rows.push(['ratio detector / bare', String(t.ratio), `>= ${TARGETS.ratio}`, mark(t.ratio >= TARGETS.ratio)]);
    rows.push(['  per CPU-second: bare / detector', `${n(t.bare.eventsPerCpuSecond)} / ${n(t.detector.eventsPerCpuSecond)} (ratio ${t.cpuRatio})`, '', '']);
    rows.push(['  detector peak RSS (throughput run)', `${t.detector.peakRssMb} MB`, '', '']);
    for (const w of t.workers ?? []) rows.push([`  detector, DRIFTSTREAM_WORKERS=${w.workers}`, `${n(w.eventsPerSecond)} events/s, ${n(w.eventsPerCpuSecond)} per CPU-s, ${w.peakRssMb} MB`, `ratio ${w.ratio} wall, ${w.cpuRatio} per CPU-s`, '']);
    if (t.variant) rows.push([`  variant ${t.variant.name}`, `${n(t.variant.eventsPerSecond)} events/s, ${n(t.variant.eventsPerCpuSecond)} per CPU-s, ${t.variant.peakRssMb} MB`, '', '']);
  }
  for (const m of [results.memory, results.memoryLarge]) {
    if (!m) continue;
    rows.push([`peak RSS, ${n(m.models)} models x ${m.features} features x 2 windows`, `${m.peakRssMb} MB`, `< ${n(m.targetMb)} MB`, mark(m.peakRssMb < m.targetMb)]);
    rows.push([`  after ${m.minutesProcessed} of ${m.eventTimeMinutes} min of event time`, m.complete ? 'caught up' : `stopped: ${m.stopReason}`, '', '']);
    if (m.sweep.length > 1 || m.sweep[0]?.flags !== 'default') {
      for (const r of m.sweep) {
        rows.push([
          `  [${r.flags}]`,
          `${r.peakRssMb} MB peak, ${n(r.eventsPerCpuSecond)} per CPU-s, heap ${r.heapPeakMb.used}/${r.heapPeakMb.total} MB${r.complete ? '' : `, ${r.minutesProcessed} min`}`,
          `< ${n(m.targetMb)} MB`,
          mark(r.complete && r.peakRssMb < m.targetMb),
        ]);
      }
    }
    if (m.footprint) {
      const f = m.footprint;
      rows.push([`  bytes per (feature, pane) open / kept, per (feature, 5-min block); ${f.eventsPerPane} events a pane`, `${n(f.bytesPerFeatureOpenPane)} / ${n(f.bytesPerFeatureKeptPane)}, ${n(f.bytesPerFeatureBlock)} B`, '', '']);
      rows.push(['  pane open / closed / kept, block kept, pane JSON', `${n(f.openPaneBytes)} / ${n(f.paneObjectBytes)} / ${n(f.keptPaneBytes)}, ${n(f.blockBytes)}, ${n(f.paneJsonBytes)} B`, '', '']);
      rows.push(['  evaluation kept / label-join event', `${n(f.evaluationBytes)} / ${n(f.labelJoinBytesPerEvent)} B`, '', '']);
      rows.push(['  window cache / open panes (projected)', `${f.projection.windowCacheMb} / ${f.projection.openPanesMb} MB`, '', '']);
      rows.push([`  evaluations per hour / kept (${DEFAULT_EVALUATIONS_PER_WINDOW} per model and window)`, `${f.projection.evaluationsMbPerHour} / ${n(f.projection.evaluationsMbAtRepositoryCap)} MB`, '', '']);
      rows.push(['  label join per million events', `${f.projection.labelJoinMbPerMillionEvents} MB`, '', '']);
    }
    if (m.variant) {
      const heap = m.variant.heap?.heapAfterGcMb;
      rows.push([`  variant ${m.variant.name} (tsx)`, `${m.variant.peakRssMb} MB peak${heap !== undefined ? `, live heap after GC ${heap} MB` : ''}`, '', '']);
    }
  }
  const l = results.live;
  if (l) {
    rows.push([`detection delay p50 (${l.samples} model x feature)`, `${n(l.delayMs.p50)} ms`, '', '']);
    rows.push(['detection delay p95', `${n(l.delayMs.p95)} ms`, `<= ${n(l.budgetMs)} ms`, mark(l.missed === 0 && l.delayMs.p95 <= l.budgetMs)]);
    rows.push(['  after pane end + lateness, p50 / p95', `${n(l.overheadMs.p50)} / ${n(l.overheadMs.p95)} ms`, '', '']);
    rows.push(['  missed / unexpected alerts', `${l.missed} / ${l.unexpectedAlerts.length}`, '0 / 0', mark(l.missed === 0 && l.unexpectedAlerts.length === 0)]);
    rows.push(['  detector peak RSS (live)', `${l.peakRssMb} MB`, '', '']);
  }
  const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length), 6));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i])).join('  ');
  return [line(['figure', 'measured', 'target', '']), line(w.map((x) => '-'.repeat(x))), ...rows.map(line)].join('\n');
}

/** The commit the detector was built from, and whether src/ had uncommitted changes. */
async function sourceState(): Promise<{ commit?: string; uncommittedSrc?: boolean }> {
  const git = (args: string[]) =>
    new Promise<string | undefined>((resolve) => {
      const p = spawn('git', args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      p.stdout.on('data', (c: Buffer) => (out += c.toString()));
      p.once('exit', (code) => resolve(code === 0 ? out.trim() : undefined));
      p.once('error', () => resolve(undefined));
    });
  const commit = await git(['rev-parse', '--short', 'HEAD']);
  const status = await git(['status', '--porcelain', '--', 'src']);
  return { commit, uncommittedSrc: status === undefined ? undefined : status.length > 0 };
}

async function main(): Promise<void> {
  const options = parseOptions();
  if (!options) return;
  const workDir = await mkdtemp(join(tmpdir(), 'driftstream-load-'));
  const h = new Harness(options, workDir);
  log(`run ${h.runId}; logs and models in ${workDir}`);
  if (!options.tsx) {
    log('compiling src/ for the detector processes');
    h.compiledCli = await h.buildCompiled();
    if (!h.compiledCli) log('compile failed; running src/cli.ts through tsx');
  }
  const results: { throughput?: ThroughputResult; memory?: MemoryResult; memoryLarge?: MemoryResult; live?: LiveResult } = {};
  const errors: Record<string, string> = {};
  // A phase that fails is reported and the next one still runs.
  const phase = async <T>(name: string, fn: (h: Harness) => Promise<T>): Promise<T | undefined> => {
    if (!options.phases.has(name)) return undefined;
    try {
      return await fn(h);
    } catch (err) {
      errors[name] = (err as Error).message;
      log(`${name} failed: ${(err as Error).stack ?? (err as Error).message}`);
      return undefined;
    } finally {
      await h.stopAll();
    }
  };
  results.throughput = await phase('throughput', throughputPhase);
  results.memory = await phase('memory', (h) => memoryPhase(h, memoryScenario(options, 'memory')));
  results.memoryLarge = await phase('memory-large', (h) => memoryPhase(h, memoryScenario(options, 'memory-large')));
  results.live = await phase('live', livePhase);
  if (Object.keys(errors).length > 0) process.exitCode = 1;
  const report = {
    runId: h.runId,
    startedAt: new Date(h.started).toISOString(),
    durationS: round((Date.now() - h.started) / 1000, 1),
    command: process.argv.length > 2 ? `npm run load -- ${process.argv.slice(2).join(' ')}` : 'npm run load',
    detector: h.compiledCli ? 'node dist/cli.js run (compiled from the work tree)' : 'node --import tsx src/cli.ts run',
    source: await sourceState(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, loadavgAtEnd: loadavg().map((x) => round(x, 2)) },
    targets: TARGETS,
    ...results,
    ...(Object.keys(errors).length > 0 ? { errors } : {}),
  };
  await mkdir(join(options.out, '..'), { recursive: true });
  await writeFile(options.out, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(JSON.stringify(report, null, 2) + '\n\n');
  process.stdout.write(table(results) + '\n');
  for (const [what, p] of [
    ['detector', results.throughput?.profile],
    ['bare consumer', results.throughput?.bareProfile],
  ] as const) {
    if (!p) continue;
    process.stdout.write(`\n${what} CPU profile (${p.totalMs} ms sampled), self time by area:\n`);
    for (const a of p.byArea) process.stdout.write(`  ${String(a.selfPct).padStart(5)}%  ${a.frame}\n`);
    process.stdout.write('top frames:\n');
    for (const f of p.top) process.stdout.write(`  ${String(f.selfPct).padStart(5)}%  ${f.frame}\n`);
  }
  log(`done in ${report.durationS} s; results in ${options.out}`);
}

main().catch((err: Error) => {
  log(`failed: ${err.stack ?? err.message}`);
  process.exitCode = 1;
});
