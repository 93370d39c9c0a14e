// `npm run bench`: every benchmark, one line per figure. Add new suites to SUITES.
import { benchCategorical, benchNumeric, benchWindowEvaluation, type BenchLine } from './stats.js';
import { benchCompare } from './compare.js';
import { benchEmitter } from './emitter.js';
import { benchLabels } from './labels.js';

const SUITES: [string, () => BenchLine[] | Promise<BenchLine[]>][] = [
  ['numeric', () => benchNumeric()],
  ['categorical', () => benchCategorical()],
  ['window', () => benchWindowEvaluation()],
  ['compare', () => benchCompare()],
  ['emitter', () => benchEmitter()],
  ['checkpoint', async () => (await import('./checkpoint.js')).benchCheckpoint()],
  ['labels', () => benchLabels()],
  ['processor', async () => (await import('./processor.js')).benchProcessor()],
  ['decode', async () => (await import('./decode.js')).benchDecode()],
];

const only = process.argv.slice(2);
for (const [name, run] of SUITES) {
  if (only.length > 0 && !only.includes(name)) continue;
  for (const line of await run()) {
    const v = line.value >= 1000 ? Math.round(line.value).toLocaleString('en-US') : line.value < 0.01 ? line.value.toExponential(2) : line.value.toFixed(3);
    console.log(`${line.name.padEnd(72)} ${v} ${line.unit}${line.note ? `  (${line.note})` : ''}`);
  }
}
