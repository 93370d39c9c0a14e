/**
 * `driftstream run` with one part of the hot path replaced, to measure what
 * that part costs (same configuration, same HTTP /metrics as the real
 * command). Used by `npm run load -- --variant NAME`:
 *
 * - `plain`: nothing replaced (to compare heaps with the same harness);
 * - `no-label-join`: valid inferences are not recorded in the label join
 *   (the in-memory join otherwise keeps every one for the label horizon).
 *
 * With `--expose-gc`, SIGUSR2 collects garbage and prints one JSON line with
 * the heap that is still live, to tell retained state from GC slack in RSS.
 *
 * `node --expose-gc --import tsx load-tests/run-variant.ts NAME --models FILE`
 */
import { loadConfig } from '../src/config/config.js';
import { startRun } from '../src/commands/run.js';
import { createLogger } from '../src/observability/logger.js';
import type { InferenceSink } from '../src/ports/inference-sink.js';

const NOOP_SINK: InferenceSink = {
  add() {},
  async flush() {},
  clear() {},
};

async function main(): Promise<void> {
  const [variant, flag, models] = process.argv.slice(2);
  if ((variant !== 'plain' && variant !== 'no-label-join') || flag !== '--models' || !models) {
    throw new Error('usage: run-variant.ts plain|no-label-join --models FILE');
  }
  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel);
  const deps = variant === 'no-label-join' ? { inferenceSink: () => NOOP_SINK } : {};
  const handle = await startRun(config, { models, startFrom: 'earliest', logger, deps });
  process.on('SIGUSR2', () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) {
      gc();
      gc();
    }
    const m = process.memoryUsage();
    const mb = (n: number) => Math.round(n / 1e5) / 10;
    process.stdout.write(JSON.stringify({ heapAfterGcMb: gc ? mb(m.heapUsed) : null, heapTotalMb: mb(m.heapTotal), externalMb: mb(m.external), arrayBuffersMb: mb(m.arrayBuffers), rssMb: mb(m.rss) }) + '\n');
  });
  const stop = () => void handle.close().then(() => process.exit(0), () => process.exit(1));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: Error) => {
  process.stderr.write(`run-variant: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
