// The chaos test with its state in a local Redis Cluster (3 masters, 3 replicas), a master SIGKILLed
// halfway through on top of the detector kills (see chaos.test.ts).
process.env.CHAOS_REDIS = 'cluster';
await import('./chaos.test.js');
