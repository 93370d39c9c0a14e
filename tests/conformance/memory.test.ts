// Conformance of the in-memory adapters: the default without Redis and PostgreSQL.
import {
  MemoryAlertStateStore,
  MemoryFeatureStateStore,
  MemoryModelRepository,
  MemoryPaneCoordinator,
  MemoryResultRepository,
} from '../../src/adapters/memory/index.js';
import { alertStateStoreConformance } from './alert-state-store.conformance.js';
import { featureStateStoreConformance } from './feature-state-store.conformance.js';
import { modelRepositoryConformance } from './model-repository.conformance.js';
import { paneCoordinatorConformance } from './pane-coordinator.conformance.js';
import { resultRepositoryConformance } from './result-repository.conformance.js';

featureStateStoreConformance('memory', async () => new MemoryFeatureStateStore());
modelRepositoryConformance('memory', async () => new MemoryModelRepository());
resultRepositoryConformance('memory', async () => new MemoryResultRepository());
paneCoordinatorConformance('memory', async () => new MemoryPaneCoordinator());
alertStateStoreConformance('memory', async () => new MemoryAlertStateStore());
