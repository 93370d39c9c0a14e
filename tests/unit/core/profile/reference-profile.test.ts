import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  ReferenceProfileBuilder,
  createSummary,
  parseProfile,
  serializeProfile,
  referenceDigest,
  type NumericFeatureProfile,
  type CategoricalFeatureProfile,
} from '../../../../src/core/profile/reference-profile.js';
import { NumericSummary } from '../../../../src/core/stats/numeric-summary.js';
import { CategoricalSummary } from '../../../../src/core/stats/categorical-summary.js';
import { cellNumber } from '../../../../src/core/profile/cell-number.js';

const repoRoot = resolve(fileURLToPath(new URL('../../../..', import.meta.url)));
const fixtures = resolve(repoRoot, '../shared/fixtures/stats');

function readCsv(path: string): Record<string, string | null>[] {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  const header = lines[0].split(',');
  return lines.slice(1).map((l) => {
    const cells = l.split(',');
    return Object.fromEntries(header.map((h, i) => [h, cells[i] === '' ? null : cells[i]]));
  });
}

describe('ReferenceProfileBuilder', () => {
  const cases = existsSync(fixtures) ? readdirSync(fixtures).sort() : [];
  it('finds the fixtures', () => expect(cases.length).toBeGreaterThan(0));

  for (const name of cases) {
    it(`${name}: reference edges and bin counts equal the fixture exactly`, () => {
      const expected = JSON.parse(readFileSync(resolve(fixtures, name, 'expected.json'), 'utf8'));
      const types: Record<string, 'numeric' | 'categorical'> = {};
      for (const [f, e] of Object.entries<{ type: 'numeric' | 'categorical' }>(expected.features)) types[f] = e.type;
      const convert = (r: Record<string, string | null>) =>
        Object.fromEntries(Object.entries(r).map(([k, v]) => [k, types[k] === 'numeric' ? cellNumber(v) : v]));
      const builder = new ReferenceProfileBuilder(types);
      for (const r of readCsv(resolve(fixtures, name, 'reference.csv'))) builder.accept(convert(r));
      const profile = builder.build({ createdAt: 1_700_000_000_000, id: name });
      const current = readCsv(resolve(fixtures, name, 'current.csv')).map(convert);
      for (const [f, e] of Object.entries<{ n_reference: number; bin_edges: number[]; reference_counts: number[]; current_counts: number[]; missing_current: number; categories: string[] }>(expected.features)) {
        const fp = profile.features[f];
        expect(fp.count).toBe(e.n_reference);
        if (fp.type === 'numeric') {
          expect(fp.edges).toEqual(e.bin_edges);
          expect(fp.counts).toEqual(e.reference_counts);
          const s = createSummary(fp);
          for (const r of current) s.accept(r[f] as number | null);
          expect(Array.from(s.counts)).toEqual(e.current_counts);
          expect(s.missing).toBe(e.missing_current);
        } else {
          e.categories.forEach((c, i) => expect((fp.categories as Record<string, number>)[c] ?? 0).toBe(e.reference_counts[i]));
        }
      }
    });
  }

  it('records moments, missing rate and rows; profiles are frozen and round-trip', () => {
    const b = new ReferenceProfileBuilder({ x: 'numeric', c: 'categorical', score: 'numeric' });
    for (let i = 0; i < 1000; i++) b.accept({ x: i % 10 === 0 ? null : i, c: i % 3 === 0 ? 'a' : 'b', score: (i % 100) / 100 });
    const p = b.build({ createdAt: 5, modelId: 'm', version: 3 });
    const x = p.features.x as NumericFeatureProfile;
    expect(p.rows).toBe(1000);
    expect(p.version).toBe(3);
    expect(p.modelId).toBe('m');
    expect(typeof p.id).toBe('string');
    expect(x.count).toBe(900);
    expect(x.missing).toBe(100);
    expect(x.missingRate).toBeCloseTo(0.1, 12);
    expect(x.min).toBe(1);
    expect(x.max).toBe(999);
    expect(x.counts.reduce((a, b) => a + b, 0)).toBe(900);
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.features)).toBe(true);
    expect(Object.isFrozen(x.edges)).toBe(true);
    expect(() => {
      (p as { version: number }).version = 9;
    }).toThrow(TypeError);
    const text = serializeProfile(p);
    const back = parseProfile(text);
    expect(back).toEqual(p);
    expect(Object.isFrozen(back.features.c)).toBe(true);
    expect((back.features.c as CategoricalFeatureProfile).categories).toEqual({ b: 666, a: 334 });
    expect(referenceDigest(x).count).toBe(900);
  });

  it('createSummary matches the profile: same edges and digest settings, or top K', () => {
    const b = new ReferenceProfileBuilder({ x: 'numeric', c: 'categorical' }, { topK: 7, compression: 120 });
    for (let i = 0; i < 100; i++) b.accept({ x: i, c: String(i % 4) });
    const p = b.build({ createdAt: 0 });
    const s = createSummary(p.features.x);
    expect(s).toBeInstanceOf(NumericSummary);
    expect(Array.from((s as NumericSummary).edges)).toEqual(p.features.x.type === 'numeric' ? p.features.x.edges : []);
    expect((s as NumericSummary).digest.compression).toBe(120);
    const c = createSummary(p.features.c);
    expect(c).toBeInstanceOf(CategoricalSummary);
    expect((c as CategoricalSummary).topK).toBe(7);
  });

  it('rejects malformed profiles', () => {
    expect(() => parseProfile('{}')).toThrow(TypeError);
    expect(() => parseProfile({ formatVersion: 99 })).toThrow(/formatVersion/);
    expect(() =>
      parseProfile({ formatVersion: 1, id: 'a', version: 1, createdAt: 0, features: { x: { type: 'numeric', edges: [1], counts: [1] } } }),
    ).toThrow(/malformed/);
    expect(() => new ReferenceProfileBuilder({ x: 'text' as 'numeric' })).toThrow(RangeError);
  });

  it('handles an all-missing numeric column', () => {
    const b = new ReferenceProfileBuilder({ x: 'numeric' });
    b.accept({ x: null });
    const x = b.build({ createdAt: 0 }).features.x as NumericFeatureProfile;
    expect(x.count).toBe(0);
    expect(x.edges).toEqual([]);
    expect(x.counts).toEqual([0]);
    expect(x.missingRate).toBe(1);
  });
});
