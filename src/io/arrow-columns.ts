import { DataType, Type, util, type Field, type RecordBatch, type Schema, type Vector } from 'apache-arrow';
import { recordFactory } from './record-factory.js';
import { SampleReadError, type ColumnBatch, type SampleColumn, type SampleColumnType, type SampleRecord, type SampleValue } from './row-source.js';

/**
 * The feature type an Arrow field maps to: numbers (integers, floats,
 * decimals, dates and timestamps as epoch milliseconds) are numeric; strings,
 * booleans and dictionary-encoded columns are categorical; a column of the
 * null type is left untyped. Undefined for anything else, with the reason.
 */
export function columnTypeOf(field: Field): { type: SampleColumnType | undefined } | { unsupported: string } {
  const t = field.type;
  switch (t.typeId) {
    case Type.Int:
    case Type.Float:
    case Type.Decimal:
    case Type.Date:
    case Type.Timestamp:
      return { type: 'numeric' };
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Bool:
    case Type.Dictionary:
      return { type: 'categorical' };
    case Type.Null:
      return { type: undefined };
    default:
      if (DataType.isList(t) || DataType.isFixedSizeList(t) || DataType.isStruct(t) || DataType.isMap(t) || DataType.isUnion(t) || t.typeId === Type.LargeList) {
        return { unsupported: `${String(t)}, nested` };
      }
      return { unsupported: String(t) };
  }
}

/**
 * The typed columns of an Arrow schema (a Parquet file's too, as read).
 * Throws {@link SampleReadError} (`SAMPLE_UNSUPPORTED_COLUMN`) naming every
 * nested or otherwise unsupported column at once.
 */
export function columnsOfSchema(path: string, schema: Schema): SampleColumn[] {
  const columns: SampleColumn[] = [];
  const refused: string[] = [];
  for (const field of schema.fields) {
    const mapped = columnTypeOf(field);
    if ('unsupported' in mapped) refused.push(`${field.name} (${mapped.unsupported})`);
    else columns.push(mapped.type ? { name: field.name, type: mapped.type } : { name: field.name });
  }
  if (refused.length > 0) {
    throw new SampleReadError(
      'SAMPLE_UNSUPPORTED_COLUMN',
      path,
      `${path}: column${refused.length > 1 ? 's' : ''} ${refused.join(', ')} cannot be summarised: a sample takes flat numeric, string, boolean and dictionary columns; leave ${refused.length > 1 ? 'these' : 'it'} out of the file`,
    );
  }
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c.name)) throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}: duplicate column ${c.name} in the schema`);
    seen.add(c.name);
  }
  return columns;
}

/** The values of one column of a batch as plain cells (numbers, strings, booleans, null). */
export function cellsOf(vector: Vector, type: DataType): SampleValue[] {
  const n = vector.length;
  const out = new Array<SampleValue>(n);
  const nulls = vector.nullCount > 0;
  switch (type.typeId) {
    case Type.Int:
    case Type.Float: {
      // Float16 is stored as raw half-precision bits; get() decodes them.
      if (type.typeId === Type.Float && (type as unknown as { precision?: number }).precision === 0) break;
      const values = vector.toArray() as ArrayLike<number | bigint>;
      for (let i = 0; i < n; i++) out[i] = nulls && !vector.isValid(i) ? null : Number(values[i]);
      return out;
    }
    case Type.Decimal: {
      const scale = (type as unknown as { scale: number }).scale;
      for (let i = 0; i < n; i++) {
        const v = vector.get(i) as Uint32Array | null;
        out[i] = v === null ? null : util.bigNumToNumber(v as never, scale);
      }
      return out;
    }
    case Type.Timestamp:
    case Type.Date:
      for (let i = 0; i < n; i++) {
        const v = vector.get(i) as number | bigint | Date | null;
        out[i] = v === null ? null : v instanceof Date ? v.getTime() : Number(v);
      }
      return out;
    case Type.Null:
      return out.fill(null);
    default:
      break;
  }
  for (let i = 0; i < n; i++) {
    const v = vector.get(i) as unknown;
    out[i] = v === null || v === undefined ? null : typeof v === 'bigint' ? Number(v) : (v as SampleValue);
  }
  return out;
}

/**
 * Builds the records of rows `[start, end)` from one vector per column (in
 * the order of `names`); vectors may be chunked, and are read through
 * zero-copy slices.
 */
export function recordsOf(names: readonly string[], vectors: readonly Vector[], start: number, end: number, make = recordFactory(names)): SampleRecord[] {
  const cols: SampleValue[][] = vectors.map((v) => {
    const part = start === 0 && end === v.length ? v : v.slice(start, end);
    return cellsOf(part, v.type as DataType);
  });
  const n = end - start;
  const rows = new Array<SampleRecord>(n);
  const cells = new Array<SampleValue>(names.length);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < cols.length; c++) cells[c] = cols[c][r];
    rows[r] = make(cells);
  }
  return rows;
}

/** Rows `[start, end)` of one vector per column (in the order of `names`) as a column batch, converted column by column when asked for. */
export function columnBatchOf(names: readonly string[], vectors: readonly Vector[], start: number, end: number): ColumnBatch {
  const index = new Map(names.map((n, i) => [n, i]));
  return {
    length: end - start,
    names,
    column: (name) => {
      const i = index.get(name);
      if (i === undefined) return new Array<undefined>(end - start);
      const v = vectors[i];
      return cellsOf(start === 0 && end === v.length ? v : v.slice(start, end), v.type as DataType);
    },
  };
}

/** The vectors of a record batch, in the order of `columns`; throws if one is missing. */
export function vectorsOf(path: string, names: readonly string[], batch: RecordBatch): Vector[] {
  return names.map((name) => {
    const vector = batch.getChild(name);
    if (!vector) throw new SampleReadError('SAMPLE_MALFORMED', path, `${path}: a record batch has no column ${name}`);
    return vector;
  });
}
