#!/usr/bin/env node
// Local server stack for development, tests and CI, without Docker.
//
//   node scripts/stack.mjs up [--quiet] [--fresh]   start Kafka + schema registry, check PostgreSQL + Redis
//   node scripts/stack.mjs down [--quiet]           stop Kafka + schema registry (never PostgreSQL/Redis)
//   node scripts/stack.mjs status                   print the state of every server
//
// Servers:
//   Apache Kafka 4.x, single-node KRaft broker+controller: 127.0.0.1:9092 (controller 127.0.0.1:9093)
//   Apicurio Registry 3.x, Confluent-compatible API:       http://127.0.0.1:8081/apis/ccompat/v7
//   PostgreSQL 127.0.0.1:5432 and Redis 127.0.0.1:6379 are started by the machine; only checked here.
//
// Downloads (Maven Central via `mvn`) and server data live in the cache directory
// ${DRIFTSTREAM_CACHE_DIR:-~/.cache/driftstream}; a second run downloads nothing.
//
// Environment:
//   DRIFTSTREAM_CACHE_DIR      cache directory (default ~/.cache/driftstream)
//   DRIFTSTREAM_STACK_FRESH=1  same as --fresh: wipe Kafka's data before starting
//   DRIFTSTREAM_KAFKA_JAVA     java binary for Kafka (needs 17+; default: JAVA_HOME, then PATH)
//   DRIFTSTREAM_REGISTRY_JAVA  java binary for the registry (needs 21+; default: first 21+ JDK found
//                              in JAVA_HOME, PATH or /usr/lib/jvm)
//   DRIFTSTREAM_STACK_KAFKA_PORT, DRIFTSTREAM_STACK_CONTROLLER_PORT, DRIFTSTREAM_STACK_REGISTRY_PORT,
//   DRIFTSTREAM_STACK_REGISTRY_MANAGEMENT_PORT
//                              move the servers to other loopback ports (defaults 9092, 9093, 8081, 9081);
//                              use them with a separate DRIFTSTREAM_CACHE_DIR for a private second stack
//
// Plain Node ESM with built-ins only, so it runs before `npm run build` and without dependencies.
// kafkajs is used for the Kafka readiness check when it is installed; TCP otherwise.

import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const POM = path.join(HERE, 'stack', 'pom.xml');

const HOST = '127.0.0.1';
const envPort = (name, dflt) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`[stack] error: ${name}=${raw} is not a TCP port (1-65535)`);
    process.exit(2);
  }
  return port;
};
// The ports can be moved (for a private second stack, with its own DRIFTSTREAM_CACHE_DIR).
const KAFKA_PORT = envPort('DRIFTSTREAM_STACK_KAFKA_PORT', 9092);
const CONTROLLER_PORT = envPort('DRIFTSTREAM_STACK_CONTROLLER_PORT', 9093);
const REGISTRY_PORT = envPort('DRIFTSTREAM_STACK_REGISTRY_PORT', 8081);
const REGISTRY_MANAGEMENT_PORT = envPort('DRIFTSTREAM_STACK_REGISTRY_MANAGEMENT_PORT', 9081);
const PG_PORT = 5432;
const REDIS_PORT = 6379;

const APICURIO_VERSION = '3.3.3';
const APICURIO_ARTIFACT = `io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`;
const REGISTRY_URL = `http://${HOST}:${REGISTRY_PORT}/apis/ccompat/v7`;

const CACHE = path.resolve(
  process.env.DRIFTSTREAM_CACHE_DIR || path.join(os.homedir(), '.cache', 'driftstream'),
);
const KAFKA_DIR = path.join(CACHE, 'kafka');
const KAFKA_DATA = path.join(KAFKA_DIR, 'data');
const KAFKA_PID = path.join(KAFKA_DIR, 'kafka.pid');
const KAFKA_LOG = path.join(KAFKA_DIR, 'kafka.log');
const REGISTRY_DIR = path.join(CACHE, 'apicurio');
const REGISTRY_HOME = path.join(REGISTRY_DIR, APICURIO_VERSION);
const REGISTRY_PID = path.join(REGISTRY_DIR, 'registry.pid');
const REGISTRY_LOG = path.join(REGISTRY_DIR, 'registry.log');

const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 20_000;

const PG_START =
  "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start";
const REDIS_START =
  'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no ' +
  '--dir /var/lib/redis --logfile /var/log/redis/ci.log';

const args = process.argv.slice(2);
const command = args.find((a) => !a.startsWith('-')) ?? 'status';
const QUIET = args.includes('--quiet') || args.includes('-q');
const FRESH = args.includes('--fresh') || process.env.DRIFTSTREAM_STACK_FRESH === '1';

class StackError extends Error {}

const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const info = (msg) => {
  if (!QUIET) console.log(`[stack ${elapsed()}] ${msg}`);
};
const always = (msg) => console.log(`[stack ${elapsed()}] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- helpers

function portOpen(port, host = HOST, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

function readPid(file) {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code !== 'EPERM') return false;
  }
  // A zombie (exited, not yet reaped) counts as gone.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
  } catch {
    // no /proc: trust kill(0)
  }
  return true;
}

/** The pid from the pid file when that process is alive and is the expected program. */
function managedPid(pidFile, marker) {
  const pid = readPid(pidFile);
  if (!alive(pid)) return null;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes(marker)) return null; // pid reused by another program
  } catch {
    // no /proc: accept
  }
  return pid;
}

function run(cmd, argv, opts = {}) {
  const res = spawnSync(cmd, argv, { encoding: 'utf8', ...opts });
  if (res.error) {
    if (res.error.code === 'ENOENT') throw new StackError(`${cmd}: command not found`);
    throw res.error;
  }
  return res;
}

function runChecked(cmd, argv, what, opts = {}) {
  const res = run(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  if (res.status !== 0) {
    const out = `${res.stdout ?? ''}${res.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    throw new StackError(`${what} failed (exit ${res.status}): ${cmd} ${argv.join(' ')}\n${out}`);
  }
  return res;
}

function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function rmrf(p) {
  fs.rmSync(p, { recursive: true, force: true });
}

// ---------------------------------------------------------------- java / maven

function javaMajor(javaBin) {
  const res = spawnSync(javaBin, ['-version'], { encoding: 'utf8' });
  if (res.error || res.status !== 0) return null;
  const m = /version "(\d+)(?:\.(\d+))?/.exec(`${res.stderr}${res.stdout}`);
  if (!m) return null;
  const major = Number(m[1]);
  return major === 1 ? Number(m[2]) : major;
}

function javaCandidates() {
  const list = [];
  if (process.env.JAVA_HOME) list.push(path.join(process.env.JAVA_HOME, 'bin', 'java'));
  list.push('java');
  try {
    const jvmDir = '/usr/lib/jvm';
    for (const d of fs.readdirSync(jvmDir).sort().reverse()) {
      const bin = path.join(jvmDir, d, 'bin', 'java');
      if (fs.existsSync(bin)) list.push(bin);
    }
  } catch {
    // no /usr/lib/jvm
  }
  return [...new Set(list)];
}

const JDK_HINT =
  'install a newer JDK under /usr/lib/jvm (Debian 12 ships only OpenJDK 17; Apicurio Registry 3.3 ' +
  'needs 21+, e.g. a Temurin JDK) or name its java binary in DRIFTSTREAM_REGISTRY_JAVA / DRIFTSTREAM_KAFKA_JAVA';

function findJava(minMajor, override, purpose) {
  if (override) {
    const v = javaMajor(override);
    if (v === null) throw new StackError(`${override} (from the environment) is not a working java`);
    if (v < minMajor) {
      throw new StackError(`${override} is Java ${v}; ${purpose} needs Java ${minMajor}+ (${JDK_HINT})`);
    }
    return { bin: override, major: v };
  }
  const seen = [];
  for (const bin of javaCandidates()) {
    const v = javaMajor(bin);
    if (v === null) continue;
    seen.push(`${bin} (Java ${v})`);
    if (v >= minMajor) return { bin, major: v };
  }
  throw new StackError(
    seen.length === 0
      ? `java not found. ${purpose} needs Java ${minMajor}+: install a JDK ` +
          `(Debian: apt-get install -y openjdk-17-jdk-headless) or set JAVA_HOME.`
      : `${purpose} needs Java ${minMajor}+, found only: ${seen.join(', ')} (${JDK_HINT})`,
  );
}

function requireMaven() {
  const res = spawnSync('mvn', ['-v'], { encoding: 'utf8' });
  if (res.error || res.status !== 0) {
    throw new StackError(
      'mvn (Apache Maven) not found: it downloads Kafka and the schema registry from Maven Central. ' +
        'Install it (Debian: apt-get install -y maven) and run again.',
    );
  }
}

// ---------------------------------------------------------------- downloads

/** Kafka's runtime class path, keyed by the pom's content so a pom change downloads again. */
function kafkaLibDir() {
  const hash = createHash('sha256').update(fs.readFileSync(POM)).digest('hex').slice(0, 12);
  return path.join(KAFKA_DIR, `lib-${hash}`);
}

function ensureKafkaLib() {
  const lib = kafkaLibDir();
  if (fs.existsSync(path.join(lib, '.complete'))) return lib;
  requireMaven();
  info(`downloading Kafka (Maven: ${path.relative(ROOT, POM)}) into ${lib}`);
  const tmp = `${lib}.tmp-${process.pid}`;
  rmrf(tmp);
  fs.mkdirSync(tmp, { recursive: true });
  runChecked(
    'mvn',
    ['-q', '-B', '-f', POM, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${tmp}`],
    'Kafka download',
    { cwd: path.dirname(POM) },
  );
  if (!fs.readdirSync(tmp).some((f) => /^kafka_2\.13-.*\.jar$/.test(f))) {
    throw new StackError(`Kafka download produced no kafka_2.13 jar in ${tmp}`);
  }
  fs.writeFileSync(path.join(tmp, '.complete'), new Date().toISOString());
  rmrf(lib);
  fs.renameSync(tmp, lib);
  // Drop class paths of older pom versions.
  for (const d of fs.readdirSync(KAFKA_DIR)) {
    if (d.startsWith('lib-') && path.join(KAFKA_DIR, d) !== lib && !d.includes('.tmp-')) {
      rmrf(path.join(KAFKA_DIR, d));
    }
  }
  return lib;
}

function ensureRegistry() {
  const jar = path.join(REGISTRY_HOME, 'quarkus-run.jar');
  if (fs.existsSync(path.join(REGISTRY_HOME, '.complete')) && fs.existsSync(jar)) return jar;
  requireMaven();
  info(`downloading Apicurio Registry ${APICURIO_VERSION} (Maven: ${APICURIO_ARTIFACT}), about 160 MB`);
  const dl = path.join(REGISTRY_DIR, `download-${process.pid}`);
  rmrf(dl);
  fs.mkdirSync(dl, { recursive: true });
  runChecked(
    'mvn',
    ['-q', '-B', 'dependency:copy', `-Dartifact=${APICURIO_ARTIFACT}`, `-DoutputDirectory=${dl}`],
    'Apicurio Registry download',
    { cwd: dl },
  );
  const tgz = fs.readdirSync(dl).find((f) => f.endsWith('.tar.gz'));
  if (!tgz) throw new StackError(`Apicurio Registry download produced no .tar.gz in ${dl}`);
  const tmp = `${REGISTRY_HOME}.tmp-${process.pid}`;
  rmrf(tmp);
  fs.mkdirSync(tmp, { recursive: true });
  runChecked('tar', ['-xzf', path.join(dl, tgz), '-C', tmp], 'unpacking Apicurio Registry');
  // The archive holds quarkus-run.jar at its top level or under quarkus-app/.
  let home = tmp;
  if (!fs.existsSync(path.join(home, 'quarkus-run.jar'))) {
    const sub = fs
      .readdirSync(tmp)
      .map((d) => path.join(tmp, d))
      .find((d) => fs.existsSync(path.join(d, 'quarkus-run.jar')));
    if (!sub) throw new StackError(`no quarkus-run.jar in ${path.join(dl, tgz)}`);
    home = sub;
  }
  fs.writeFileSync(path.join(home, '.complete'), new Date().toISOString());
  rmrf(REGISTRY_HOME);
  fs.renameSync(home, REGISTRY_HOME);
  rmrf(tmp);
  rmrf(dl);
  return jar;
}

// ---------------------------------------------------------------- Kafka

function writeKafkaConfig() {
  const props = `# Written by scripts/stack.mjs on every start; edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=${HOST}:${CONTROLLER_PORT}
listeners=PLAINTEXT://${HOST}:${KAFKA_PORT},CONTROLLER://${HOST}:${CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://${HOST}:${KAFKA_PORT}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${KAFKA_DATA}
num.partitions=1
default.replication.factor=1
auto.create.topics.enable=true
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# After an unclean stop the restarted broker waits out its old registration: keep that short.
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=3000
log.segment.bytes=16777216
log.retention.hours=24
log.retention.check.interval.ms=60000
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
`;
  const log4j = `status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
logger.broker.name = kafka.server.BrokerServer
logger.broker.level = INFO
`;
  fs.writeFileSync(path.join(KAFKA_DIR, 'server.properties'), props);
  fs.writeFileSync(path.join(KAFKA_DIR, 'log4j2.properties'), log4j);
}

function kafkaFormatted() {
  return (
    fs.existsSync(path.join(KAFKA_DATA, 'meta.properties')) &&
    fs.existsSync(path.join(KAFKA_DATA, '__cluster_metadata-0'))
  );
}

function formatKafka(java, lib) {
  rmrf(KAFKA_DATA);
  fs.mkdirSync(KAFKA_DATA, { recursive: true });
  // Kafka cluster ids are 16 random bytes in URL-safe base64 without padding; one that starts
  // with '-' would be read as an option by the storage tool, so Kafka itself never makes one.
  let clusterId;
  do clusterId = randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-'));
  info(`formatting Kafka storage (cluster id ${clusterId})`);
  runChecked(
    java,
    [
      `-Dlog4j2.configurationFile=${path.join(KAFKA_DIR, 'log4j2.properties')}`,
      '-cp',
      `${lib}/*`,
      'kafka.tools.StorageTool',
      'format',
      '--cluster-id',
      clusterId,
      '--config',
      path.join(KAFKA_DIR, 'server.properties'),
      '--standalone',
    ],
    'Kafka storage format',
  );
}

function spawnDetached(bin, argv, logFile, pidFile, cwd) {
  const fd = fs.openSync(logFile, 'a');
  fs.writeSync(fd, `\n==== ${new Date().toISOString()} ${bin} ${argv.join(' ')}\n`);
  const child = spawn(bin, argv, { cwd, detached: true, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  child.unref();
  fs.writeFileSync(pidFile, `${child.pid}\n`);
  return child.pid;
}

async function kafkaReady(timeoutMs = 5000) {
  if (!(await portOpen(KAFKA_PORT))) return false;
  let kafkajs;
  try {
    const require = createRequire(path.join(ROOT, 'package.json'));
    kafkajs = await import(pathToFileURL(require.resolve('kafkajs')).href);
    kafkajs = kafkajs.default ?? kafkajs;
  } catch {
    return true; // kafkajs not installed yet: the open port has to do
  }
  const { Kafka, logLevel } = kafkajs;
  const kafka = new Kafka({
    clientId: 'driftstream-stack-check',
    brokers: [`${HOST}:${KAFKA_PORT}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (!cluster.brokers.length) return false;
    // Asking for a group makes the broker create __consumer_offsets and load its coordinator, so the
    // first consumer group in a test does not meet "coordinator not available / loading" errors.
    const { groups } = await admin.describeGroups(['driftstream-stack-check']);
    return groups.length === 1 && groups[0].errorCode === 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function waitFor(what, check, pid, logFile) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await check()) return;
    if (pid && !alive(pid)) {
      throw new StackError(`${what} exited during start-up; last lines of ${logFile}:\n${tail(logFile)}`);
    }
    await sleep(300);
  }
  throw new StackError(
    `${what} not ready after ${START_TIMEOUT_MS / 1000}s; last lines of ${logFile}:\n${tail(logFile)}`,
  );
}

async function startKafka() {
  const running = managedPid(KAFKA_PID, 'kafka.Kafka');
  if (running && !FRESH) {
    await waitFor('Kafka', () => kafkaReady(), running, KAFKA_LOG);
    return `running (pid ${running})`;
  }
  if (running && FRESH) {
    info('--fresh: stopping Kafka to wipe its data');
    await stopPid('Kafka', running, KAFKA_PID);
  }
  if (!running && (await portOpen(KAFKA_PORT))) {
    if (FRESH) throw new StackError(`--fresh: port ${KAFKA_PORT} is held by a Kafka this script did not start`);
    if (await kafkaReady()) return 'running (started outside this script)';
    throw new StackError(`port ${HOST}:${KAFKA_PORT} is taken by something that is not a ready Kafka broker`);
  }
  if (await portOpen(CONTROLLER_PORT)) {
    throw new StackError(`port ${HOST}:${CONTROLLER_PORT} (Kafka controller) is taken by another program`);
  }

  const { bin: java } = findJava(17, process.env.DRIFTSTREAM_KAFKA_JAVA, 'Kafka 4');
  const lib = ensureKafkaLib();
  fs.mkdirSync(KAFKA_DIR, { recursive: true });
  writeKafkaConfig();
  if (FRESH) info('--fresh: wiping Kafka data');
  if (FRESH || !kafkaFormatted()) formatKafka(java, lib);

  const launch = () =>
    spawnDetached(
      java,
      [
        '-Xms128m',
        '-Xmx512m',
        '-XX:+UseG1GC',
        '-XX:TieredStopAtLevel=1',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${path.join(KAFKA_DIR, 'log4j2.properties')}`,
        `-Dkafka.logs.dir=${KAFKA_DIR}`,
        '-cp',
        `${lib}/*`,
        'kafka.Kafka',
        path.join(KAFKA_DIR, 'server.properties'),
      ],
      KAFKA_LOG,
      KAFKA_PID,
      KAFKA_DIR,
    );

  info('starting Kafka');
  let pid = launch();
  try {
    await waitFor('Kafka', () => kafkaReady(), pid, KAFKA_LOG);
  } catch (err) {
    if (alive(pid)) throw err;
    // Storage left broken (for example by a killed format or a config change): format and retry once.
    info('Kafka exited during start-up; reformatting its storage and retrying once');
    formatKafka(java, lib);
    pid = launch();
    await waitFor('Kafka', () => kafkaReady(), pid, KAFKA_LOG);
  }
  return `started (pid ${pid})`;
}

// ---------------------------------------------------------------- schema registry

async function registryReady() {
  try {
    const res = await fetch(`${REGISTRY_URL}/subjects`, { signal: AbortSignal.timeout(3000) });
    return res.status === 200;
  } catch {
    return false;
  }
}

async function startRegistry() {
  const running = managedPid(REGISTRY_PID, 'quarkus-run.jar');
  if (running) {
    await waitFor('Schema registry', registryReady, running, REGISTRY_LOG);
    return `running (pid ${running})`;
  }
  if (await portOpen(REGISTRY_PORT)) {
    if (await registryReady()) return 'running (started outside this script)';
    throw new StackError(`port ${HOST}:${REGISTRY_PORT} is taken by something that is not the schema registry`);
  }
  const { bin: java } = findJava(21, process.env.DRIFTSTREAM_REGISTRY_JAVA, `Apicurio Registry ${APICURIO_VERSION}`);
  const jar = ensureRegistry();
  fs.mkdirSync(REGISTRY_DIR, { recursive: true });
  info(`starting Apicurio Registry with ${java}`);
  const pid = spawnDetached(
    java,
    [
      '-Xms64m',
      '-Xmx512m',
      '-XX:TieredStopAtLevel=1',
      `-Dquarkus.http.port=${REGISTRY_PORT}`,
      `-Dquarkus.http.host=${HOST}`,
      `-Dquarkus.management.port=${REGISTRY_MANAGEMENT_PORT}`,
      `-Dquarkus.management.host=${HOST}`,
      '-Dquarkus.http.access-log.enabled=false',
      // In-memory storage (the default H2 in-memory database): every start begins empty.
      // Confluent-compatible behaviour: schema ids are content ids (one id per distinct schema,
      // shared across subjects), and subjects/versions can be deleted.
      '-Dapicurio.ccompat.legacy-id-mode.enabled=false',
      '-Dapicurio.ccompat.use-canonical-hash=true',
      '-Dapicurio.rest.deletion.artifact.enabled=true',
      '-Dapicurio.rest.deletion.artifact-version.enabled=true',
      '-Dapicurio.rest.deletion.group.enabled=true',
      '-jar',
      jar,
    ],
    REGISTRY_LOG,
    REGISTRY_PID,
    REGISTRY_DIR,
  );
  await waitFor('Schema registry', registryReady, pid, REGISTRY_LOG);
  return `started (pid ${pid})`;
}

// ---------------------------------------------------------------- machine services

async function checkMachineServices() {
  const problems = [];
  if (!(await portOpen(PG_PORT))) {
    problems.push(`PostgreSQL is not answering on ${HOST}:${PG_PORT}. Start it with:\n  ${PG_START}`);
  }
  if (!(await portOpen(REDIS_PORT))) {
    problems.push(`Redis is not answering on ${HOST}:${REDIS_PORT}. Start it with:\n  ${REDIS_START}`);
  }
  if (problems.length) throw new StackError(problems.join('\n'));
}

// ---------------------------------------------------------------- stop

async function stopPid(name, pid, pidFile) {
  const kill = (sig) => {
    try {
      process.kill(-pid, sig); // the detached server leads its own process group
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  kill('SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (alive(pid) && Date.now() < deadline) await sleep(200);
  if (alive(pid)) {
    info(`${name} did not stop within ${STOP_TIMEOUT_MS / 1000}s; sending SIGKILL`);
    kill('SIGKILL');
    while (alive(pid)) await sleep(100);
  }
  rmrf(pidFile);
}

async function down() {
  for (const [name, pidFile, marker, port] of [
    ['Schema registry', REGISTRY_PID, 'quarkus-run.jar', REGISTRY_PORT],
    ['Kafka', KAFKA_PID, 'kafka.Kafka', KAFKA_PORT],
  ]) {
    const pid = managedPid(pidFile, marker);
    if (pid) {
      info(`stopping ${name} (pid ${pid})`);
      await stopPid(name, pid, pidFile);
      always(`${name}: stopped`);
    } else {
      rmrf(pidFile);
      if (await portOpen(port)) {
        always(`${name}: not started by this script, left alone (port ${port} is still in use)`);
      } else {
        always(`${name}: not running`);
      }
    }
  }
  always('PostgreSQL and Redis belong to the machine and were left running');
}

// ---------------------------------------------------------------- status / up

async function status() {
  const kpid = managedPid(KAFKA_PID, 'kafka.Kafka');
  const rpid = managedPid(REGISTRY_PID, 'quarkus-run.jar');
  const state = (ok, pid) =>
    ok
      ? `up${pid === 'machine' ? ' (machine service)' : pid ? ` (pid ${pid})` : ' (not started by this script)'}`
      : pid && pid !== 'machine'
        ? `starting or unhealthy (pid ${pid})`
        : 'down';
  const checks = [
    ['Kafka           ', `${HOST}:${KAFKA_PORT}`, await kafkaReady(), kpid],
    ['Schema registry ', REGISTRY_URL, await registryReady(), rpid],
    ['PostgreSQL      ', `${HOST}:${PG_PORT}`, await portOpen(PG_PORT), 'machine'],
    ['Redis           ', `${HOST}:${REDIS_PORT}`, await portOpen(REDIS_PORT), 'machine'],
  ];
  for (const [name, where, ok, pid] of checks) console.log(`${name} ${where}  ${state(ok, pid)}`);
  console.log(`cache            ${CACHE}`);
  return checks.every(([, , ok]) => ok);
}

async function up() {
  await checkMachineServices();
  fs.mkdirSync(KAFKA_DIR, { recursive: true });
  fs.mkdirSync(REGISTRY_DIR, { recursive: true });
  // Kafka and the registry start side by side; downloads run one after the other inside them.
  const [kafka, registry] = await Promise.allSettled([startKafka(), startRegistry()]);
  const failed = [kafka, registry].filter((r) => r.status === 'rejected');
  if (failed.length) throw failed.map((r) => r.reason).reduce((a, b) => new StackError(`${a.message}\n${b.message}`));
  const summary = [
    `Kafka            ${HOST}:${KAFKA_PORT} (controller ${HOST}:${CONTROLLER_PORT})  ${kafka.value}  log ${KAFKA_LOG}`,
    `Schema registry  ${REGISTRY_URL}  ${registry.value}  log ${REGISTRY_LOG}`,
    `PostgreSQL       ${HOST}:${PG_PORT}  up (machine service)`,
    `Redis            ${HOST}:${REDIS_PORT}  up (machine service)`,
  ];
  if (QUIET) always(`stack ready: Kafka ${HOST}:${KAFKA_PORT}, registry ${REGISTRY_URL}, PostgreSQL ${HOST}:${PG_PORT}, Redis ${HOST}:${REDIS_PORT}`);
  else always(`stack ready in ${elapsed()}:\n  ${summary.join('\n  ')}`);
}

/**
 * One `up` or `down` at a time per cache directory (test runs started side by side would otherwise
 * start two brokers). The lock is a directory holding the owner's pid; a dead owner's lock is taken over.
 */
async function withLock(fn) {
  const lock = path.join(CACHE, '.stack.lock');
  fs.mkdirSync(CACHE, { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  let told = false;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), `${process.pid}\n`);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const owner = readPid(path.join(lock, 'pid'));
      if (owner === null) {
        // The owner may be between mkdir and writing its pid: only a lock that stays empty is stale.
        const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? 0);
        if (age > 5000) rmrf(lock);
      } else if (!alive(owner)) {
        rmrf(lock);
      } else if (Date.now() > deadline) {
        throw new StackError(`another stack.mjs (pid ${owner}) has held ${lock} for 10 minutes`);
      } else if (!told) {
        info(`waiting for another stack.mjs (pid ${owner}) to finish`);
        told = true;
      }
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmrf(lock);
  }
}

async function main() {
  switch (command) {
    case 'up':
      await withLock(up);
      break;
    case 'down':
      await withLock(down);
      break;
    case 'status':
      process.exitCode = (await status()) ? 0 : 1;
      break;
    default:
      console.error('usage: node scripts/stack.mjs up|down|status [--quiet] [--fresh]');
      process.exitCode = 2;
  }
}

main().catch((err) => {
  if (err instanceof StackError) {
    console.error(`[stack] error: ${err.message}`);
  } else {
    console.error('[stack] unexpected error:', err);
  }
  process.exit(1);
});
