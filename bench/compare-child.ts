// Runs one compare and prints its wall time and peak RSS as JSON (used by bench/compare.ts).
import { Writable } from 'node:stream';
import { compareCommand } from '../src/commands/compare.js';

const [reference, current] = process.argv.slice(2);
const sink = new Writable({ write: (_c, _e, cb) => cb() });
const t0 = process.hrtime.bigint();
const c0 = process.cpuUsage();
const exitCode = await compareCommand({ reference, current, format: 'json', types: {} }, sink, process.stderr);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(c0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
process.stdout.write(JSON.stringify({ seconds, cpuSeconds, maxRssMB: process.resourceUsage().maxRSS / 1024, exitCode }) + '\n');
