// The de-duplication filter in a partition checkpoint: serialized size, time to write and restore it,
// and the false-positive rate measured after a restore, at several fills of its capacity.
// Usage: npx tsx bench/dedup-filter.ts [--capacity 1000000]
import { EventDeduplicator } from '../src/stream/event-deduplicator.js';

const arg = process.argv.indexOf('--capacity');
const capacity = arg > 0 ? Number(process.argv[arg + 1]) : 1_000_000;
// Each probe that is not taken for a duplicate is remembered: few, so they hardly fill the filter further.
const PROBES = Math.min(20_000, capacity / 50);

console.log(`capacity ${capacity} ids per generation`);
console.log('ids held | in memory | in checkpoint | serialize ms | restore ms | false positives');
for (const share of [0, 0.01, 0.04, 0.1, 0.5, 1]) {
  const fill = Math.round(capacity * share);
  const d = new EventDeduplicator(60_000, capacity, 0);
  for (let i = 0; i < fill; i++) d.seen(`ev-${i}`, 1);
  let t = performance.now();
  const blob = JSON.stringify(d.toJSON());
  const ser = performance.now() - t;
  const e = new EventDeduplicator(60_000, capacity, 0);
  t = performance.now();
  if (!e.restore(JSON.parse(blob))) throw new Error('restore refused its own checkpoint');
  const res = performance.now() - t;
  for (let i = 0; i < fill; i++) if (!e.seen(`ev-${i}`, 2)) throw new Error(`id ev-${i} forgotten across the checkpoint`);
  let fp = 0;
  for (let i = 0; i < PROBES; i++) if (e.seen(`other-${i}`, 2)) fp++;
  const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
  console.log(`${fill} | ${mb(d.memoryBytes)} | ${mb(blob.length)} | ${ser.toFixed(1)} | ${res.toFixed(1)} | ${((100 * fp) / PROBES).toFixed(3)}%`);
}
