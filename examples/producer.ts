// A prediction service's side of driftstream: emit one inference event per
// prediction and, once the true outcome is known, a ground-truth event.
//
//   npx tsx examples/producer.ts     against the local stack (npm run stack:up)
//
// It reads the same variables as the detector, so both agree on the servers and topics:
//   DRIFTSTREAM_KAFKA_BROKERS, DRIFTSTREAM_SCHEMA_REGISTRY_URL, DRIFTSTREAM_INFERENCE_TOPIC,
//   DRIFTSTREAM_GROUND_TRUTH_TOPIC.
//
// In an application that depends on the package: import { createInferenceEmitter } from 'driftstream'.
import { createInferenceEmitter } from '../src/index.js';

const emitter = createInferenceEmitter({
  brokers: process.env.DRIFTSTREAM_KAFKA_BROKERS ?? '127.0.0.1:9092',
  registryUrl: process.env.DRIFTSTREAM_SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7',
  topic: process.env.DRIFTSTREAM_INFERENCE_TOPIC ?? 'inference-events',
  groundTruthTopic: process.env.DRIFTSTREAM_GROUND_TRUTH_TOPIC ?? 'ground-truth-events',
  // Defaults shown: Avro with schemas registered on first use, batches of 500 or every 20 ms.
  format: 'avro',
  batchSize: 500,
  lingerMs: 20,
  onError: (err, events) => console.error(`${events} events not delivered: ${err.message}`),
});

// Stand-in for a real model: a credit-risk score from two numeric features and a category.
function predict(features: { age: number; income: number; region: string }): number {
  const z = -2 + 0.03 * (60 - features.age) - features.income / 100_000 + (features.region === 'south' ? 0.4 : 0);
  return 1 / (1 + Math.exp(-z));
}

const regions = ['north', 'south', 'east', 'west'];
const pending: { eventId: string; score: number }[] = [];

for (let i = 0; i < 1000; i++) {
  const features = { age: 18 + Math.round(Math.random() * 60), income: Math.round(20_000 + Math.random() * 100_000), region: regions[i % 4] };
  const score = predict(features);
  // Keyed by modelId; eventId (a UUID) and timestamp (now) are filled in.
  const eventId = await emitter.emit({
    modelId: 'credit-risk',
    modelVersion: '2026-11-01',
    features,
    score,
    prediction: score >= 0.5 ? '1' : '0',
    attributes: { channel: i % 3 === 0 ? 'mobile' : 'web' },
  });
  pending.push({ eventId, score });
}

// Later, when outcomes are known (here: at once, for a tenth of the predictions).
for (const { eventId, score } of pending.filter((_, i) => i % 10 === 0)) {
  await emitter.emitGroundTruth({ eventId, modelId: 'credit-risk', label: Math.random() < score ? '1' : '0' });
}

// close() flushes what is buffered and rejects if any batch was not delivered.
await emitter.close();
console.log('sent', emitter.stats);
