// `driftstream migrate` as a user runs it: a child process against the shared server, in a schema of its own.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { DATABASE_URL, dropSchema, uniqueSchema } from '../../support/postgres.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const schema = uniqueSchema('cli');

async function migrate(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'migrate', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, DRIFTSTREAM_LOG_LEVEL: 'warn', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

afterAll(() => dropSchema(schema));

describe('driftstream migrate', () => {
  it('applies the migrations once, then finds nothing to do, and lists them', async () => {
    const env = { DRIFTSTREAM_DATABASE_URL: DATABASE_URL, DRIFTSTREAM_DATABASE_SCHEMA: schema };
    const first = await migrate([], env);
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout).toMatch(new RegExp(`schema ${schema}\\): applied 001`));
    const again = await migrate([], env);
    expect(again.stdout).toMatch(/up to date/);
    const status = await migrate(['--status'], env);
    expect(status.stdout).toMatch(/^001_initial\tapplied \d{4}-/m);
  }, 60_000);

  it('says which variable is missing, with exit status 2', async () => {
    const r = await migrate([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/DRIFTSTREAM_DATABASE_URL/);
  }, 60_000);

  it('never prints the password of the URL', async () => {
    const r = await migrate(['--status', '--database-url', 'postgres://postgres:s3cret-pass@127.0.0.1:1/none'], {});
    expect(r.code).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).not.toContain('s3cret-pass');
  }, 60_000);
});
