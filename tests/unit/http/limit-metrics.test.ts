import type { InjectOptions } from 'fastify';
import { describe, expect, it } from 'vitest';
import { KEYS, seededApp } from './fixtures.js';

const editor = { 'x-api-key': KEYS.editor };
const upload = (payload: string) => ({ method: 'POST' as const, url: '/api/v1/models/up/reference', headers: { ...editor, 'content-type': 'text/csv' }, payload });

describe('driftstream_http_limit_rejections_total', () => {
  it('counts each refusal under the limit that refused it, and nothing else', async () => {
    const { app, deps } = await seededApp({}, {
      DRIFTSTREAM_RATE_LIMIT_WRITES: '1000',
      DRIFTSTREAM_BODY_LIMIT_BYTES: '65536',
      DRIFTSTREAM_REFERENCE_UPLOAD_LIMIT_BYTES: '8192',
      DRIFTSTREAM_REFERENCE_MAX_COLUMNS: '3',
      DRIFTSTREAM_REFERENCE_MAX_CELL_BYTES: '64',
      DRIFTSTREAM_MAX_CATEGORIES: '10',
    });
    const counts = async () => Object.fromEntries((await deps.metrics.httpLimitRejections.get()).values.map((v) => [v.labels.limit, v.value]));
    // Every limit's series is there before anything is refused.
    expect(await counts()).toEqual({ rate_limit: 0, body_size: 0, upload_size: 0, upload_columns: 0, cell_size: 0, reference_size: 0, features: 0, categories: 0, path_length: 0 });

    expect((await app.inject({ method: 'PUT', url: '/api/v1/models/up', headers: editor, payload: { features: { a: 'numeric' }, topK: 5 } })).statusCode).toBe(201);
    const refusals: [string, number, InjectOptions][] = [
      ['body_size', 413, { method: 'PUT', url: '/api/v1/models/big', headers: editor, payload: { features: { a: 'numeric' }, pad: 'x'.repeat(70_000) } }],
      ['upload_size', 413, upload(`a\n${'1\n'.repeat(5000)}`)],
      ['upload_columns', 413, upload('a,b,c,d\n1,2,3,4\n')],
      ['cell_size', 413, upload(`a\n${'7'.repeat(100)}\n`)],
      ['features', 400, { method: 'PUT', url: '/api/v1/models/wide', headers: editor, payload: { features: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`f${i}`, 'numeric'])), topK: 5 } }],
      ['categories', 400, { method: 'PUT', url: '/api/v1/models/cats', headers: editor, payload: { features: { c: 'categorical' }, topK: 11 } }],
      ['path_length', 414, { url: `/api/v1/models/${'m'.repeat(1100)}` }],
    ];
    for (const [, status, request] of refusals) expect((await app.inject(request)).statusCode).toBe(status);
    // Refusals that are not limits are not counted.
    expect((await app.inject({ method: 'PUT', url: '/api/v1/models/bad', headers: editor, payload: { features: { a: 'nope' }, topK: 5 } })).statusCode).toBe(400);
    expect((await app.inject({ url: '/api/v1/models/none' })).statusCode).toBe(404);
    const after = await counts();
    for (const [limit] of refusals) expect(after[limit], limit).toBe(1);
    expect(after.rate_limit).toBe(0);
    expect(after.reference_size).toBe(0);
    // Exposed in /metrics.
    const text = (await app.inject({ url: '/metrics' })).body;
    expect(text).toContain('driftstream_http_limit_rejections_total{limit="cell_size"} 1');
  });

  it('counts rate-limited writes as rate_limit', async () => {
    const { app, deps } = await seededApp({}, { DRIFTSTREAM_RATE_LIMIT_WRITES: '1' });
    const put = { method: 'PUT' as const, url: '/api/v1/models/m1', headers: editor, payload: { features: { a: 'numeric' } } };
    expect((await app.inject(put)).statusCode).toBe(201);
    for (let i = 0; i < 3; i++) expect((await app.inject(put)).statusCode).toBe(429);
    const values = (await deps.metrics.httpLimitRejections.get()).values;
    expect(values.find((v) => v.labels.limit === 'rate_limit')?.value).toBe(3);
  });

  it('counts a profile over its size limit as reference_size', async () => {
    const { app, deps } = await seededApp({}, { DRIFTSTREAM_REFERENCE_MAX_PROFILE_BYTES: '1024' });
    const columns = Array.from({ length: 40 }, (_, i) => `column_${i}`);
    const features = Object.fromEntries(columns.map((c) => [c, 'numeric']));
    expect((await app.inject({ method: 'PUT', url: '/api/v1/models/up', headers: editor, payload: { features } })).statusCode).toBe(201);
    const header = columns.join(',');
    const rows = Array.from({ length: 50 }, (_, r) => Array.from({ length: 40 }, (_, i) => r * 40 + i).join(',')).join('\n');
    const r = await app.inject(upload(`${header}\n${rows}\n`));
    expect(r.statusCode).toBe(413);
    expect(r.json().code).toBe('REFERENCE_TOO_LARGE');
    const values = (await deps.metrics.httpLimitRejections.get()).values;
    expect(values.find((v) => v.labels.limit === 'reference_size')?.value).toBe(1);
  });
});
