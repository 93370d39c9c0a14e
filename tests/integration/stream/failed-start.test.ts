// `driftstream run` whose start fails (here: the schema registry does not answer) as a user runs it:
// it says why and ends with its exit code, whatever connections its start had opened.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BROKERS, uniqueName } from '../../support/kafka.js';
import { DATABASE_URL, dropSchema, uniqueSchema } from '../../support/postgres.js';
import { REDIS_URL, uniquePrefix } from '../../support/redis.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const schema = uniqueSchema('failstart');
const NO_FORCED_EXIT = fileURLToPath(new URL('../../support/no-forced-exit.mjs', import.meta.url));

afterAll(() => dropSchema(schema));

function runFailingStart(extraArgs: string[]): Promise<{ code: number | null; signal: string | null; stderr: string; ms: number }> {
  const runId = uniqueName('failstart');
  const started = Date.now();
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [...extraArgs, '--import', 'tsx', 'src/cli.ts', 'run'], {
      cwd: ROOT,
      timeout: 60_000,
      env: {
        PATH: process.env.PATH,
        DRIFTSTREAM_LOG_LEVEL: 'warn',
        DRIFTSTREAM_KAFKA_BROKERS: BROKERS.join(','),
        // Nothing listens on port 9: registering the alert schema fails as an outage.
        DRIFTSTREAM_SCHEMA_REGISTRY_URL: 'http://127.0.0.1:9',
        DRIFTSTREAM_REDIS_URL: REDIS_URL,
        DRIFTSTREAM_REDIS_KEY_PREFIX: uniquePrefix('failstart'),
        DRIFTSTREAM_DATABASE_URL: DATABASE_URL,
        DRIFTSTREAM_DATABASE_SCHEMA: schema,
        DRIFTSTREAM_INFERENCE_TOPIC: `${runId}-inference`,
        DRIFTSTREAM_ALERTS_TOPIC: `${runId}-alerts`,
        DRIFTSTREAM_GROUP_ID: `${runId}-group`,
        DRIFTSTREAM_HTTP_PORT: '0',
      },
    }, (_err, _stdout, stderr) => resolve({ code: child.exitCode, signal: child.signalCode, stderr: String(stderr), ms: Date.now() - started }));
  });
}

describe('a detector whose start fails', () => {
  it('exits with code 2 and the reason, with Kafka, Redis and PostgreSQL connected', async () => {
    const result = await runFailingStart([]);
    expect(result.stderr).toMatch(/driftstream: could not register DriftAlert/);
    expect({ code: result.code, signal: result.signal }).toEqual({ code: 2, signal: null });
    expect(result.ms).toBeLessThan(45_000);
  }, 90_000);

  it('leaves nothing open: the process ends by itself, without the forced exit', async () => {
    // process.exit is a no-op in this child: a producer, consumer or pool left connected by the failed
    // start would keep it alive until the 60 s timeout kills it.
    const result = await runFailingStart(['--import', NO_FORCED_EXIT]);
    expect(result.stderr).toMatch(/driftstream: could not register DriftAlert/);
    expect({ code: result.code, signal: result.signal }).toEqual({ code: 2, signal: null });
    expect(result.ms).toBeLessThan(45_000);
  }, 90_000);
});
