import { summarizeCpuProfile } from './cpu-profile.js';
import { readdirSync } from 'node:fs';
const dir = process.argv[2];
const f = readdirSync(dir).find((x) => x.endsWith('.cpuprofile'))!;
const s = summarizeCpuProfile(`${dir}/${f}`, 30);
console.log(JSON.stringify(s, null, 0).replace(/\},\{/g, '},\n{'));
