export { MemoryModelRepository } from './memory-model-repository.js';
export { MemoryResultRepository } from './memory-result-repository.js';
export { MemoryCheckpointStore } from './memory-checkpoint-store.js';
export { MemoryPaneCoordinator } from './memory-pane-coordinator.js';
export { MemoryAlertStateStore } from './memory-alert-state-store.js';
