import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The full variant (`npm run test:hostile`): a million events and longer fault phases. */
export const FULL = process.env.HOSTILE_FULL === '1';

/** A free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Resident set size of a process in bytes (Linux /proc), undefined once it is gone. */
export function rssOf(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `driftstream run` (detector and HTTP) as a child process the test samples
 * (RSS, /metrics, /readyz), SIGTERMs and times; output appended to `logFile`.
 */
export class RunProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<{ code: number | null; signal: string | null }> = Promise.resolve({ code: null, signal: null });
  peakRss = 0;
  private sampler: NodeJS.Timeout | undefined;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    readonly logFile: string,
    readonly port: number,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    const fd = openSync(this.logFile, 'a');
    try {
      this.child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run'], {
        cwd: ROOT,
        env: { ...process.env, ...this.env, DRIFTSTREAM_HTTP_PORT: String(this.port), DRIFTSTREAM_HTTP_HOST: '127.0.0.1' },
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    const child = this.child;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    this.sampler = setInterval(() => {
      const rss = child.pid ? rssOf(child.pid) : undefined;
      if (rss && rss > this.peakRss) this.peakRss = rss;
    }, 250);
    this.sampler.unref();
  }

  async get(path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${this.port}${path}`, { signal: AbortSignal.timeout(5_000) });
    return { status: res.status, body: await res.text() };
  }

  /** Waits until the HTTP service answers. */
  async listening(timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`driftstream run exited during start; see ${this.logFile}`);
      try {
        await this.get('/healthz');
        return;
      } catch {
        if (Date.now() > until) throw new Error(`driftstream run did not listen within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** Sums the samples of a metric in the /metrics text whose labels match `labels` (substring). */
  async metric(name: string, labels = ''): Promise<number> {
    const { body } = await this.get('/metrics');
    let sum = 0;
    for (const line of body.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (labels && !line.includes(labels)) continue;
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  }

  /** SIGTERM; resolves with the exit and how long it took. */
  async terminate(timeoutMs = 90_000): Promise<{ code: number | null; signal: string | null; ms: number }> {
    const started = Date.now();
    this.child?.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    try {
      const exit = await this.exited;
      return { ...exit, ms: Date.now() - started };
    } finally {
      clearTimeout(timer);
      clearInterval(this.sampler);
    }
  }

  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exited;
    clearInterval(this.sampler);
  }
}

/** The Kafka class path scripts/stack.mjs downloaded (a lib-* folder of its cache marked complete). */
export function kafkaLibDir(): string {
  const cache = process.env.DRIFTSTREAM_CACHE_DIR || join(homedir(), '.cache', 'driftstream');
  const dir = join(cache, 'kafka');
  const lib = existsSync(dir) ? readdirSync(dir).find((d) => d.startsWith('lib-') && !d.includes('.tmp-') && existsSync(join(dir, d, '.complete'))) : undefined;
  if (!lib) throw new Error(`no Kafka class path under ${dir}: run npm run stack:up once`);
  return join(dir, lib);
}

/**
 * A single-node KRaft broker of the test's own, on its own ports and data
 * folder, from the class path the stack script cached: the test kills it
 * with SIGKILL and starts it again on the same data, which the shared broker
 * must never see.
 */
export class PrivateBroker {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  readonly brokers: string;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly controllerPort: number,
  ) {
    this.brokers = `127.0.0.1:${port}`;
  }

  static async create(dir: string): Promise<PrivateBroker> {
    const b = new PrivateBroker(dir, await freePort(), await freePort());
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(
      join(dir, 'server.properties'),
      [
        'process.roles=broker,controller',
        'node.id=1',
        `controller.quorum.bootstrap.servers=127.0.0.1:${b.controllerPort}`,
        `listeners=PLAINTEXT://127.0.0.1:${b.port},CONTROLLER://127.0.0.1:${b.controllerPort}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${b.port}`,
        'controller.listener.names=CONTROLLER',
        'inter.broker.listener.name=PLAINTEXT',
        'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        `log.dirs=${join(dir, 'data')}`,
        'num.partitions=1',
        'offsets.topic.replication.factor=1',
        'offsets.topic.num.partitions=1',
        'transaction.state.log.replication.factor=1',
        'transaction.state.log.min.isr=1',
        'transaction.state.log.num.partitions=1',
        'share.coordinator.state.topic.replication.factor=1',
        'share.coordinator.state.topic.min.isr=1',
        'group.initial.rebalance.delay.ms=0',
        'broker.heartbeat.interval.ms=500',
        'broker.session.timeout.ms=3000',
        'num.network.threads=1',
        'num.io.threads=2',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'log4j2.properties'), 'status = warn\nappender.console.type = Console\nappender.console.name = STDOUT\nappender.console.layout.type = PatternLayout\nappender.console.layout.pattern = [%d] %p %m (%c)%n\nrootLogger.level = WARN\nrootLogger.appenderRef.stdout.ref = STDOUT\n');
    // An id that starts with '-' would be read as an option (Kafka never makes one).
    let clusterId: string;
    do clusterId = randomBytes(16).toString('base64url');
    while (clusterId.startsWith('-'));
    execFileSync('java', [...b.javaFlags(), 'kafka.tools.StorageTool', 'format', '--cluster-id', clusterId, '--config', join(dir, 'server.properties'), '--standalone'], {
      stdio: 'ignore',
    });
    return b;
  }

  private javaFlags(): string[] {
    return [`-Dlog4j2.configurationFile=${join(this.dir, 'log4j2.properties')}`, '-cp', `${kafkaLibDir()}/*`];
  }

  async start(timeoutMs = 90_000): Promise<void> {
    const fd = openSync(join(this.dir, 'broker.log'), 'a');
    try {
      this.child = spawn('java', ['-Xms64m', '-Xmx320m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', `-Dkafka.logs.dir=${this.dir}`, ...this.javaFlags(), 'kafka.Kafka', join(this.dir, 'server.properties')], {
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    const child = this.child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const kafka = new Kafka({ clientId: 'private-broker-probe', brokers: [this.brokers], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`private broker exited during start; see ${join(this.dir, 'broker.log')}`);
      const admin = kafka.admin();
      try {
        await admin.connect();
        const c = await admin.describeCluster();
        if (c.brokers.length > 0) return;
      } catch {
        // not up yet
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
      if (Date.now() > until) throw new Error(`private broker not ready within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  /** kill -9. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child?.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(t);
  }
}
