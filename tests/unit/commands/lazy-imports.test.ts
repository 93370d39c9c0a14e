import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The packages a fresh Node process loads (by import or require) while it
 * runs `body`, an ES module text that may import from the work tree.
 */
async function packagesLoadedBy(body: string): Promise<Set<string>> {
  const script = `
import { registerHooks } from 'node:module';
const loaded = [];
registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
${body}
const names = loaded.map((u) => /node_modules\\/((@[^/]+\\/)?[^/]+)\\//.exec(u)?.[1]).filter(Boolean);
process.stdout.write('\\n' + JSON.stringify([...new Set(names)]));
`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, DRIFTSTREAM_LOG_LEVEL: 'silent' }, timeout: 60_000 });
  return new Set(JSON.parse(stdout.slice(stdout.lastIndexOf('\n') + 1)) as string[]);
}

const src = (path: string) => JSON.stringify(pathToFileURL(`${ROOT}src/${path}`).href);

/** Imports what building the adapters from a configuration needs. */
const ADAPTER_IMPORTS = `
const { createAdapters } = await import(${src('app/create-adapters.ts')});
const { loadConfig } = await import(${src('config/config.ts')});
const { createLogger } = await import(${src('observability/logger.ts')});
const { createMetrics } = await import(${src('observability/metrics.ts')});`;

// The process before any model is a good part of a small deployment's memory: what a
// command does not use is not loaded.
describe('lazy loading', () => {
  it('`driftstream version` loads neither the Kafka, HTTP nor database clients', async () => {
    const loaded = await packagesLoadedBy(`process.argv = [process.argv[0], 'driftstream', 'version']; await import(${src('cli.ts')}); await new Promise((r) => setTimeout(r, 50));`);
    expect(loaded.has('commander')).toBe(true);
    for (const p of ['kafkajs', 'fastify', 'pg', 'ioredis', 'nodemailer', 'apache-arrow']) expect(loaded, p).not.toContain(p);
  }, 60_000);

  it('`run` with state in memory loads no PostgreSQL, Redis or SMTP client', async () => {
    const loaded = await packagesLoadedBy(`
const { startRun } = await import(${src('commands/run.ts')});
${ADAPTER_IMPORTS}
const adapters = await createAdapters(loadConfig({}), createLogger('silent'), createMetrics({ defaultMetrics: false }));
if (adapters.kind.state !== 'memory' || typeof startRun !== 'function') throw new Error('unexpected');
await adapters.close();`);
    expect(loaded.has('kafkajs')).toBe(true);
    for (const p of ['pg', 'ioredis', 'nodemailer']) expect(loaded, p).not.toContain(p);
  }, 60_000);

  it('loads the PostgreSQL and Redis adapters when configured', async () => {
    const loaded = await packagesLoadedBy(`
${ADAPTER_IMPORTS}
const config = loadConfig({ DRIFTSTREAM_REDIS_URL: 'redis://127.0.0.1:1', DRIFTSTREAM_DATABASE_URL: 'postgres://x@127.0.0.1:1/x' });
await createAdapters(config, createLogger('silent'), createMetrics({ defaultMetrics: false }), { migrate: false }).then((a) => a.close(100), () => undefined);`);
    for (const p of ['pg', 'ioredis']) expect(loaded, p).toContain(p);
  }, 60_000);
});
