/**
 * Child processes of the load tests (the detector, the bare consumer) and
 * what is measured about them from outside: peak and current RSS
 * (/proc/<pid>/status VmHWM, VmRSS), CPU time (/proc/<pid>/stat), and, for
 * the detector, its Prometheus counters.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLOCK_TICKS = 100; // USER_HZ on Linux

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface ProcMemory {
  /** Peak resident set size so far (VmHWM), MB. */
  peakRssMb: number;
  rssMb: number;
}

/** RSS of a process from /proc; undefined once it is gone. */
export function procMemory(pid: number): ProcMemory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { peakRssMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
  } catch {
    return undefined;
  }
}

/** User + system CPU time of a process (all threads), ms; undefined once it is gone. */
export function procCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

export interface NodeChildOptions {
  /** Script and arguments, relative to the repository root (run through tsx unless `dist`). */
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  /** Where stdout and stderr go (appended). */
  readonly logFile: string;
  /** Node and V8 flags before the script (for flags NODE_OPTIONS refuses, such as --trace-gc). */
  readonly nodeArgs?: readonly string[];
  /** Directory for `node --cpu-prof` output. */
  readonly cpuProfDir?: string;
  /** Run compiled JavaScript (dist/) with plain node instead of TypeScript through tsx. */
  readonly compiled?: boolean;
  /** Keep stdout in memory (the bare consumer prints its result there). */
  readonly captureStdout?: boolean;
  /** RSS sampling interval. Default 100 ms. */
  readonly sampleMs?: number;
}

/**
 * A Node child process whose RSS is sampled from /proc while it runs (VmHWM
 * is the kernel's own peak, so short spikes between samples are not missed).
 */
export class NodeChild {
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;
  peakRssMb = 0;
  lastRssMb = 0;
  stdout = '';
  private readonly sampler: NodeJS.Timeout;

  constructor(readonly options: NodeChildOptions) {
    const nodeArgs: string[] = [...(options.nodeArgs ?? [])];
    if (!options.compiled) nodeArgs.push('--import', 'tsx');
    if (options.cpuProfDir) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', options.cpuProfDir);
    const log = createWriteStream(options.logFile, { flags: 'a' });
    // Only what the child needs: the parent's DRIFTSTREAM_* settings must not leak in.
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env };
    this.process = spawn(process.execPath, [...nodeArgs, ...options.args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.process.stdout!.on('data', (chunk: Buffer) => {
      if (options.captureStdout) this.stdout += chunk.toString();
      log.write(chunk);
    });
    this.process.stderr!.pipe(log);
    this.exited = new Promise((resolve) => {
      this.process.once('exit', (code) => {
        this.sample();
        resolve(code);
      });
    });
    this.sampler = setInterval(() => this.sample(), options.sampleMs ?? 100);
    this.sampler.unref();
    void this.exited.then(() => clearInterval(this.sampler));
  }

  get pid(): number {
    return this.process.pid!;
  }

  sample(): void {
    const m = this.process.pid ? procMemory(this.process.pid) : undefined;
    // A process that has exited but is not reaped yet has no Vm* lines.
    if (!m || Number.isNaN(m.rssMb)) return;
    if (m.peakRssMb > this.peakRssMb) this.peakRssMb = m.peakRssMb;
    this.lastRssMb = m.rssMb;
  }

  cpuMs(): number | undefined {
    return procCpuMs(this.pid);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  async stop(graceMs = 20_000): Promise<number | null> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return this.process.exitCode;
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** Counters the detector exposes on /metrics. */
export interface DetectorCounters {
  consumed: number;
  late: number;
  invalid: number;
  alerts: number;
  /** V8 heap used and reserved, and memory outside it (prom-client's process metrics), bytes; NaN when absent. */
  heapUsed: number;
  heapTotal: number;
  external: number;
}

function sumOf(text: string, name: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

function gaugeOf(text: string, name: string): number {
  const at = text.indexOf(`\n${name} `);
  if (at < 0) return NaN;
  const end = text.indexOf('\n', at + 1);
  return Number(text.slice(at + name.length + 2, end < 0 ? undefined : end));
}

/** Reads the detector's counters from its /metrics endpoint. */
export async function scrapeCounters(baseUrl: string): Promise<DetectorCounters> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
  const text = await res.text();
  return {
    consumed: sumOf(text, 'driftstream_events_consumed_total'),
    late: sumOf(text, 'driftstream_events_late_total'),
    invalid: sumOf(text, 'driftstream_events_invalid_total'),
    alerts: sumOf(text, 'driftstream_alerts_total'),
    heapUsed: gaugeOf(text, 'driftstream_process_nodejs_heap_size_used_bytes'),
    heapTotal: gaugeOf(text, 'driftstream_process_nodejs_heap_size_total_bytes'),
    external: gaugeOf(text, 'driftstream_process_nodejs_external_memory_bytes'),
  };
}

/** Polls `fn` until it returns true, or throws after `timeoutMs`. */
export async function waitFor(fn: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 200): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {
      // not yet
    }
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
