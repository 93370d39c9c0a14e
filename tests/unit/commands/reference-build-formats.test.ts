import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Table, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReferenceCommand } from '../../../src/commands/reference.js';
import { loadConfig } from '../../../src/config/config.js';
import { createLogger } from '../../../src/observability/logger.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'samples');
const config = loadConfig({});
const logger = createLogger('error');
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'driftstream-reference-formats-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const build = (from: string, model = 'm') => buildReferenceCommand(config, { model, from, store: false }, logger);

describe('reference build --from a Parquet or Arrow sample', () => {
  it('builds the same profile as from the CSV and NDJSON of the same rows', async () => {
    const csv = await build(join(FIXTURES, 'reference.csv'));
    expect(Object.fromEntries(Object.entries(csv.profile.features).map(([k, f]) => [k, f.type]))).toEqual({
      x: 'numeric',
      n: 'numeric',
      segment: 'categorical',
      flag: 'categorical',
    });
    for (const from of ['reference.ndjson', 'reference.parquet', 'reference-zstd.parquet']) {
      const r = await build(join(FIXTURES, from));
      expect(r.profile.rows, from).toBe(2000);
      expect(r.profile.features, from).toEqual(csv.profile.features);
    }
  });

  it('takes column types from the schema, where values alone would say otherwise', async () => {
    // Zip codes: digits, yet a string column; read from CSV they would be numeric.
    const zips = Array.from({ length: 300 }, (_, i) => String(10000 + (i % 7) * 1111));
    const p = join(dir, 'zips.arrow');
    await writeFile(p, tableToIPC(new Table({ zip: vectorFromArray(zips, new Utf8()) }), 'file'));
    const r = await build(p);
    expect(r.profile.features.zip.type).toBe('categorical');
    const csv = join(dir, 'zips.csv');
    await writeFile(csv, 'zip\n' + zips.join('\n') + '\n');
    expect((await build(csv)).profile.features.zip.type).toBe('numeric');
  });

  it('refuses a file with nested columns, naming them', async () => {
    await expect(build(join(FIXTURES, 'nested.parquet'))).rejects.toMatchObject({
      code: 'SAMPLE_UNSUPPORTED_COLUMN',
      message: expect.stringMatching(/tags \(List<Int32>, nested\)/),
    });
  });
});
