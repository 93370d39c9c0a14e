import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseProfile } from '../../../src/core/profile/reference-profile.js';
import { KEYS, seededApp } from './fixtures.js';

const headers = (type: string, key = KEYS.editor) => ({ 'content-type': type, 'x-api-key': key });

function csvSample(rows: number): string {
  const regions = ['north', 'south', 'east', 'west'];
  const lines = ['age,income,region,score'];
  for (let i = 0; i < rows; i++) lines.push(`${20 + (i % 50)},${20000 + ((i * 7919) % 80000)},${regions[i % 4]},${((i * 37) % 100) / 100}`);
  return lines.join('\n') + '\n';
}

describe('POST /api/v1/models/{modelId}/reference', () => {
  it('profiles a CSV sample, stores it as the next version and answers its id', async () => {
    const { app, models } = await seededApp();
    const r = await app.inject({ method: 'POST', url: '/api/v1/models/credit-risk/reference', headers: headers('text/csv'), payload: csvSample(2000) });
    expect(r.statusCode).toBe(201);
    const body = r.json();
    expect(body).toMatchObject({ modelId: 'credit-risk', version: 2, rows: 2000 });
    expect(body.features.sort()).toEqual(['age', 'income', 'region', 'score']);
    expect(body.referenceId).toMatch(/^credit-risk-[0-9a-z]+-[0-9a-f]{16}$/);
    const stored = await models.latestReference('credit-risk');
    expect(stored?.referenceId).toBe(body.referenceId);
    const profile = parseProfile(stored!.profile);
    expect(profile.rows).toBe(2000);
    expect(profile.features.age.type).toBe('numeric');
    expect(profile.features.region).toMatchObject({ type: 'categorical', categories: { north: 500, south: 500, east: 500, west: 500 } });
    const m = (await app.inject({ url: '/api/v1/models/credit-risk' })).json();
    expect(m.reference).toMatchObject({ referenceId: body.referenceId, version: 2, rows: 2000 });
  });

  it('stores feature importance uploaded with the reference in the model, or refuses the upload whole', async () => {
    const { app, models } = await seededApp();
    const url = '/api/v1/models/credit-risk/reference';
    const r = await app.inject({ method: 'POST', url: `${url}?importance=income:0.6,age:0.3,region:0.1`, headers: headers('text/csv'), payload: csvSample(500) });
    expect(r.statusCode).toBe(201);
    expect(r.json().importance).toEqual({ income: 0.6, age: 0.3, region: 0.1 });
    expect((await models.getModel('credit-risk'))!.importance).toEqual({ income: 0.6, age: 0.3, region: 0.1 });
    const before = (await models.latestReference('credit-risk'))!.referenceId;
    for (const q of ['income:-1', 'income', 'nope:1']) {
      const bad = await app.inject({ method: 'POST', url: `${url}?importance=${q}`, headers: headers('text/csv'), payload: csvSample(500) });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().message).toMatch(/^importance: /);
    }
    expect((await models.latestReference('credit-risk'))!.referenceId).toBe(before);
  });

  it('profiles an NDJSON sample streamed without a Content-Length', async () => {
    const { app } = await seededApp();
    const lines = Array.from({ length: 500 }, (_, i) => JSON.stringify({ age: 30 + (i % 20), income: 40000 + i, region: i % 3 ? 'north' : 'south' }) + '\n');
    const r = await app.inject({ method: 'POST', url: '/api/v1/models/credit-risk/reference', headers: headers('application/x-ndjson; charset=utf-8'), payload: Readable.from(lines) });
    expect(r.statusCode).toBe(201);
    expect(r.json()).toMatchObject({ rows: 500 });
    expect(r.json().features.sort()).toEqual(['age', 'income', 'region']);
  });

  it('profiles Parquet and Arrow IPC samples with the same result as the CSV of the same rows', async () => {
    const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'samples');
    const parquet = readFileSync(join(fixtures, 'credit-risk.parquet'));
    const { app, models } = await seededApp();
    const r = await app.inject({ method: 'POST', url: '/api/v1/models/credit-risk/reference', headers: headers('application/vnd.apache.parquet'), payload: parquet });
    expect(r.statusCode).toBe(201);
    expect(r.json()).toMatchObject({ modelId: 'credit-risk', rows: 2000 });
    expect(r.json().features.sort()).toEqual(['age', 'income', 'region', 'score']);
    const fromParquet = parseProfile((await models.latestReference('credit-risk'))!.profile);
    const a = await app.inject({ method: 'POST', url: '/api/v1/models/credit-risk/reference', headers: headers('application/vnd.apache.arrow.stream'), payload: readFileSync(join(fixtures, 'credit-risk.arrows')) });
    expect(a.statusCode).toBe(201);
    const fromArrow = parseProfile((await models.latestReference('credit-risk'))!.profile);
    const c = await app.inject({ method: 'POST', url: '/api/v1/models/credit-risk/reference', headers: headers('text/csv'), payload: csvSample(2000) });
    expect(c.statusCode).toBe(201);
    const fromCsv = parseProfile((await models.latestReference('credit-risk'))!.profile);
    expect(fromParquet.features.region).toMatchObject({ type: 'categorical', categories: { north: 500, south: 500, east: 500, west: 500 } });
    for (const profile of [fromParquet, fromArrow]) {
      for (const f of ['age', 'income', 'region', 'score']) expect(profile.features[f], f).toEqual(fromCsv.features[f]);
    }
    // A damaged or nested file is the sender's fault: 400, naming what is wrong.
    let bad = await app.inject({ method: 'POST', url: '/api/v1/models/credit-risk/reference', headers: headers('application/vnd.apache.parquet'), payload: parquet.subarray(0, 1000) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'REFERENCE_INVALID', message: expect.stringMatching(/not a readable Parquet file/) });
    bad = await app.inject({ method: 'POST', url: '/api/v1/models/credit-risk/reference', headers: headers('application/vnd.apache.parquet'), payload: readFileSync(join(fixtures, 'nested.parquet')) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/columns tags \(List<Int32>, nested\), point \(Struct<\{a:Int32\}>, nested\), raw \(Binary\) cannot be summarised/);
  });

  it('rejects samples over the upload limit with 413, by Content-Length or while streaming', async () => {
    const { app } = await seededApp({}, { DRIFTSTREAM_REFERENCE_UPLOAD_LIMIT_BYTES: '4096' });
    let r = await app.inject({ method: 'POST', url: '/api/v1/models/credit-risk/reference', headers: headers('text/csv'), payload: csvSample(1000) });
    expect(r.statusCode).toBe(413);
    expect(r.json().code).toBe('PAYLOAD_TOO_LARGE');
    r = await app.inject({ method: 'POST', url: '/api/v1/models/credit-risk/reference', headers: headers('text/csv'), payload: Readable.from(csvSample(1000).match(/[^]{1,512}/g)!) });
    expect(r.statusCode).toBe(413);
    expect(r.json().code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('rejects unusable samples with 400 REFERENCE_INVALID', async () => {
    const { app } = await seededApp();
    const post = (payload: string, type = 'text/csv') => app.inject({ method: 'POST', url: '/api/v1/models/credit-risk/reference', headers: headers(type), payload });
    let r = await post('age,income,region\n30,40000,north\n31,41000\n');
    expect(r.statusCode).toBe(400);
    expect(r.json().code).toBe('REFERENCE_INVALID');
    expect(r.json().message).toMatch(/line 3|:3/);
    r = await post('age,region\n30,north\n');
    expect(r.json()).toMatchObject({ code: 'REFERENCE_INVALID', message: 'reference sample rejected: the sample has no column for feature income' });
    r = await post('age,income,region\n30,lots,north\n');
    expect(r.json().message).toMatch(/row 1: column income is numeric but holds "lots"/);
    r = await post('age,income,region\n');
    expect(r.json().message).toMatch(/no rows/);
    r = await post('{"age": 1, "income": 2, "region": "x"}\n{bad json\n', 'application/x-ndjson');
    expect(r.statusCode).toBe(400);
    expect(r.json().code).toBe('REFERENCE_INVALID');
  });

  it('never shows a server path in REFERENCE_INVALID', async () => {
    const { app } = await seededApp();
    const r = await app.inject({ method: 'POST', url: '/api/v1/models/credit-risk/reference', headers: headers('text/csv'), payload: 'age,income,region\n30,40000,north\n31,41000\n' });
    expect(r.json()).toMatchObject({ code: 'REFERENCE_INVALID', message: 'reference sample rejected: line 3: ragged row, 2 cells where the header has 3' });
    expect(r.body).not.toContain(tmpdir());
    expect(r.body).not.toContain('driftstream-upload-');
  });

  it('rejects a control character in a column name or a value', async () => {
    const { app, models } = await seededApp();
    const post = (payload: string, type = 'text/csv') => app.inject({ method: 'POST', url: '/api/v1/models/credit-risk/reference', headers: headers(type), payload });
    let r = await post('age,income,region\n30,40000,no\u0000rth\n');
    expect(r.json()).toMatchObject({ statusCode: 400, code: 'REFERENCE_INVALID', message: 'reference sample rejected: row 1: column "region" holds a control character' });
    r = await post('{"age":1,"income":2,"region":"north","x\\u001b":1}\n', 'application/x-ndjson');
    expect(r.json()).toMatchObject({ statusCode: 400, code: 'REFERENCE_INVALID' });
    expect(r.json().message).toMatch(/control character in its name/);
    expect((await models.latestReference('credit-risk'))?.referenceId).toBe('ref-credit-1');
  });

  it('refuses more columns than DRIFTSTREAM_REFERENCE_MAX_COLUMNS on the header, before the rows', async () => {
    const { app } = await seededApp({}, { DRIFTSTREAM_REFERENCE_MAX_COLUMNS: '10' });
    const cols = ['age', 'income', 'region', ...Array.from({ length: 8 }, (_, i) => `extra${i}`)];
    const r = await app.inject({ method: 'POST', url: '/api/v1/models/credit-risk/reference', headers: headers('text/csv'), payload: `${cols.join(',')}\n${cols.map(() => '1').join(',')}\n` });
    expect(r.statusCode).toBe(413);
    expect(r.json()).toMatchObject({ code: 'TOO_MANY_COLUMNS', message: 'reference sample rejected: the sample has 11 columns; at most 10 are accepted' });
  });

  it('refuses a cell over DRIFTSTREAM_REFERENCE_MAX_CELL_BYTES, and stops reading at the first line longer than any valid row', async () => {
    const env = { DRIFTSTREAM_REFERENCE_MAX_COLUMNS: '4', DRIFTSTREAM_REFERENCE_MAX_CELL_BYTES: '64' };
    const { app, models } = await seededApp({}, env);
    const r = await app.inject({ method: 'POST', url: '/api/v1/models/credit-risk/reference', headers: headers('text/csv'), payload: `age,income,region\n30,40000,${'é'.repeat(33)}\n` });
    expect(r.statusCode).toBe(413);
    expect(r.json()).toMatchObject({ code: 'CELL_TOO_LARGE', message: 'reference sample rejected: row 1: column region holds a cell larger than 64 bytes' });
    // 4 columns of 64 bytes plus room for separators: a longer line is refused as it arrives, over
    // a real socket, long before the client has sent its 64 MB.
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const { port } = app.server.address() as AddressInfo;
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/models/credit-risk/reference', headers: { ...headers('text/csv'), 'transfer-encoding': 'chunked' } });
      req.on('error', () => undefined); // the server closes the connection once it has answered
      const answered = new Promise<IncomingMessage>((resolve) => req.on('response', resolve));
      let settled = false;
      void answered.then(() => (settled = true));
      req.write('age,income,region\n30,40000,');
      const chunk = 'x'.repeat(64 * 1024);
      let written = 0;
      while (!settled && written < 64 * 1024 * 1024) {
        written += chunk.length;
        if (!req.write(chunk)) await Promise.race([once(req, 'drain'), answered]);
      }
      const res = await answered;
      const body = JSON.parse(Buffer.concat(await res.toArray()).toString('utf8'));
      expect(res.statusCode).toBe(413);
      expect(body.code).toBe('CELL_TOO_LARGE');
      expect(body.message).toMatch(/a line of the sample is longer than 1456 bytes/);
      expect(written).toBeLessThan(16 * 1024 * 1024);
      req.destroy();
    } finally {
      await app.close();
    }
    expect((await models.latestReference('credit-risk'))?.referenceId).toBe('ref-credit-1');
  });

  it('refuses a profile over DRIFTSTREAM_REFERENCE_MAX_PROFILE_BYTES and stores nothing', async () => {
    const { app, models } = await seededApp({}, { DRIFTSTREAM_REFERENCE_MAX_PROFILE_BYTES: '2048' });
    const r = await app.inject({ method: 'POST', url: '/api/v1/models/credit-risk/reference', headers: headers('text/csv'), payload: csvSample(500) });
    expect(r.statusCode).toBe(413);
    expect(r.json().code).toBe('REFERENCE_TOO_LARGE');
    expect(r.json().message).toMatch(/^reference sample rejected: its profile would take \d+ bytes; at most 2048 are stored/);
    expect((await models.latestReference('credit-risk'))?.referenceId).toBe('ref-credit-1');
  });

  it('infers at most 1000 features from a sample, and keeps at most DRIFTSTREAM_MAX_CATEGORIES categories', async () => {
    const { app, models } = await seededApp({}, { DRIFTSTREAM_MAX_CATEGORIES: '5', DRIFTSTREAM_REFERENCE_MAX_COLUMNS: '2000' });
    await models.putModel({ modelId: 'wide' });
    const cols = Array.from({ length: 1001 }, (_, i) => `f${i}`);
    let r = await app.inject({ method: 'POST', url: '/api/v1/models/wide/reference', headers: headers('text/csv'), payload: `${cols.join(',')}\n${cols.map(() => '1').join(',')}\n` });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ code: 'TOO_MANY_FEATURES', message: 'reference sample rejected: the sample has 1001 feature columns; a model may have at most 1000' });
    // A model stored with a larger topK (e.g. from a models file) still keeps at most the cap.
    await models.putModel({ modelId: 'cats', features: { c: 'categorical' }, topK: 50 });
    const rows = ['c', ...Array.from({ length: 200 }, (_, i) => `v${i % 20}`)];
    r = await app.inject({ method: 'POST', url: '/api/v1/models/cats/reference', headers: headers('text/csv'), payload: rows.join('\n') });
    expect(r.statusCode).toBe(201);
    const profile = parseProfile((await models.latestReference('cats'))!.profile);
    const kept = Object.keys((profile.features.c as { categories: Record<string, number> }).categories).filter((k) => k !== '__other__');
    expect(kept.length).toBe(5);
  });

  it('answers 415 for other content types, 404 for an unknown model, 403 for a reader', async () => {
    const { app } = await seededApp();
    let r = await app.inject({ method: 'POST', url: '/api/v1/models/credit-risk/reference', headers: headers('application/json'), payload: '{}' });
    expect(r.statusCode).toBe(415);
    expect(r.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
    r = await app.inject({ method: 'POST', url: '/api/v1/models/nope/reference', headers: headers('text/csv'), payload: 'a\n1\n' });
    expect(r.statusCode).toBe(404);
    r = await app.inject({ method: 'POST', url: '/api/v1/models/credit-risk/reference', headers: headers('text/csv', KEYS.reader), payload: 'a\n1\n' });
    expect(r.statusCode).toBe(403);
    r = await app.inject({ method: 'POST', url: '/api/v1/models/credit-risk/reference', headers: { 'content-type': 'text/csv' }, payload: 'a\n1\n' });
    expect(r.statusCode).toBe(401);
  });
});
