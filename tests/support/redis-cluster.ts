// A throwaway Redis Cluster from the machine's redis-server: its own ports, its own directory, never 6379.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';

const run = promisify(execFile);
const REDIS_SERVER = process.env.DRIFTSTREAM_TEST_REDIS_SERVER ?? '/usr/bin/redis-server';
const REDIS_CLI = process.env.DRIFTSTREAM_TEST_REDIS_CLI ?? '/usr/bin/redis-cli';

export interface ClusterNode {
  port: number;
  process: ChildProcess;
}

export interface LocalRedisCluster {
  readonly dir: string;
  readonly nodes: ClusterNode[];
  /** A seed URL (DRIFTSTREAM_REDIS_URL in cluster mode). */
  readonly url: string;
  /** All nodes as host:port (DRIFTSTREAM_REDIS_NODES). */
  readonly seeds: string[];
  /** A cluster client for the test's own checks. */
  client(): Cluster;
  /** The port of the master serving `key` now. */
  masterOf(key: string): Promise<number>;
  /** SIGKILLs the master serving `key` and resolves once a replica has taken its slots; returns the killed port. */
  killMasterOf(key: string): Promise<number>;
  /** Restarts a killed node (it rejoins as a replica). */
  restart(port: number): Promise<void>;
  /** Bytes Redis uses on every master (INFO used_memory), summed. */
  usedMemory(): Promise<number>;
  /** INFO `section` of every live master, by port. */
  masterInfo(section: string): Promise<Map<number, string>>;
  stop(): Promise<void>;
}

async function portPairFree(port: number): Promise<boolean> {
  const free = (p: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(p, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  return (await free(port)) && (await free(port + 10_000));
}

/** `count` ports whose cluster-bus ports (+10000) are free too, away from the usual Redis ports. */
async function freePorts(count: number): Promise<number[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 25_000);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    const ok = await Promise.all(ports.map(portPairFree));
    if (ok.every(Boolean)) return ports;
  }
  throw new Error('no free port range for a local redis cluster');
}

function startNode(dir: string, port: number): ChildProcess {
  const conf = join(dir, `${port}.conf`);
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      'protected-mode no',
      'cluster-enabled yes',
      'cluster-announce-ip 127.0.0.1',
      `cluster-config-file nodes-${port}.conf`,
      'cluster-node-timeout 1000',
      // Failover in about two seconds, whatever the replica's replication lag.
      'cluster-replica-validity-factor 0',
      'appendonly no',
      'save ""',
      `dir ${dir}`,
      `logfile ${join(dir, `${port}.log`)}`,
    ].join('\n'),
  );
  const child = spawn(REDIS_SERVER, [conf], { stdio: 'ignore' });
  child.unref();
  return child;
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`local redis cluster: ${what} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

async function nodeSays(port: number, ...args: string[]): Promise<string> {
  const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return String(await c.call(args[0], ...args.slice(1)));
  } finally {
    c.disconnect();
  }
}

/** Fewer than 3 masters (redis-cli refuses to create them): slots split by hand, nodes introduced to each other. */
async function assignSlots(ports: number[]): Promise<void> {
  const per = Math.ceil(16_384 / ports.length);
  for (let i = 0; i < ports.length; i++) {
    await nodeSays(ports[i], 'CLUSTER', 'ADDSLOTSRANGE', String(i * per), String(Math.min(16_383, (i + 1) * per - 1)));
    if (i > 0) await nodeSays(ports[0], 'CLUSTER', 'MEET', '127.0.0.1', String(ports[i]));
  }
}

/** Every node agrees the cluster is ok and every master has its replicas. */
async function healthy(ports: number[], masters: number, replicasPerMaster: number): Promise<boolean> {
  for (const port of ports) {
    if (!(await nodeSays(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return false;
  }
  const nodes = await nodeSays(ports[0], 'CLUSTER', 'NODES');
  const lines = nodes.trim().split('\n');
  const live = lines.filter((l) => !l.includes('fail'));
  const m = live.filter((l) => l.includes('master')).length;
  const r = live.filter((l) => l.includes('slave')).length;
  if (m !== masters || r < masters * replicasPerMaster) return false;
  // Replicas have finished their initial sync (WAIT would otherwise time out).
  for (const port of ports) {
    const info = await nodeSays(port, 'INFO', 'replication');
    if (info.includes('role:slave') && !info.includes('master_link_status:up')) return false;
  }
  return true;
}

/** The port of the live master serving the slot of `key`, as the nodes themselves say. */
async function masterOfKey(nodes: ClusterNode[], key: string): Promise<number> {
  const slot = Number(await nodeSays(nodes.find((n) => n.process.exitCode === null && !n.process.killed)!.port, 'CLUSTER', 'KEYSLOT', key));
  for (const n of nodes) {
    if (n.process.killed) continue;
    const lines = (await nodeSays(n.port, 'CLUSTER', 'NODES')).trim().split('\n');
    const myself = lines.find((l) => l.includes('myself'))!;
    if (!myself.includes('master') || myself.includes('fail')) continue;
    for (const range of myself.split(' ').slice(8)) {
      const [a, b] = range.split('-').map(Number);
      if (slot >= a && slot <= (b ?? a)) return n.port;
    }
  }
  throw new Error(`no master serves slot ${slot}`);
}

/**
 * Starts `masters` masters with `replicasPerMaster` replicas each, creates the
 * cluster with redis-cli and waits until it serves every slot.
 */
export async function startRedisCluster(options: { masters?: number; replicasPerMaster?: number } = {}): Promise<LocalRedisCluster> {
  const masters = options.masters ?? 3;
  const replicasPerMaster = options.replicasPerMaster ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'driftstream-redis-cluster-'));
  const ports = await freePorts(masters * (1 + replicasPerMaster));
  const nodes: ClusterNode[] = ports.map((port) => ({ port, process: startNode(dir, port) }));
  const clients: Cluster[] = [];
  const stop = async () => {
    for (const c of clients) c.disconnect();
    for (const n of nodes) n.process.kill('SIGKILL');
    await sleep(100);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('nodes listening', 10_000, async () => (await Promise.all(ports.map((p) => nodeSays(p, 'PING')))).every((r) => r === 'PONG'));
    if (masters >= 3) {
      const args = ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', String(replicasPerMaster), '--cluster-yes'];
      await run(REDIS_CLI, args, { timeout: 30_000 });
    } else {
      await assignSlots(ports.slice(0, masters));
      if (replicasPerMaster > 0) throw new Error('replicas need at least 3 masters here');
    }
    await waitFor('cluster ok', 30_000, () => healthy(ports, masters, replicasPerMaster));
  } catch (err) {
    await stop();
    throw err;
  }
  const masterOf = (key: string) => masterOfKey(nodes, key);
  return {
    dir,
    nodes,
    url: `redis://127.0.0.1:${ports[0]}`,
    seeds: ports.map((p) => `127.0.0.1:${p}`),
    client() {
      const c = new Cluster(ports.map((port) => ({ host: '127.0.0.1', port })), { redisOptions: { maxRetriesPerRequest: 1 }, scaleReads: 'master' });
      clients.push(c);
      return c;
    },
    masterOf,
    async killMasterOf(key) {
      const port = await masterOf(key);
      const node = nodes.find((n) => n.port === port)!;
      node.process.kill('SIGKILL');
      await waitFor('a replica promoted', 30_000, async () => {
        const live = nodes.filter((n) => !n.process.killed).map((n) => n.port);
        return (await masterOf(key)) !== port && (await nodeSays(live[0], 'CLUSTER', 'INFO')).includes('cluster_state:ok');
      });
      return port;
    },
    async restart(port) {
      const node = nodes.find((n) => n.port === port)!;
      node.process = startNode(dir, port);
      await waitFor('the node back', 10_000, async () => (await nodeSays(port, 'PING')) === 'PONG');
    },
    async masterInfo(section) {
      const out = new Map<number, string>();
      for (const n of nodes) {
        if (n.process.killed) continue;
        if (!(await nodeSays(n.port, 'ROLE')).startsWith('master')) continue;
        out.set(n.port, await nodeSays(n.port, 'INFO', section));
      }
      return out;
    },
    async usedMemory() {
      let total = 0;
      for (const n of nodes) {
        if (n.process.killed) continue;
        const info = await nodeSays(n.port, 'INFO', 'memory');
        const role = await nodeSays(n.port, 'ROLE');
        if (!role.startsWith('master')) continue;
        total += Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
      }
      return total;
    },
    stop,
  };
}

export interface LocalRedisServer {
  readonly port: number;
  readonly url: string;
  /** The replica's port, when started with one. */
  readonly replicaPort?: number;
  info(section: string): Promise<string>;
  stop(): Promise<void>;
}

/** One standalone redis-server (optionally with a replica) on free ports in a tmp dir, for benchmarks and tests. */
export async function startRedisServer(options: { replica?: boolean } = {}): Promise<LocalRedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'driftstream-redis-'));
  const [port, replicaPort] = await freePorts(2);
  const conf = (p: string, extra: string[]) => {
    const file = join(dir, `${p}.conf`);
    writeFileSync(file, [`port ${p}`, 'bind 127.0.0.1', 'protected-mode no', 'appendonly no', 'save ""', `dir ${dir}`, `logfile ${join(dir, `${p}.log`)}`, ...extra].join('\n'));
    return file;
  };
  const children = [spawn(REDIS_SERVER, [conf(String(port), [])], { stdio: 'ignore' })];
  if (options.replica) children.push(spawn(REDIS_SERVER, [conf(String(replicaPort), [`replicaof 127.0.0.1 ${port}`])], { stdio: 'ignore' }));
  for (const c of children) c.unref();
  const stop = async () => {
    for (const c of children) c.kill('SIGKILL');
    await sleep(100);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('the server', 10_000, async () => (await nodeSays(port, 'PING')) === 'PONG');
    if (options.replica) await waitFor('the replica in sync', 20_000, async () => (await nodeSays(replicaPort, 'INFO', 'replication')).includes('master_link_status:up'));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    replicaPort: options.replica ? replicaPort : undefined,
    info: (section) => nodeSays(port, 'INFO', section),
    stop,
  };
}

export interface LocalRedisSentinel {
  readonly server: LocalRedisServer;
  /** The sentinel as host:port (DRIFTSTREAM_REDIS_NODES). */
  readonly sentinel: string;
  readonly masterName: string;
  stop(): Promise<void>;
}

/** A master with one replica and one sentinel watching them (quorum 1), on free ports. */
export async function startRedisSentinel(masterName = 'driftstream-test'): Promise<LocalRedisSentinel> {
  const server = await startRedisServer({ replica: true });
  const dir = mkdtempSync(join(tmpdir(), 'driftstream-sentinel-'));
  const [port] = await freePorts(1);
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [`port ${port}`, 'bind 127.0.0.1', 'protected-mode no', `dir ${dir}`, `logfile ${join(dir, 'sentinel.log')}`, `sentinel monitor ${masterName} 127.0.0.1 ${server.port} 1`].join('\n'),
  );
  const child = spawn(REDIS_SERVER, [conf, '--sentinel'], { stdio: 'ignore' });
  child.unref();
  const stop = async () => {
    child.kill('SIGKILL');
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('the sentinel to know the replica', 20_000, async () => (await nodeSays(port, 'SENTINEL', 'REPLICAS', masterName)).includes(String(server.replicaPort)));
  } catch (err) {
    await stop();
    throw err;
  }
  return { server, sentinel: `127.0.0.1:${port}`, masterName, stop };
}
