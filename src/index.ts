// The package's public entry (`import { ... } from 'driftstream'`).

// The producer's whole surface: the emitter and its types.
export * from './producer/index.js';
export { EventCodec, type DecodedValue, type EventCodecOptions, type WireFormat } from './adapters/registry/event-codec.js';
export { loadSchema, type SchemaName } from './adapters/registry/schemas.js';
export {
  toGroundTruthEvent,
  toInferenceEvent,
  type AlertKind,
  type AlertSeverity,
  type AlertStatus,
  type DriftAlert,
  type FeatureValue,
  type GroundTruthEvent,
  type InferenceEvent,
} from './core/events.js';
export { ConfigError, DecodeError, DriftstreamError, UnavailableError, ValidationError, isRetriable } from './errors.js';
export { openRowSource } from './io/sample-reader.js';
export {
  SampleReadError,
  SAMPLE_FORMATS,
  type ColumnBatch,
  type RowSource,
  type RowSourceOptions,
  type SampleColumn,
  type SampleFormat,
  type SampleRecord,
} from './io/row-source.js';
