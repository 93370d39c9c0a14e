import avro from 'avsc';
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { DecodeError, DriftstreamError, UnavailableError } from '../../errors.js';
import { loadSchema, type SchemaName } from './schemas.js';
import type { PaneLayout } from '../../core/windows/pane-layout.js';
import type { FeatureTarget } from '../../ports/value-decoder.js';
import { AvroBodyError, InferenceEventReader } from './inference-event-reader.js';

export type WireFormat = 'avro' | 'json';

export interface DecodedValue {
  readonly value: unknown;
  readonly format: WireFormat;
  readonly schemaId?: number;
  /** True when no string in the value can hold a NUL character (judged from the raw text, once). */
  readonly nulFree?: boolean;
  /** The layout whose scratch space holds the event's features, read straight from the record (`value.features` is then empty). */
  readonly gathered?: PaneLayout;
}

export interface EventCodecOptions {
  readonly registryUrl: string;
  readonly auth?: { readonly username: string; readonly password: string };
  /** Values longer than this are rejected as `oversize` before any parsing. */
  readonly maxBytes?: number;
  /** How long an id the registry does not know is remembered as unknown. */
  readonly unknownIdTtlMs?: number;
}

type AvroType = ReturnType<typeof avro.Type.forSchema>;

// How the registry client names a subject's rule when it differs from the one asked for: `(BACKWARD != NONE)`.
const SUBJECT_RULE = /\(\w+ != (\w+)\)/;
/** The registry's answer to a rule set twice: another process gave the new subject its rule first. */
const RULE_EXISTS = /rule named 'COMPATIBILITY' already exists/i;
/** Rounds of {@link EventCodec.registerUnderSubjectRule} while the subject's rule changes under it. */
const RULE_ROUNDS = 5;

/**
 * Encodes and decodes event values in the Confluent wire format (magic byte 0,
 * 4-byte big-endian schema id, Avro body) and reads JSON values (first byte
 * `{`). Writer schemas are fetched from the registry once per id and cached;
 * an id the registry does not know is remembered for a while, so a stream of
 * bad records does not become a stream of registry requests.
 */
export class EventCodec {
  private readonly registry: SchemaRegistry;
  private readonly types = new Map<number, AvroType>();
  /** Schema ids whose writer schema is the project's InferenceEvent: read by {@link InferenceEventReader}. */
  private readonly inferenceIds = new Set<number>();
  private readonly inferenceReader = new InferenceEventReader();
  private readonly pending = new Map<number, Promise<AvroType>>();
  private readonly unknownIds = new Map<number, number>();
  private readonly maxBytes: number;
  private readonly unknownIdTtlMs: number;

  /** The codec's configuration: an ingest worker builds its own codec from it, so both decode alike. */
  readonly options: EventCodecOptions;

  constructor(options: EventCodecOptions) {
    this.options = { ...options };
    this.registry = new SchemaRegistry({ host: options.registryUrl, auth: options.auth, retry: { retries: 2 } });
    this.maxBytes = options.maxBytes ?? 1_048_576;
    this.unknownIdTtlMs = options.unknownIdTtlMs ?? 60_000;
  }

  /**
   * Registers one of the project's schemas under `subject` (usually `<topic>-value`) and returns its
   * id, under the subject's own compatibility rule (a new subject gets BACKWARD).
   */
  async register(subject: string, name: SchemaName): Promise<number> {
    try {
      const id = await this.registerUnderSubjectRule(subject, name);
      this.cacheType(id, avro.Type.forSchema(loadSchema(name) as avro.Schema));
      return id;
    } catch (err) {
      // 409/422: the subject holds an incompatible schema, or the schema is
      // invalid; retrying cannot help, unlike an unreachable registry.
      const status = (err as { status?: number }).status;
      if (status === 409 || status === 422) {
        throw new DriftstreamError('SCHEMA_INCOMPATIBLE', `the registry refused ${name} under ${subject}: ${(err as Error).message}`, { cause: err });
      }
      throw new UnavailableError('schema-registry', `could not register ${name} under ${subject}: ${(err as Error).message}`, { cause: err });
    }
  }

  // The client refuses a subject whose rule is not the one it is given (BACKWARD by default), before
  // asking the registry: a subject an operator set to another rule would never take the schema. Its
  // refusal names the subject's rule; registering again under that rule leaves the decision to the registry.
  // Processes registering a new subject at once race: the first gives the subject its rule while the
  // others read it (or set it too, which the registry refuses as a rule that exists), so a few rounds
  // follow the rule until it holds still.
  private async registerUnderSubjectRule(subject: string, name: SchemaName): Promise<number> {
    const schema = { type: SchemaType.AVRO as const, schema: JSON.stringify(loadSchema(name)) };
    let compatibility: COMPATIBILITY | undefined;
    for (let round = 1; ; round++) {
      try {
        return (await this.registry.register(schema, compatibility === undefined ? { subject } : { subject, compatibility })).id;
      } catch (err) {
        if (round >= RULE_ROUNDS) throw err;
        const rule = (err as Error)?.name === 'ConfluentSchemaRegistryCompatibilityError' ? SUBJECT_RULE.exec((err as Error).message)?.[1] : undefined;
        if (rule !== undefined && (Object.values(COMPATIBILITY) as string[]).includes(rule)) compatibility = rule as COMPATIBILITY;
        else if (!((err as { status?: number }).status === 409 && RULE_EXISTS.test((err as Error).message))) throw err;
      }
    }
  }

  /** Encodes `value` with the writer schema `schemaId` (which must be registered or fetched before). */
  encode(schemaId: number, value: unknown): Buffer {
    const type = this.types.get(schemaId);
    if (!type) throw new DecodeError('unknown_schema', `schema id ${schemaId} has not been registered by this codec`);
    const body = type.toBuffer(value);
    const out = Buffer.allocUnsafe(5 + body.length);
    out.writeUInt8(0, 0);
    out.writeUInt32BE(schemaId, 1);
    body.copy(out, 5);
    return out;
  }

  /** Encodes `value` as JSON (the alternative wire format). */
  static encodeJson(value: unknown): Buffer {
    return Buffer.from(JSON.stringify(value));
  }

  /**
   * Decodes a record value. Throws a {@link DecodeError} whose `reason` says why
   * a value is unusable, or an {@link UnavailableError} when the registry cannot
   * be reached (the caller should retry, not dead-letter).
   */
  async decode(buf: Buffer | null | undefined): Promise<DecodedValue> {
    const cached = this.decodeCached(buf);
    if (cached !== undefined) return cached;
    const schemaId = buf!.readUInt32BE(1);
    return this.decodeAvro(buf!, schemaId, await this.fetchType(schemaId));
  }

  /**
   * Synchronous {@link decode} for the hot path: decodes JSON and Avro whose
   * writer schema is cached, throws the same {@link DecodeError}s, and returns
   * undefined when the schema must first be fetched (then call {@link decode}).
   * `target`: where an event's features may be read straight into its model's
   * pane layout (see {@link InferenceEventReader.read}).
   */
  decodeCached(buf: Buffer | null | undefined, target?: FeatureTarget): DecodedValue | undefined {
    if (!buf || buf.length === 0) throw new DecodeError('empty_value', 'record has no value');
    if (buf.length > this.maxBytes) throw new DecodeError('oversize', `value of ${buf.length} bytes exceeds ${this.maxBytes}`);
    const first = buf[0];
    if (first === 0x7b) return parseJson(buf);
    if (first !== 0) throw new DecodeError('bad_wire_format', `value starts with byte 0x${first.toString(16).padStart(2, '0')}, neither Avro wire format (0x00) nor JSON ('{')`);
    if (buf.length < 5) throw new DecodeError('bad_wire_format', 'Avro value shorter than its 5-byte header');
    const schemaId = buf.readUInt32BE(1);
    const type = this.types.get(schemaId);
    if (type === undefined) {
      const until = this.unknownIds.get(schemaId);
      if (until !== undefined && until > Date.now()) throw new DecodeError('unknown_schema', `schema id ${schemaId} is not in the registry`);
      return undefined;
    }
    return this.decodeAvro(buf, schemaId, type, target);
  }

  private cacheType(id: number, type: AvroType): void {
    this.types.set(id, type);
    if (type.fingerprint().equals(inferenceFingerprint())) this.inferenceIds.add(id);
  }

  private decodeAvro(buf: Buffer, schemaId: number, type: AvroType, target?: FeatureTarget): DecodedValue {
    if (this.inferenceIds.has(schemaId)) {
      try {
        const { value, nulFree, gathered } = this.inferenceReader.read(buf, 5, target);
        return gathered === undefined ? { value, format: 'avro', schemaId, nulFree } : { value, format: 'avro', schemaId, nulFree, gathered };
      } catch (err) {
        if (!(err instanceof AvroBodyError)) throw err;
        throw new DecodeError('avro_decode', `cannot decode Avro body with schema ${schemaId}: ${err.message}`, { cause: err });
      }
    }
    let value: unknown;
    try {
      const res = type.decode(buf, 5);
      if (res.offset !== buf.length) {
        throw new Error(res.offset < 0 ? 'truncated Avro body' : `${buf.length - res.offset} trailing bytes after the Avro body`);
      }
      value = res.value;
    } catch (err) {
      throw new DecodeError('avro_decode', `cannot decode Avro body with schema ${schemaId}: ${(err as Error).message}`, { cause: err });
    }
    return { value, format: 'avro', schemaId };
  }

  private async fetchType(id: number): Promise<AvroType> {
    const until = this.unknownIds.get(id);
    if (until !== undefined && until > Date.now()) throw new DecodeError('unknown_schema', `schema id ${id} is not in the registry`);
    let p = this.pending.get(id);
    if (!p) {
      p = this.registry
        .getSchema(id)
        .then((schema) => {
          const type = schema as unknown as AvroType;
          this.cacheType(id, type);
          return type;
        })
        .finally(() => this.pending.delete(id));
      this.pending.set(id, p);
    }
    try {
      return await p;
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        this.unknownIds.set(id, Date.now() + this.unknownIdTtlMs);
        throw new DecodeError('unknown_schema', `schema id ${id} is not in the registry`, { cause: err });
      }
      throw new UnavailableError('schema-registry', `schema registry unavailable while fetching id ${id}: ${(err as Error).message}`, { cause: err });
    }
  }
}

let inferencePrint: Buffer | undefined;

/** The fingerprint of the project's InferenceEvent schema (names, types and field order). */
function inferenceFingerprint(): Buffer {
  return (inferencePrint ??= avro.Type.forSchema(loadSchema('InferenceEvent') as avro.Schema).fingerprint());
}

// JSON carries U+0000 in a string only as this escape: a raw NUL byte is not valid JSON.
const JSON_NUL_ESCAPE = '\\u0000';

function parseJson(buf: Buffer): DecodedValue {
  try {
    const text = buf.toString('utf8');
    return { value: JSON.parse(text), format: 'json', nulFree: !text.includes(JSON_NUL_ESCAPE) };
  } catch (err) {
    throw new DecodeError('bad_json', `invalid JSON: ${(err as Error).message}`, { cause: err });
  }
}
