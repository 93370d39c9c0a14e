/**
 * `driftstream run` with one part of the hot path replaced, to measure what
 * that part costs (same configuration, same HTTP /metrics as the real
 * command). Used by `npm run load -- --variant NAME`:
 *
 * - `no-label-join`: valid inferences are not recorded in the label join
 *   (the in-memory join otherwise keeps every one for the label horizon).
 *
 * `node --import tsx load-tests/run-variant.ts NAME --models FILE`
 */
import { loadConfig } from '../src/config/config.js';
import { startRun } from '../src/commands/run.js';
import { createLogger } from '../src/observability/logger.js';
import type { InferenceSink } from '../src/stream/inference-processor.js';

const NOOP_SINK: InferenceSink = {
  add() {},
  async flush() {},
  clear() {},
};

async function main(): Promise<void> {
  const [variant, flag, models] = process.argv.slice(2);
  if (variant !== 'no-label-join' || flag !== '--models' || !models) throw new Error('usage: run-variant.ts no-label-join --models FILE');
  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel);
  const handle = await startRun(config, { models, startFrom: 'earliest', logger, deps: { inferenceSink: () => NOOP_SINK } });
  const stop = () => void handle.close().then(() => process.exit(0), () => process.exit(1));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: Error) => {
  process.stderr.write(`run-variant: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
