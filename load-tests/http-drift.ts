// HTTP load test of the drift endpoint while the detector ingests.
//
//   npx tsx load-tests/http-drift.ts [--rate 500] [--duration 30] [--ingest 5000|max] [--backlog 3000000] [--connections 10] [--topology combined|separate]
//
// combined (default, `driftstream run`): the detector and the HTTP service share one process
// (load-tests/http-target.ts), the drift route answering from the detector's memory.
// separate: `driftstream run --no-http` and `driftstream serve` in two processes over PostgreSQL and
// Redis (a private schema and key prefix), the drift route reading PostgreSQL.
//
// Starts the target, declares a model of 20 numeric and 5 categorical features over HTTP and
// uploads its reference, produces inference events in real time to a fresh topic at --ingest
// events/s (or, with --ingest max, a backlog of --backlog events as fast as it can while the
// detector is held, which the detector then consumes at its own maximum rate while the routes are
// measured; each run prints the rate the detector consumed, so a backlog that ran out shows), and
// once windows are being evaluated drives GET /api/v1/models/{id}/drift with
// autocannon: first at a fixed --rate requests/s (target: p99 < 50 ms at 500 req/s), then
// unthrottled to find the ceiling. Prints requests/s, latency percentiles, errors, the detector's
// ingest rate, the target's event-loop delay and CPU share (combined topology), this client's own
// event-loop delay (autocannon times requests on it) and the machine's load average for each run,
// and writes them to
// test-artifacts/http-load-<topology>.json. Traffic goes to 127.0.0.1 only; every loop is bounded
// in time.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import pg from 'pg';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '500' },
    duration: { type: 'string', default: '30' },
    ingest: { type: 'string', default: '5000' },
    backlog: { type: 'string', default: '3000000' },
    connections: { type: 'string', default: '10' },
    topology: { type: 'string', default: 'combined' },
    'database-url': { type: 'string', default: process.env.DRIFTSTREAM_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    'redis-url': { type: 'string', default: process.env.DRIFTSTREAM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' },
    brokers: { type: 'string', default: process.env.DRIFTSTREAM_KAFKA_BROKERS ?? '127.0.0.1:9092' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(`npm run load:http -- [options]   HTTP load on the drift route while the detector ingests

  --rate N            requests/s of the fixed-rate run (target: p99 < 50 ms at 500)  [500]
  --duration S        seconds of each autocannon run  [30]
  --ingest N|max      live events/s, or max: a backlog consumed at the detector's own rate  [5000]
  --backlog N         events of the --ingest max backlog  [3000000]
  --connections N     autocannon connections  [10]
  --topology T        combined (driftstream run serves HTTP) or separate (run --no-http + serve over
                      PostgreSQL and Redis)  [combined]
  --database-url URL  PostgreSQL of the separate topology  [DRIFTSTREAM_TEST_DATABASE_URL or local test db]
  --redis-url URL     Redis of the separate topology  [DRIFTSTREAM_TEST_REDIS_URL or local]
  --brokers B         [DRIFTSTREAM_KAFKA_BROKERS or 127.0.0.1:9092]`);
  process.exit(0);
}
const RATE = Number(args.rate);
const DURATION = Number(args.duration);
const INGEST = args.ingest === 'max' ? ('max' as const) : Number(args.ingest);
if (INGEST !== 'max' && !(INGEST > 0)) throw new Error(`--ingest: expected events/s or max, got ${args.ingest}`);
const BACKLOG = Number(args.backlog);
const CONNECTIONS = Number(args.connections);
const TOPOLOGY = args.topology;
if (TOPOLOGY !== 'combined' && TOPOLOGY !== 'separate') throw new Error(`--topology: expected combined or separate, got ${TOPOLOGY}`);
const ROOT = join(import.meta.dirname, '..');
const run = randomUUID().slice(0, 8);
const modelId = `load-${run}`;
const topic = `load-http-inference-${run}`;
const NUMERIC = Array.from({ length: 20 }, (_, i) => `f${i}`);
const CATEGORICAL = Array.from({ length: 5 }, (_, i) => `c${i}`);
const CATS = ['a', 'b', 'c', 'd', 'e'];
const KEY = `load-editor-${run}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// This process's own event-loop delay: autocannon measures latency on this loop, so time the
// client itself is held (by the producer, say) shows in the latencies it reports.
const own = monitorEventLoopDelay({ resolution: 5 });
own.enable();

function gauss(): number {
  return Math.sqrt(-2 * Math.log(Math.max(Math.random(), 1e-12))) * Math.cos(2 * Math.PI * Math.random());
}
function row(drift: boolean): Record<string, number | string> {
  const r: Record<string, number | string> = {};
  for (const f of NUMERIC) r[f] = gauss() + (drift && f === 'f0' ? 1 : 0);
  for (const c of CATEGORICAL) r[c] = CATS[Math.floor(Math.random() * CATS.length)];
  return r;
}

const kafka = new Kafka({ clientId: 'load-http', brokers: args.brokers.split(','), logLevel: logLevel.ERROR });
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3 }] });

const baseEnv = {
  ...process.env,
  DRIFTSTREAM_KAFKA_BROKERS: args.brokers,
  DRIFTSTREAM_INFERENCE_TOPIC: topic,
  DRIFTSTREAM_ALERTS_TOPIC: `load-http-alerts-${run}`,
  DRIFTSTREAM_METRICS_TOPIC: `load-http-metrics-${run}`,
  DRIFTSTREAM_DLQ_TOPIC: `load-http-dlq-${run}`,
  DRIFTSTREAM_GROUP_ID: `load-http-${run}`,
  DRIFTSTREAM_API_KEYS: `editor:${KEY}`,
  DRIFTSTREAM_LOG_LEVEL: 'info',
  DRIFTSTREAM_IDLE_TIMEOUT: '2s',
};
// LOAD_TARGET_NODE_ARGS passes node flags to the target, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
const nodeArgs = (process.env.LOAD_TARGET_NODE_ARGS ?? '').split(' ').filter(Boolean);
const children: ChildProcess[] = [];
// Whatever ends this script, it leaves no target behind.
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});
const schema = `load_http_${run}`;
const redisPrefix = `driftstream-load:${run}:`;

// The combined target's process: "go" releases its held detector; "loop" answers with its event-loop
// delay and CPU time since the previous "loop".
let target: ChildProcess | undefined;
const targetAnswers: ((answer: TargetLoop) => void)[] = [];
interface TargetLoop {
  loopDelayMs: { p50: number; p99: number; max: number };
  cpuMs: number;
  wallMs: number;
  consumed: number;
}
function targetLoop(): Promise<TargetLoop | undefined> {
  if (!target) return Promise.resolve(undefined);
  const answer = new Promise<TargetLoop>((resolve) => targetAnswers.push(resolve));
  target.stdin!.write('loop\n');
  return answer;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startTarget(): Promise<string> {
  if (TOPOLOGY === 'combined') {
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(ROOT, 'load-tests', 'http-target.ts')], {
      cwd: ROOT,
      env: { ...baseEnv, DRIFTSTREAM_HTTP_PORT: '0', LOAD_TARGET_HOLD: INGEST === 'max' ? '1' : '0' },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    children.push(child);
    target = child;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the target did not start in 60 s')), 60_000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const message = JSON.parse(line);
        if (message.url === undefined) return targetAnswers.shift()?.(message);
        clearTimeout(timer);
        resolve(message.url);
      });
      child.once('exit', (code) => reject(new Error(`the target exited with ${code}`)));
    });
  }
  // Two processes over the shared state; their logs go nowhere (as to a log shipper that keeps up).
  const port = await freePort();
  const env = {
    ...baseEnv,
    DRIFTSTREAM_DATABASE_URL: args['database-url'],
    DRIFTSTREAM_DATABASE_SCHEMA: schema,
    DRIFTSTREAM_REDIS_URL: args['redis-url'],
    DRIFTSTREAM_REDIS_KEY_PREFIX: redisPrefix,
    DRIFTSTREAM_HTTP_PORT: String(port),
  };
  const cli = join(ROOT, 'src', 'cli.ts');
  const serve = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', cli, 'serve'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(serve);
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 60_000;
  for (;;) {
    if (Date.now() > until) throw new Error('serve did not start in 60 s');
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    await sleep(250);
  }
  // serve has applied the migrations; the detector starts after it.
  const detector = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', cli, 'run', '--no-http', '--start-from', 'latest'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(detector);
  return url;
}

const url = await startTarget();

async function call(method: string, path: string, body: string, type: string): Promise<void> {
  const r = await fetch(`${url}${path}`, { method, headers: { 'content-type': type, 'x-api-key': KEY }, body });
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
}
const features = Object.fromEntries([...NUMERIC.map((f) => [f, 'numeric']), ...CATEGORICAL.map((c) => [c, 'categorical'])]);
await call('PUT', `/api/v1/models/${modelId}`, JSON.stringify({ features, windows: [{ name: '5s', size: '5s' }, { name: '1m', size: '1m', slide: '5s' }], allowedLateness: '1s' }), 'application/json');
await call('POST', `/api/v1/models/${modelId}/reference`, Array.from({ length: 5000 }, () => JSON.stringify(row(false))).join('\n'), 'application/x-ndjson');

// Real-time traffic at INGEST events/s, the second half of every minute drifted on f0; or, with
// --ingest max, a backlog of BACKLOG events as fast as the producer goes, all of it before the held
// detector starts consuming: the detector then works at its own maximum rate, and the producer's
// work (in this process, beside the HTTP client) is over before the routes are measured.
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
await producer.connect();
let producing = true;
let produced = 0;
function event(i: number): { key: string; value: string } {
  const ts = Date.now();
  const drift = new Date(ts).getUTCSeconds() >= 30;
  return { key: `k${i % 97}`, value: JSON.stringify({ eventId: `${run}-${i}`, modelId, modelVersion: 'v1', timestamp: ts, features: row(drift), prediction: null, score: Math.random(), attributes: {} }) };
}
const producerLoop = (async () => {
  if (INGEST === 'max') {
    const inFlight: Promise<unknown>[] = [];
    while (producing && produced < BACKLOG) {
      const messages = Array.from({ length: Math.min(1000, BACKLOG - produced) }, (_, k) => event(produced + k));
      produced += messages.length;
      inFlight.push(producer.send({ topic, messages }));
      if (inFlight.length >= 8) await inFlight.shift();
    }
    await Promise.all(inFlight);
    return;
  }
  const tickMs = 100;
  let i = 0;
  const deadline = Date.now() + 15 * 60_000;
  while (producing && Date.now() < deadline) {
    const tick = Date.now();
    const messages = [];
    for (let k = 0; k < (INGEST * tickMs) / 1000; k++) messages.push(event(i++));
    await producer.send({ topic, messages });
    produced += messages.length;
    const spent = Date.now() - tick;
    if (spent < tickMs) await sleep(tickMs - spent);
  }
})();

async function consumed(): Promise<number | undefined> {
  // Only the combined target exposes the detector's counters.
  if (TOPOLOGY !== 'combined') return undefined;
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`driftstream_events_consumed_total\\{model="${modelId}"\\} (\\d+)`).exec(text);
  return m ? Number(m[1]) : 0;
}


interface Measured {
  label: string;
  connections: number;
  targetRate: number | null;
  durationS: number;
  requests: number;
  requestsPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  errors: number;
  non2xx: number;
  /** Events/s the detector consumed during the run (combined topology), else null. */
  ingestEventsPerSec: number | null;
  /** 1-minute load average of the machine after the run: other work on it skews latency. */
  loadAverage: number;
  /** The target's event-loop delay and CPU time during the run (combined topology). */
  target: TargetLoop | null;
  /** This process's own event-loop delay during the run: the client's share of the latency. */
  clientLoopDelayMs: { p99: number; max: number };
}

async function measure(label: string, options: { overallRate?: number; connections: number; duration: number }): Promise<Measured> {
  const before = await consumed();
  await targetLoop();
  own.reset();
  const started = Date.now();
  const result = await autocannon({ url: `${url}${driftPath}`, connections: options.connections, duration: options.duration, overallRate: options.overallRate });
  const seconds = (Date.now() - started) / 1000;
  const loop = await targetLoop();
  const ownDelay = { p99: Math.round(own.percentile(99) / 1e5) / 10, max: Math.round(own.max / 1e5) / 10 };
  const after = await consumed();
  const ingest = before === undefined || after === undefined ? null : (after - before) / seconds;
  const m: Measured = {
    label,
    connections: options.connections,
    targetRate: options.overallRate ?? null,
    durationS: options.duration,
    requests: result.requests.total,
    requestsPerSec: Math.round(result.requests.average),
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: Math.round(result.latency.mean * 100) / 100 },
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    ingestEventsPerSec: ingest === null ? null : Math.round(ingest),
    loadAverage: Math.round(loadavg()[0] * 100) / 100,
    target: loop ?? null,
    clientLoopDelayMs: ownDelay,
  };
  const t = m.target;
  console.log(
    `${label.padEnd(24)} ${String(m.requestsPerSec).padStart(6)} req/s  p50 ${m.latencyMs.p50} ms  p90 ${m.latencyMs.p90} ms  p99 ${m.latencyMs.p99} ms  max ${m.latencyMs.max} ms  errors ${m.errors}  non-2xx ${m.non2xx}  detector ingest ${m.ingestEventsPerSec ?? '(other process)'} events/s  load ${m.loadAverage}/${cpus().length} cores` +
      (t ? `\n${''.padEnd(24)} target: event-loop delay p50 ${t.loopDelayMs.p50} ms p99 ${t.loopDelayMs.p99} ms max ${t.loopDelayMs.max} ms, CPU ${(t.cpuMs / t.wallMs).toFixed(2)} of a core` : '') +
      `; client event-loop delay p99 ${m.clientLoopDelayMs.p99} ms max ${m.clientLoopDelayMs.max} ms`,
  );
  return m;
}

const driftPath = `/api/v1/models/${modelId}/drift?window=5s`;
const results: Measured[] = [];
try {
  if (INGEST === 'max') {
    const producing = Date.now();
    await producerLoop;
    console.log(`backlog of ${produced} events produced in ${((Date.now() - producing) / 1000).toFixed(1)} s; the detector starts consuming it`);
    target?.stdin!.write('go\n');
  }
  const waitUntil = Date.now() + 120_000;
  while ((await fetch(`${url}${driftPath}`)).status !== 200) {
    if (Date.now() > waitUntil) throw new Error(`no evaluation within 120 s (${produced} events produced, ${(await consumed()) ?? 'unknown'} consumed)`);
    await sleep(250);
  }
  const sample = await (await fetch(`${url}${driftPath}`)).text();
  console.log(`topology ${TOPOLOGY}; target ${url}; model ${modelId} (20 numeric + 5 categorical features); drift answer ${sample.length} bytes; ingest ${INGEST === 'max' ? `max (backlog of ${BACKLOG})` : `${INGEST} events/s`}`);
  await measure('warm-up', { overallRate: RATE, connections: CONNECTIONS, duration: 5 });
  results.push(await measure(`fixed ${RATE} req/s`, { overallRate: RATE, connections: CONNECTIONS, duration: DURATION }));
  results.push(await measure('unthrottled', { connections: CONNECTIONS * 2, duration: Math.min(DURATION, 15) }));
} finally {
  producing = false;
  await producerLoop;
  await producer.disconnect();
  for (const child of children.reverse()) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
  if (TOPOLOGY === 'separate') {
    const db = new pg.Client({ connectionString: args['database-url'] });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.end();
    const redis = new Redis(args['redis-url']);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
  }
}

const fixed = results[0];
const verdict = fixed.latencyMs.p99 < 50 && fixed.errors === 0 && fixed.non2xx === 0 ? 'PASS' : 'FAIL';
console.log(`\np99 at ${RATE} req/s: ${fixed.latencyMs.p99} ms (target < 50 ms) ${verdict}; events produced ${produced}`);
mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
writeFileSync(
  join(ROOT, 'test-artifacts', `http-load-${TOPOLOGY}.json`),
  JSON.stringify({ at: new Date().toISOString(), topology: TOPOLOGY, model: { numeric: 20, categorical: 5 }, ingestTarget: INGEST, results, verdict }, null, 2),
);
process.exit(verdict === 'PASS' ? 0 : 1);
