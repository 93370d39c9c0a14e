export { MemoryModelRepository } from './memory-model-repository.js';
export { MemoryResultRepository } from './memory-result-repository.js';
export { MemoryFeatureStateStore } from './memory-feature-state-store.js';
