export {
  createInferenceEmitter,
  type EmitterStats,
  type GroundTruthInput,
  type InferenceEmitter,
  type InferenceEmitterOptions,
  type InferenceInput,
} from './inference-emitter.js';
