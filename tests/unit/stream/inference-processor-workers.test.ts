// The processor's tests again, with the per-event work on two ingest worker threads
// (tests/unit/stream/harness.ts reads DRIFTSTREAM_WORKERS when it is first imported).
process.env.DRIFTSTREAM_WORKERS = '2';
await import('./inference-processor.test.js');
