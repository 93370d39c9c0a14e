import type { SampleRecord, SampleValue } from './row-source.js';

/**
 * A function that builds a record from the cells of one row. It is compiled
 * from an object literal over the column names so every record shares one
 * hidden class, which is markedly faster than assigning keys one by one on
 * wide, long files. Keys go in through JSON.stringify, so any name is safe.
 */
export function recordFactory(names: readonly string[]): (cells: readonly SampleValue[]) => SampleRecord {
  if (names.length > 1000 || names.includes('__proto__')) {
    return (cells) => {
      const rec: SampleRecord = {};
      for (let i = 0; i < names.length; i++) {
        Object.defineProperty(rec, names[i], { value: cells[i], enumerable: true, writable: true, configurable: true });
      }
      return rec;
    };
  }
  const body = `return {${names.map((h, i) => `${JSON.stringify(h)}: c[${i}]`).join(', ')}};`;
  return new Function('c', body) as (cells: readonly SampleValue[]) => SampleRecord;
}
