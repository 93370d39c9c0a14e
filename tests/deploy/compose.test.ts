// Offline checks of docker-compose.yml: no Docker engine runs here, so the file
// is parsed and everything that can be checked without one is checked.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DCLinter } from 'dclint';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { CONFIG_NAMES, ROOT, configError, imageTag, isPinned, readText, unknownEnvNames } from './helpers.js';

interface Healthcheck {
  test?: string | string[];
  disable?: boolean;
  interval?: string;
  timeout?: string;
  retries?: number;
}

interface Service {
  image?: string;
  build?: string | { context: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | { target: number; published?: string | number; host_ip?: string })[];
  depends_on?: string[] | Record<string, { condition?: string; required?: boolean }>;
  healthcheck?: Healthcheck;
  profiles?: string[];
  restart?: string;
  volumes?: (string | { type: string; source: string; target: string })[];
  deploy?: { replicas?: number };
  stop_grace_period?: string;
}

interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = YAML.parse(readText('docker-compose.yml'), { merge: true }) as Compose;
const services = compose.services;
const pkg = JSON.parse(readText('package.json')) as { version: string };

const ONE_SHOT = new Set(['kafka-init', 'migrate', 'demo-producer']);
const CONDITIONS = new Set(['service_started', 'service_healthy', 'service_completed_successfully']);

/** Resolves compose interpolation the way `docker compose` does with an empty shell environment. */
function interpolate(value: string): string | undefined {
  const resolved = value.replace(/\$\{([A-Z0-9_]+)(:?-([^}]*))?\}/g, (_m, _name: string, _d, def: string | undefined) => def ?? '');
  return resolved === '' ? undefined : resolved.replace(/\$\$/g, '$');
}

function envOf(s: Service): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  if (Array.isArray(s.environment)) {
    for (const e of s.environment) {
      const i = e.indexOf('=');
      env[i < 0 ? e : e.slice(0, i)] = i < 0 ? undefined : interpolate(e.slice(i + 1));
    }
  } else {
    for (const [k, v] of Object.entries(s.environment ?? {})) env[k] = v === null ? undefined : interpolate(String(v));
  }
  return env;
}

function dependsOn(s: Service): Record<string, { condition?: string }> {
  if (!s.depends_on) return {};
  if (Array.isArray(s.depends_on)) return Object.fromEntries(s.depends_on.map((d) => [d, {}]));
  return s.depends_on;
}

function isDriftstream(s: Service): boolean {
  return s.build !== undefined || imageTag(s.image ?? '').name === 'driftstream';
}

function publishedPorts(s: Service): { hostIp?: string; published?: number; target: number }[] {
  return (s.ports ?? []).map((p) => {
    if (typeof p === 'object') return { hostIp: p.host_ip, published: p.published === undefined ? undefined : Number(p.published), target: p.target };
    const parts = p.split(':');
    if (parts.length === 3) return { hostIp: parts[0], published: Number(parts[1]), target: Number(parts[2]) };
    if (parts.length === 2) return { published: Number(parts[0]), target: Number(parts[1]) };
    return { target: Number(parts[0]) };
  });
}

const detectors = Object.entries(services).filter(([, s]) => isDriftstream(s) && (s.command === undefined || [s.command].flat()[0] === 'run'));

describe('docker-compose.yml', () => {
  it('validates against the Compose Specification schema and passes dclint', () => {
    // dclint validates against the official compose-spec JSON schema (always on) and runs its
    // rules; the ordering rules are style, and build + image together is how compose tags a build.
    const off = ['no-build-and-image', 'service-keys-order', 'services-alphabetical-order', 'top-level-properties-order',
      'service-dependencies-alphabetical-order', 'service-ports-alphabetical-order'];
    const rules = { ...Object.fromEntries(off.map((r) => [r, 0 as const])), 'require-quotes-in-ports': [2, { quoteType: 'double' }] as [2, Record<string, unknown>] };
    const linter = new DCLinter({ rules, quiet: false, debug: false, exclude: [] });
    const [result] = linter.lintFiles([path.join(ROOT, 'docker-compose.yml')], false);
    expect(result.messages.map((m: { line: number; message: string; rule: string }) => `${m.line}: ${m.message} (${m.rule})`)).toEqual([]);
  });

  it('has the whole stack', () => {
    for (const name of ['kafka', 'kafka-init', 'schema-registry', 'redis', 'postgres', 'migrate', 'prometheus', 'grafana', 'demo-producer']) {
      expect(services, name).toHaveProperty([name]);
    }
    expect(imageTag(services.kafka.image!).name).toBe('apache/kafka');
    expect(services.kafka.environment).toMatchObject({ KAFKA_PROCESS_ROLES: 'broker,controller' });
    expect(JSON.stringify(services.kafka.environment)).not.toMatch(/ZOOKEEPER/i);
    expect(imageTag(services['schema-registry'].image!).name).toMatch(/^(apicurio\/apicurio-registry|confluentinc\/cp-schema-registry)$/);
    expect(imageTag(services.redis.image!).name).toBe('redis');
    expect(imageTag(services.postgres.image!).name).toBe('postgres');
    expect(imageTag(services.prometheus.image!).name).toBe('prom/prometheus');
    expect(imageTag(services.grafana.image!).name).toBe('grafana/grafana');
  });

  it('pins every image to a version', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.image, `${name} has no image`).toBeTruthy();
      expect(isPinned(s.image!), `${name}: ${s.image} is not pinned`).toBe(true);
    }
  });

  it('builds driftstream from the Dockerfile, tagged with the package version', () => {
    const built = Object.entries(services).filter(([, s]) => isDriftstream(s));
    expect(built.length).toBeGreaterThanOrEqual(4);
    for (const [name, s] of built) {
      expect(s.image, name).toBe(`driftstream:${pkg.version}`);
      const build = typeof s.build === 'string' ? { context: s.build } : s.build;
      expect(build, `${name} has no build`).toBeDefined();
      expect(existsSync(path.join(ROOT, build!.context, build!.dockerfile ?? 'Dockerfile')), name).toBe(true);
    }
  });

  it('runs the same Kafka and registry versions as the local stack', () => {
    const pom = readText('scripts/stack/pom.xml');
    const kafkaVersion = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
    expect(imageTag(services.kafka.image!).tag).toBe(kafkaVersion);
    expect(imageTag(services['kafka-init'].image!).tag).toBe(kafkaVersion);
    const apicurio = /APICURIO_VERSION = '([^']+)'/.exec(readText('scripts/stack.mjs'))?.[1];
    if (imageTag(services['schema-registry'].image!).name.startsWith('apicurio/')) {
      expect(imageTag(services['schema-registry'].image!).tag).toBe(apicurio);
    }
  });

  it('runs at least two detectors in one consumer group', () => {
    const replicas = detectors.reduce((n, [, s]) => n + (s.deploy?.replicas ?? 1), 0);
    expect(replicas).toBeGreaterThanOrEqual(2);
    const groups = new Set(detectors.map(([, s]) => envOf(s).DRIFTSTREAM_GROUP_ID ?? 'driftstream'));
    expect([...groups]).toHaveLength(1);
    const clientIds = detectors.map(([, s]) => envOf(s).DRIFTSTREAM_KAFKA_CLIENT_ID);
    expect(new Set(clientIds).size, 'each detector names itself').toBe(clientIds.length);
    for (const [name, s] of detectors) {
      const env = envOf(s);
      expect(env.DRIFTSTREAM_HTTP_HOST, `${name} must listen beyond loopback`).toBe('0.0.0.0');
      expect(env.DRIFTSTREAM_REDIS_URL, name).toMatch(/^redis:\/\/redis:/);
      expect(env.DRIFTSTREAM_DATABASE_URL, name).toMatch(/@postgres:5432\//);
      expect(env.DRIFTSTREAM_KAFKA_BROKERS, name).toBe('kafka:9092');
      expect(s.stop_grace_period, name).toBeDefined();
    }
  });

  it('gives every long-running service a health check', () => {
    for (const [name, s] of Object.entries(services)) {
      if (ONE_SHOT.has(name)) {
        expect(s.restart, `${name} is one-shot`).toBe('no');
        continue;
      }
      expect(s.healthcheck?.test, `${name} has no healthcheck`).toBeDefined();
      expect(s.healthcheck?.disable).not.toBe(true);
      const test = [s.healthcheck!.test!].flat();
      expect(['CMD', 'CMD-SHELL']).toContain(test[0]);
      expect(s.healthcheck!.interval, name).toMatch(/^\d+s$/);
      expect(s.healthcheck!.retries, name).toBeGreaterThan(0);
    }
    // Slim Node images have no curl: the detector's check runs node.
    for (const [name, s] of detectors) {
      expect([s.healthcheck!.test!].flat().slice(1, 3), name).toEqual(['node', '/app/healthcheck.mjs']);
    }
  });

  it('orders start-up with depends_on conditions that can be met', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, spec] of Object.entries(dependsOn(s))) {
        expect(services, `${name} depends on unknown ${dep}`).toHaveProperty([dep]);
        expect(CONDITIONS.has(spec.condition ?? ''), `${name} -> ${dep} needs an explicit condition`).toBe(true);
        if (spec.condition === 'service_healthy') expect(services[dep].healthcheck?.test, `${dep} has no healthcheck for ${name}`).toBeDefined();
        if (spec.condition === 'service_completed_successfully') expect(ONE_SHOT.has(dep), `${dep} never completes`).toBe(true);
        if (!services[name].profiles) expect(services[dep].profiles, `${name} depends on profiled ${dep}`).toBeUndefined();
      }
    }
    // No cycles: a topological order exists.
    const done = new Set<string>();
    let progress = true;
    while (progress) {
      progress = false;
      for (const [name, s] of Object.entries(services)) {
        if (!done.has(name) && Object.keys(dependsOn(s)).every((d) => done.has(d))) {
          done.add(name);
          progress = true;
        }
      }
    }
    expect([...done].sort()).toEqual(Object.keys(services).sort());
    for (const [name, s] of detectors) {
      const deps = dependsOn(s);
      for (const dep of ['kafka', 'schema-registry', 'redis', 'postgres']) expect(deps[dep]?.condition, `${name} -> ${dep}`).toBe('service_healthy');
      expect(deps.migrate?.condition, name).toBe('service_completed_successfully');
      expect(deps['kafka-init']?.condition, name).toBe('service_completed_successfully');
    }
  });

  it('publishes ports on loopback only, without clashes, to the ports the services listen on', () => {
    const seen = new Map<number, string>();
    for (const [name, s] of Object.entries(services)) {
      for (const p of publishedPorts(s)) {
        expect(p.hostIp, `${name} publishes ${p.published} beyond loopback`).toBe('127.0.0.1');
        expect(seen.has(p.published!), `host port ${p.published} used by ${seen.get(p.published!)} and ${name}`).toBe(false);
        seen.set(p.published!, name);
      }
    }
    for (const [name, s] of detectors) {
      expect(publishedPorts(s).map((p) => p.target), name).toEqual([Number(envOf(s).DRIFTSTREAM_HTTP_PORT)]);
    }
    expect(publishedPorts(services.kafka)[0].published).toBe(9092);
    // The host listener is advertised as the published port.
    const advertised = String((services.kafka.environment as Record<string, string>).KAFKA_ADVERTISED_LISTENERS);
    expect(advertised).toContain('localhost:9092');
    expect(advertised).toContain('kafka:9092');
  });

  it('sets only DRIFTSTREAM_* variables the config module reads, with values it accepts', () => {
    for (const [name, s] of Object.entries(services)) {
      const env = envOf(s);
      const ours = Object.keys(env).filter((k) => k.startsWith('DRIFTSTREAM_'));
      expect(unknownEnvNames(ours), name).toEqual([]);
      if (isDriftstream(s)) {
        expect(unknownEnvNames(Object.keys(env)), name).toEqual([]);
        expect(configError(env), name).toBeUndefined();
      }
    }
    expect(CONFIG_NAMES.size).toBeGreaterThan(10);
  });

  it('creates the topics the detectors read and write, with enough partitions for every detector', () => {
    const script = [services['kafka-init'].command].flat().join('\n');
    const specs = Object.fromEntries([...script.matchAll(/([a-z-]+):(\d+)/g)].map((m) => [m[1], Number(m[2])]));
    const env = envOf(detectors[0][1]);
    for (const topic of ['INFERENCE', 'GROUND_TRUTH', 'ALERTS', 'METRICS', 'DLQ']) {
      const name = env[`DRIFTSTREAM_${topic}_TOPIC`]!;
      expect(specs[name], `kafka-init does not create ${name}`).toBeGreaterThan(0);
    }
    expect(specs[env.DRIFTSTREAM_INFERENCE_TOPIC!]).toBeGreaterThanOrEqual(detectors.length);
    expect((services.kafka.environment as Record<string, string>).KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false');
  });

  it('mounts files that exist and declares its named volumes', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const source = typeof v === 'string' ? v.split(':')[0] : v.source;
        if (source.startsWith('.') || source.startsWith('/')) {
          expect(existsSync(path.join(ROOT, source)), `${name} mounts missing ${source}`).toBe(true);
        } else {
          expect(compose.volumes, `${name} uses undeclared volume ${source}`).toHaveProperty([source]);
        }
      }
    }
  });

  it('scrapes both detectors and loads the alerting rules in Prometheus', () => {
    const prom = YAML.parse(readText('deploy/prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
    };
    const job = prom.scrape_configs.find((j) => j.job_name === 'driftstream');
    expect(job?.metrics_path ?? '/metrics').toBe('/metrics');
    const targets = job!.static_configs.flatMap((c) => c.targets).sort();
    expect(targets).toEqual(detectors.map(([name, s]) => `${name}:${envOf(s).DRIFTSTREAM_HTTP_PORT}`).sort());
    const mounts = (services.prometheus.volumes as string[]).map((v) => v.split(':'));
    const rules = mounts.find(([src]) => src === './deploy/prometheus/alerts.yml');
    expect(rules, 'alerts.yml is mounted').toBeDefined();
    const glob = prom.rule_files[0];
    expect(rules![1].startsWith(path.dirname(glob))).toBe(true);
    expect(rules![1].endsWith('.yml')).toBe(true);
    const alerts = YAML.parse(readText('deploy/prometheus/alerts.yml')) as { groups: { name: string; rules: { alert?: string; expr: string }[] }[] };
    expect(alerts.groups.length).toBeGreaterThan(0);
    for (const g of alerts.groups) for (const r of g.rules) expect(r.expr, `${g.name}/${r.alert}`).toBeTruthy();
  });

  const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  it.skipIf(promtool.status !== 0)('passes `promtool check config` with the mounted rules', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'driftstream-prom-'));
    try {
      // The rules are mounted at /etc/prometheus/rules in the container; point at the repository's file instead.
      const config = YAML.parse(readText('deploy/prometheus/prometheus.yml')) as { rule_files: string[] };
      config.rule_files = [path.join(ROOT, 'deploy/prometheus/alerts.yml')];
      writeFileSync(path.join(dir, 'prometheus.yml'), YAML.stringify(config));
      const res = spawnSync('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')], { encoding: 'utf8' });
      expect(res.status, res.stdout + res.stderr).toBe(0);
      expect(res.stdout + res.stderr).toMatch(/SUCCESS: \d+ rules found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('provisions Grafana with the Prometheus datasource and the dashboard', () => {
    const ds = YAML.parse(readText('deploy/grafana/provisioning/datasources/prometheus.yml')) as {
      datasources: { uid: string; type: string; url: string }[];
    };
    expect(ds.datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    const providers = YAML.parse(readText('deploy/grafana/provisioning/dashboards/driftstream.yml')) as {
      providers: { options: { path: string } }[];
    };
    const mounts = (services.grafana.volumes as string[]).map((v) => v.split(':'));
    const dash = mounts.find(([src]) => src === './deploy/grafana/driftstream-dashboard.json');
    expect(dash, 'dashboard is mounted').toBeDefined();
    expect(path.dirname(dash![1])).toBe(providers.providers[0].options.path);
    expect(mounts.some(([src, dst]) => src === './deploy/grafana/provisioning' && dst === '/etc/grafana/provisioning')).toBe(true);
    // Panels that name a datasource uid must name the provisioned one (or a dashboard variable).
    const dashboard = readText('deploy/grafana/driftstream-dashboard.json');
    const uids = new Set([...dashboard.matchAll(/"uid"\s*:\s*"([^"]+)"/g)].map((m) => m[1]));
    const dsUids = [...dashboard.matchAll(/"datasource"\s*:\s*\{[^}]*"uid"\s*:\s*"([^"]+)"/g)].map((m) => m[1]);
    for (const uid of dsUids) {
      expect(uid === ds.datasources[0].uid || uid.startsWith('$') || uid === '-- Grafana --' || uid === 'grafana', `unknown datasource uid ${uid}`).toBe(true);
    }
    expect(uids.size).toBeGreaterThan(0);
  });

  it('keeps the demo producer behind the demo profile', () => {
    expect(services['demo-producer'].profiles).toEqual(['demo']);
    const demo = [services['demo-producer'].command].flat();
    expect(demo[0]).toBe('demo');
    // Traffic only: a detector inside the demo container would publish every alert a second time.
    expect(demo).toEqual(expect.arrayContaining(['--no-stack', '--no-detector']));
    const env = envOf(services['demo-producer']);
    const detectorEnv = envOf(detectors[0][1]);
    for (const v of ['DRIFTSTREAM_INFERENCE_TOPIC', 'DRIFTSTREAM_ALERTS_TOPIC', 'DRIFTSTREAM_KAFKA_BROKERS', 'DRIFTSTREAM_SCHEMA_REGISTRY_URL']) {
      expect(env[v], v).toBe(detectorEnv[v]);
    }
    for (const [name, s] of Object.entries(services)) if (name !== 'demo-producer') expect(s.profiles, name).toBeUndefined();
  });
});
