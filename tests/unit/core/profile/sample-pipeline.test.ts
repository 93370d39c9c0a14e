import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareFiles } from '../../../../src/commands/compare.js';
import { ColumnTypeInference, valueKind } from '../../../../src/core/profile/column-inference.js';
import type { ReferenceProfile } from '../../../../src/core/profile/reference-profile.js';
import { parseModelConfig } from '../../../../src/core/model/index.js';
import { createReferenceBuilder } from '../../../../src/http/reference-builder.js';
import { readSampleBatches } from '../../../../src/io/sample-reader.js';
import { ReferenceBootstrap } from '../../../../src/stream/reference-bootstrap.js';
import { buildReferenceFromSamples, sampleToRow } from '../../../../src/stream/reference-from-samples.js';
import { numberOf } from '../../../../src/core/profile/cell-number.js';

describe('valueKind', () => {
  it('reads text cells as numbers only for text samples', () => {
    expect(valueKind('3.5', { textNumbers: true })).toBe('number');
    expect(valueKind('3.5', { textNumbers: false })).toBe('text');
    expect(valueKind('0x10', { textNumbers: true })).toBe('text');
    expect(valueKind('', { textNumbers: true })).toBe('text');
    expect(valueKind(Number.NaN, { textNumbers: true })).toBe('missing');
    expect(valueKind(true, { textNumbers: true })).toBe('text');
    expect(valueKind(null, { textNumbers: true })).toBe('missing');
  });
});

describe('numberOf', () => {
  it('reads a score or prediction cell as a numeric column reads it, in every path', () => {
    for (const cell of ['0.25', ' 1e-3 ', '-2', 7, '0x10', '0b1', 'Infinity', '', 'abc', null, Number.NaN, true]) {
      const asColumn = valueKind(cell, { textNumbers: true }) === 'number' ? Number(cell) : null;
      expect(numberOf(cell)).toBe(asColumn);
      expect(sampleToRow({ x: 1, score: cell }).score).toBe(asColumn);
      expect(sampleToRow({ features: { x: 1 }, score: cell }).score).toBe(asColumn);
    }
  });
});

describe('ColumnTypeInference', () => {
  it('makes a column categorical once any value is text, numeric otherwise, and empty columns numeric', () => {
    const inf = new ColumnTypeInference({ exclude: new Set(['label']) });
    inf.declare('empty');
    inf.observeRecord({ a: '1', b: 2, c: 'x', label: 'yes' });
    inf.observeRecord({ a: 'later text', b: null, c: 3 });
    expect(inf.types()).toEqual({ empty: 'numeric', a: 'categorical', b: 'numeric', c: 'categorical' });
    expect(inf.heldText('a')).toBe(true);
    expect(inf.heldText('b')).toBe(false);
  });

  it('keeps fixed types whatever the values say, and says when a value contradicts a numeric column', () => {
    const inf = new ColumnTypeInference({ fixed: { zip: 'categorical' } });
    inf.observeRecord({ zip: '02134', n: 1 });
    expect(inf.types()).toEqual({ zip: 'categorical', n: 'numeric' });
    expect(inf.contradicts('n', 'abc')).toBe(true);
    expect(inf.contradicts('n', '4')).toBe(false);
    expect(inf.contradicts('new', 'abc')).toBe(false);
  });
});

/** A sample whose type evidence comes late: `code` is numeric for 1,500 rows, then text. */
function lateTextCsv(): string {
  const lines = ['x,code,flag,blank,score'];
  for (let i = 0; i < 2000; i++) lines.push(`${(i % 97) / 10},${i < 1500 ? i % 13 : 'A' + (i % 3)},${i % 2 === 0},,${(i % 100) / 100}`);
  return lines.join('\n') + '\n';
}

describe('one inference rule for every way a sample becomes a reference', () => {
  let dir = '';
  let file = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftstream-column-inference-'));
    file = join(dir, 'late.csv');
    await writeFile(file, lateTextCsv());
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const expected = { x: 'numeric', code: 'categorical', flag: 'categorical', blank: 'numeric' };
  const typesOf = (features: Record<string, { type: string }>) =>
    Object.fromEntries(Object.entries(features).filter(([k]) => k !== 'score').map(([k, f]) => [k, f.type]));

  it('an upload over HTTP', async () => {
    const build = createReferenceBuilder({ tmpDir: dir });
    const built = await build({ modelId: 'm', model: { modelId: 'm' }, format: 'csv', body: Readable.from([await readFile(file)]), createdAt: 1 });
    const profile = built.profile as ReferenceProfile;
    expect(typesOf(profile.features)).toEqual(expected);
    expect(profile.features.score.type).toBe('numeric');
  });

  it('`driftstream reference` from a file, to the very profile an upload gives', async () => {
    const { profile, types } = await buildReferenceFromSamples(parseModelConfig({ modelId: 'm' }), readSampleBatches(file), { createdAt: 1 });
    expect(types).toEqual(expected);
    expect(typesOf(profile.features)).toEqual(expected);
    const upload = await createReferenceBuilder({ tmpDir: dir })({ modelId: 'm', model: { modelId: 'm' }, format: 'csv', body: Readable.from([await readFile(file)]), createdAt: 1 });
    expect((upload.profile as ReferenceProfile).features).toEqual(profile.features);
  });

  it('`driftstream compare`, whose reference is every column', async () => {
    const { report } = await compareFiles({ reference: file, current: file, format: 'json', types: {} });
    expect(Object.fromEntries(Object.entries(report.features).map(([k, f]) => [k, f.type]))).toEqual({ ...expected, score: 'numeric' });
  });

  it('a model bootstrapped from its first events, whose values are typed', () => {
    const boot = new ReferenceBootstrap(parseModelConfig({ modelId: 'm' }));
    expect(boot.add({ features: { x: 1.5, code: 'A1', flag: true, blank: null }, score: 0.5, prediction: null }, 1)).toBeUndefined();
    expect(boot.add({ features: { x: 2, code: 3, flag: false, blank: null }, score: 0.5, prediction: null }, 2)).toBeUndefined();
    // Events are typed: the string "3" is a category, and a numeric feature refuses text (the producer's error).
    expect(boot.add({ features: { x: '3' }, score: null, prediction: null }, 3)).toBe('x');
    expect(boot.featureTypes()).toEqual(expected);
  });
});
