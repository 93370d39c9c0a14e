// The label end-to-end test with the join in a local Redis Cluster (3 masters, 3 replicas): see labels-e2e.test.ts.
process.env.LABELS_REDIS = 'cluster';
await import('./labels-e2e.test.js');
