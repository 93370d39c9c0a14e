// The system under test of load-tests/http-drift.ts, in its own process: the
// detector consuming the inference topic and the HTTP service beside it, as
// `driftstream run` wires them. Configured by the environment; prints one JSON
// line {"url": ...} once listening; stops on SIGTERM. With LOAD_TARGET_HOLD=1 the detector joins
// but consumes nothing until a line "go" arrives on stdin (so a backlog can be produced first and
// then consumed at the detector's own maximum rate).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { MemoryModelRepository, MemoryResultRepository } from '../src/adapters/memory/index.js';
import { startHttp } from '../src/commands/serve.js';
import { loadConfig } from '../src/config/config.js';
import { startDetector } from '../src/app/detector.js';
import { createLogger } from '../src/observability/logger.js';

const config = loadConfig(process.env);
// Held: consumption pauses (as under backpressure) until "go".
let released = process.env.LOAD_TARGET_HOLD !== '1';
let release = (): void => {};
const go = new Promise<void>((resolve) => (release = resolve));
if (released) release();
const hold = { isFull: () => !released, whenWritable: () => go };
// Request logs at the default level, written where they cost what they cost in production but do not flood the terminal.
const logger = createLogger(config.logLevel, pino.destination({ dest: '/dev/null', sync: false }));
const detector = await startDetector(
  config,
  { logger, models: new MemoryModelRepository(), results: new MemoryResultRepository(), backpressure: hold },
  { modelRefreshIntervalMs: 500, startFrom: 'latest' },
);
const http = await startHttp(config, {
  logger,
  metrics: detector.metrics,
  models: detector.models,
  results: detector.results,
  state: detector.state,
  healthChecks: [],
});
await detector.joined;
// How long the event loop is held (by batch processing, evaluations, requests): what HTTP latency cannot go below.
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();
process.stdout.write(`${JSON.stringify({ url: http.url, pid: process.pid })}\n`);

// Commands on stdin, one a line: "go" releases a held detector; "loop" answers with one JSON line of
// the event-loop delay and the process's CPU time since the previous "loop", and starts a new interval.
const ms = (ns: number) => Math.round(ns / 1e5) / 10;
let since = { at: performance.now(), cpu: process.cpuUsage() };
createInterface({ input: process.stdin }).on('line', (line) => {
  const command = line.trim();
  if (command === 'go') {
    released = true;
    release();
  } else if (command === 'loop') {
    const now = { at: performance.now(), cpu: process.cpuUsage() };
    const cpu = now.cpu.user - since.cpu.user + (now.cpu.system - since.cpu.system);
    process.stdout.write(
      `${JSON.stringify({ loopDelayMs: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) }, cpuMs: Math.round(cpu / 1000), wallMs: Math.round(now.at - since.at), consumed: detector.state.counters.consumed })}\n`,
    );
    loop.reset();
    since = now;
  }
});

process.once('SIGTERM', () => {
  void (async () => {
    loop.disable();
    // The delay since the last "loop" command (each run's own figures were printed with it); none when nothing ran since.
    const tail = loop.count > 0 ? `target event-loop delay after the last run: p50 ${ms(loop.percentile(50))} ms, p99 ${ms(loop.percentile(99))} ms, max ${ms(loop.max)} ms; ` : '';
    process.stderr.write(`${tail}detector consumed ${detector.state.counters.consumed} events, ${detector.state.counters.evaluations} evaluations\n`);
    await http.close();
    await detector.stop();
    process.exit(0);
  })();
});
