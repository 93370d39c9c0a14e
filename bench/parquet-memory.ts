// `npm run bench:parquet-memory [-- --gb 2 --row-group 1048576]`: writes a
// reference Parquet file and a current one of about that many GB under the
// system temp dir, runs `driftstream compare` on them as a child process,
// reports its peak RSS (the kernel's high-water mark, VmHWM, read from /proc
// until it exits) and wall time, and deletes the files.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Dictionary, Int32, Table, tableToIPC, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import { Compression, Table as WasmTable, transformParquetStream, WriterPropertiesBuilder } from 'parquet-wasm/node';
import { normalGenerator } from './random.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BATCH_ROWS = 65_536;
const SEGMENTS = ['north', 'south', 'east', 'west', 'central'];

/**
 * Writes 8 double columns, an int and a dictionary-encoded string column,
 * snappy-compressed, in row groups of `rowGroup` rows (pyarrow's default is
 * 1,048,576), until the file holds `targetBytes` or `maxRows` rows.
 */
async function writeParquet(path: string, opts: { targetBytes: number; maxRows: number; rowGroup: number; seed: number; shift: number }): Promise<number> {
  const g = normalGenerator(opts.seed);
  let rows = 0;
  let bytes = 0;
  const batches = new ReadableStream({
    pull(controller) {
      if (bytes >= opts.targetBytes || rows >= opts.maxRows) {
        controller.close();
        return;
      }
      const n = Math.min(BATCH_ROWS, opts.maxRows - rows);
      const columns: Record<string, Vector> = {};
      for (let c = 0; c < 8; c++) columns[`x${c}`] = vectorFromArray(Float64Array.from({ length: n }, () => g() * (c + 1) + (c < 3 ? opts.shift : 0)));
      columns.k = vectorFromArray(Int32Array.from({ length: n }, (_, i) => (rows + i) % 17));
      columns.segment = vectorFromArray(
        Array.from({ length: n }, (_, i) => SEGMENTS[(rows + i) % SEGMENTS.length]),
        new Dictionary(new Utf8(), new Int32()),
      );
      const table = WasmTable.fromIPCStream(tableToIPC(new Table(columns), 'stream'));
      for (const b of table.recordBatches()) controller.enqueue(b);
      rows += n;
    },
  });
  const props = new WriterPropertiesBuilder().setCompression(Compression.SNAPPY).setMaxRowGroupSize(opts.rowGroup).build();
  const out = Readable.fromWeb((await transformParquetStream(batches, props)) as WebReadableStream<Uint8Array>);
  out.on('data', (chunk: Uint8Array) => (bytes += chunk.length));
  await pipeline(out, createWriteStream(path));
  return rows;
}

async function vmHwmKb(pid: number): Promise<number | undefined> {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined; // exited
  }
}

async function compareInChild(reference: string, current: string): Promise<{ seconds: number; peakRssMB: number; report: string }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), 'compare', '-r', reference, '-c', current, '-f', 'json'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let report = '';
  child.stdout.on('data', (d: Buffer) => (report += d));
  let peakKb = 0;
  let exited = false;
  const done = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      exited = true;
      resolve(code);
    });
  });
  // VmHWM only grows, so the last reading before exit is the peak but for the final 50 ms.
  while (!exited) {
    const kb = await vmHwmKb(child.pid!);
    if (kb !== undefined) peakKb = Math.max(peakKb, kb);
    await new Promise((r) => setTimeout(r, 50));
  }
  const code = await done;
  if (code !== 0) throw new Error(`compare exited with ${code}`);
  return { seconds: (performance.now() - t0) / 1000, peakRssMB: peakKb / 1024, report };
}

const { values } = parseArgs({
  options: { gb: { type: 'string', default: '2' }, 'row-group': { type: 'string', default: String(1 << 20) }, 'reference-rows': { type: 'string', default: '200000' } },
});
const dir = await mkdtemp(join(tmpdir(), 'driftstream-parquet-bench-'));
try {
  const rowGroup = Number(values['row-group']);
  const reference = join(dir, 'reference.parquet');
  const current = join(dir, 'current.parquet');
  const t0 = performance.now();
  await writeParquet(reference, { targetBytes: Infinity, maxRows: Number(values['reference-rows']), rowGroup, seed: 1, shift: 0 });
  const rows = await writeParquet(current, { targetBytes: Number(values.gb) * 1024 ** 3, maxRows: Infinity, rowGroup, seed: 2, shift: 0.05 });
  const size = (await stat(current)).size;
  console.log(`wrote ${(size / 1024 ** 3).toFixed(2)} GiB, ${rows.toLocaleString('en-US')} rows, row groups of ${rowGroup} rows, in ${((performance.now() - t0) / 1000).toFixed(0)} s (${dir})`);
  const r = await compareInChild(reference, current);
  const parsed = JSON.parse(r.report) as { features: Record<string, { nCurrent: number }> };
  if (parsed.features.x0.nCurrent !== rows) throw new Error(`compare counted ${parsed.features.x0.nCurrent} rows of ${rows}`);
  console.log(`compare of a ${(size / 1024 ** 3).toFixed(2)} GiB Parquet file: peak RSS ${r.peakRssMB.toFixed(0)} MB, wall ${r.seconds.toFixed(1)} s, ${rows.toLocaleString('en-US')} rows`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
