import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { secretResolver } from '../../../src/config/notify-secrets.js';

describe('secretResolver', () => {
  const dir = mkdtempSync(join(tmpdir(), 'driftstream-secrets-'));
  writeFileSync(join(dir, 'hook'), 's3cret-from-file\n');
  writeFileSync(join(dir, 'empty'), '\n');
  const resolve = secretResolver({ DRIFTSTREAM_NOTIFY_HOOK: ' s3cret-from-env ', DRIFTSTREAM_DATABASE_URL: 'postgres://u:p@h/db' }, dir);

  it('reads DRIFTSTREAM_NOTIFY_* variables and files inside the secrets directory, trimmed', () => {
    expect(resolve({ env: 'DRIFTSTREAM_NOTIFY_HOOK' })).toBe('s3cret-from-env');
    expect(resolve({ file: join(dir, 'hook') })).toBe('s3cret-from-file');
  });

  it('refuses other variables, files outside the directory, missing or empty ones, naming the reference and never a value', () => {
    const fails = (ref: { env: string } | { file: string }) => {
      try {
        resolve(ref);
      } catch (err) {
        expect((err as { code: string }).code).toBe('CONFIG_INVALID');
        return (err as Error).message;
      }
      throw new Error('resolved');
    };
    expect(fails({ env: 'DRIFTSTREAM_DATABASE_URL' })).toMatch(/only DRIFTSTREAM_NOTIFY_\* variables/);
    expect(fails({ env: 'DRIFTSTREAM_NOTIFY_MISSING' })).toMatch(/not set/);
    expect(fails({ file: '/etc/passwd' })).toMatch(/outside DRIFTSTREAM_NOTIFY_SECRETS_DIR/);
    expect(fails({ file: `${dir}/../../etc/passwd` })).toMatch(/outside/);
    expect(fails({ file: dir })).toMatch(/outside/);
    expect(fails({ file: join(dir, 'absent') })).toMatch(/cannot read it \(ENOENT\)/);
    expect(fails({ file: join(dir, 'empty') })).toMatch(/empty/);
  });
});
