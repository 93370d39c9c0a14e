// The system under test of load-tests/http-drift.ts, in its own process: the
// detector consuming the inference topic and the HTTP service beside it, as
// `driftstream run` wires them. Configured by the environment; prints one JSON
// line {"url": ...} once listening; stops on SIGTERM.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pino } from 'pino';
import { MemoryModelRepository, MemoryResultRepository } from '../src/adapters/memory/index.js';
import { startHttp } from '../src/commands/serve.js';
import { loadConfig } from '../src/config/config.js';
import { startDetector } from '../src/app/detector.js';
import { createLogger } from '../src/observability/logger.js';

const config = loadConfig(process.env);
// Request logs at the default level, written where they cost what they cost in production but do not flood the terminal.
const logger = createLogger(config.logLevel, pino.destination({ dest: '/dev/null', sync: false }));
const detector = await startDetector(
  config,
  { logger, models: new MemoryModelRepository(), results: new MemoryResultRepository() },
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

process.once('SIGTERM', () => {
  void (async () => {
    loop.disable();
    const ms = (ns: number) => Math.round(ns / 1e5) / 10;
    process.stderr.write(
      `target event-loop delay: p50 ${ms(loop.percentile(50))} ms, p99 ${ms(loop.percentile(99))} ms, max ${ms(loop.max)} ms; ` +
        `detector consumed ${detector.state.counters.consumed} events, ${detector.state.counters.evaluations} evaluations\n`,
    );
    await http.close();
    await detector.stop();
    process.exit(0);
  })();
});
