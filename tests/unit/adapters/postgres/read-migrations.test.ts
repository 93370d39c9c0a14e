import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMigrations } from '../../../../src/adapters/postgres/migrate.js';

function dirWith(names: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'driftstream-migrations-'));
  for (const n of names) writeFileSync(join(dir, n), 'SELECT 1;');
  return dir;
}

describe('readMigrations', () => {
  it('reads the project migrations in order', async () => {
    const versions = (await readMigrations()).map((m) => m.version);
    expect(versions[0]).toBe(1);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
  });

  it('takes increasing versions that skip a number, and refuses a duplicate, a zero or a misnamed file', async () => {
    expect((await readMigrations(dirWith(['001_a.sql', '002_b.sql', '004_d.sql']))).map((m) => m.version)).toEqual([1, 2, 4]);
    await expect(readMigrations(dirWith(['001_a.sql', '002_b.sql', '002_c.sql']))).rejects.toMatchObject({ code: 'MIGRATION_INVALID' });
    await expect(readMigrations(dirWith(['000_a.sql']))).rejects.toMatchObject({ code: 'MIGRATION_INVALID' });
    await expect(readMigrations(dirWith(['001_a.sql', '2_b.sql']))).rejects.toMatchObject({ code: 'MIGRATION_INVALID' });
  });
});
