import { MemoryLabelJoin } from '../../../src/adapters/memory/memory-label-join.js';
import { labelJoinConformance } from './label-join-conformance.js';

labelJoinConformance('memory', async (options) => new MemoryLabelJoin(options));
