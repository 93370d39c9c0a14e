import { readFileSync } from 'node:fs';

export type SchemaName = 'InferenceEvent' | 'GroundTruthEvent' | 'DriftAlert';

// schemas/ sits at the package root; this file is three levels below it in
// both src/ and dist/.
const SCHEMA_DIR = new URL('../../../schemas/', import.meta.url);

const cache = new Map<SchemaName, Record<string, unknown>>();

/** The Avro schema (parsed .avsc) of one of driftstream's event types. */
export function loadSchema(name: SchemaName): Record<string, unknown> {
  let schema = cache.get(name);
  if (!schema) {
    schema = JSON.parse(readFileSync(new URL(`${name}.avsc`, SCHEMA_DIR), 'utf8')) as Record<string, unknown>;
    cache.set(name, schema);
  }
  return schema;
}
