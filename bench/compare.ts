import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { normalGenerator } from './random.js';
import type { BenchLine } from './stats.js';

async function writeCsv(path: string, rows: number, cols: number, seed: number, shift: number): Promise<void> {
  const g = normalGenerator(seed);
  const out = createWriteStream(path);
  const header = Array.from({ length: cols }, (_, i) => `x${i}`).join(',') + '\n';
  out.write(header);
  let chunk = '';
  for (let r = 0; r < rows; r++) {
    let line = '';
    for (let c = 0; c < cols; c++) {
      const v = g() * (c + 1) + (c < 3 ? shift : 0);
      line += (c === 0 ? '' : ',') + v;
    }
    chunk += line + '\n';
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
      chunk = '';
    }
  }
  out.write(chunk);
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/**
 * `compare` on two generated CSVs of `rows` x 10 numeric columns, in a child
 * process so its peak RSS is its own.
 */
export async function benchCompare(rows = 1_000_000): Promise<BenchLine[]> {
  const dir = await mkdtemp(join(tmpdir(), 'driftstream-bench-'));
  try {
    const ref = join(dir, 'reference.csv');
    const cur = join(dir, 'current.csv');
    await writeCsv(ref, rows, 10, 11, 0);
    await writeCsv(cur, rows, 10, 12, 0.05);
    const child = join(dirname(fileURLToPath(import.meta.url)), 'compare-child.ts');
    const result = await new Promise<{ seconds: number; cpuSeconds: number; maxRssMB: number; exitCode: number }>((resolve, reject) => {
      const p = spawn(process.execPath, ['--import', 'tsx', child, ref, cur], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      p.stdout.on('data', (d) => (text += d));
      p.on('error', reject);
      p.on('close', (code) => {
        try {
          resolve(JSON.parse(text.trim().split('\n').pop()!));
        } catch {
          reject(new Error(`compare child failed (exit ${code}): ${text}`));
        }
      });
    });
    if (result.exitCode !== 0) throw new Error(`compare exited with ${result.exitCode}`);
    return [
      { name: `compare ${rows} rows x 10 numeric columns (CSV), wall`, value: result.seconds, unit: 's' },
      { name: `compare ${rows} rows x 10 numeric columns (CSV), CPU`, value: result.cpuSeconds, unit: 's' },
      { name: 'compare peak RSS', value: result.maxRssMB, unit: 'MB' },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
