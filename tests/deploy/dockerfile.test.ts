// Offline checks of the Dockerfile and .dockerignore (no Docker engine here),
// and a real run of the container health check script against HTTP servers.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, isPinned, readText, unknownEnvNames } from './helpers.js';

interface Instruction {
  readonly op: string;
  readonly args: string;
}

interface Stage {
  readonly from: string;
  readonly name?: string;
  readonly instructions: Instruction[];
}

function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`unparsable Dockerfile line: ${line}`);
    const op = m[1].toUpperCase();
    const rest = m[2].trim();
    if (op === 'FROM') {
      const f = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest)!;
      const from = f[1].replace(/\$\{?(\w+)\}?/g, (_x, name: string) => args[name] ?? `\${${name}}`);
      stages.push({ from, name: f[2], instructions: [] });
    } else if (op === 'ARG' && stages.length === 0) {
      const [name, value] = rest.split('=');
      args[name] = value ?? '';
    } else {
      if (stages.length === 0) throw new Error(`${op} before the first FROM`);
      stages.at(-1)!.instructions.push({ op, args: rest });
    }
  }
  return { args, stages };
}

function jsonForm(s: string): string[] {
  const parsed = JSON.parse(s) as unknown;
  if (!Array.isArray(parsed)) throw new Error(`not exec form: ${s}`);
  return parsed as string[];
}

/** .dockerignore semantics: patterns relative to the context root, `*` within a segment, `**` across, `!` re-includes, a match on a directory excludes its contents. */
function dockerignore(text: string): (rel: string) => boolean {
  const rules = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = path.posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, ''));
      const re = new RegExp(
        '^' +
          pattern
            .split('/')
            .map((seg) => (seg === '**' ? '.*' : seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
            .join('/') +
          '$',
      );
      return { negate, re };
    });
  return (rel) => {
    const parts = rel.split('/');
    let excluded = false;
    for (const { negate, re } of rules) {
      for (let i = 1; i <= parts.length; i++) {
        if (re.test(parts.slice(0, i).join('/'))) {
          excluded = !negate;
          break;
        }
      }
    }
    return excluded;
  };
}

function filesUnder(rel: string): string[] {
  const abs = path.join(ROOT, rel);
  if (!statSync(abs).isDirectory()) return [rel];
  return readdirSync(abs).flatMap((f) => filesUnder(path.posix.join(rel, f)));
}

const dockerfile = parseDockerfile(readText('Dockerfile'));
const ignored = dockerignore(readText('.dockerignore'));
const runtime = dockerfile.stages.at(-1)!;
const instr = (stage: Stage, op: string) => stage.instructions.filter((i) => i.op === op);

/** End of life of the Node.js LTS lines (nodejs.org release schedule). */
const NODE_END_OF_LIFE: Readonly<Record<number, string>> = { 20: '2026-04-30', 22: '2027-04-30', 24: '2028-04-30', 26: '2029-04-30' };

function supportedLines(today: Date): number[] {
  return Object.entries(NODE_END_OF_LIFE)
    .filter(([, eol]) => new Date(eol) > today)
    .map(([line]) => Number(line));
}

describe('Dockerfile', () => {
  it('builds in stages on the pinned Node LTS slim image that .nvmrc names, a supported line', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    const pinned = readText('.nvmrc').trim();
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    const major = Number(pinned.split('.')[0]);
    for (const stage of dockerfile.stages) {
      expect(isPinned(stage.from), stage.from).toBe(true);
      expect(stage.from, 'the .nvmrc version on a slim Debian image').toMatch(new RegExp(`^node:${pinned.replace(/\./g, '\\.')}-[a-z]+-slim$`));
    }
    // The image's line is an LTS line still in support, and the engines range names only such lines.
    expect(supportedLines(new Date())).toContain(major);
    const pkg = JSON.parse(readText('package.json')) as { engines: { node: string } };
    const engineLines = [...pkg.engines.node.matchAll(/\^(\d+)\./g)].map((m) => Number(m[1]));
    expect(engineLines).toContain(major);
    for (const line of engineLines) expect(supportedLines(new Date()), `engines names Node ${line}`).toContain(line);
    const build = dockerfile.stages.find((s) => instr(s, 'RUN').some((r) => /npm run build/.test(r.args)))!;
    expect(build, 'a stage compiles TypeScript').toBeDefined();
    expect(instr(build, 'RUN').some((r) => /^npm ci\b/.test(r.args) && !/--omit=dev/.test(r.args))).toBe(true);
    expect(
      dockerfile.stages.some((s) => instr(s, 'RUN').some((r) => /npm ci\b.*--omit=dev/.test(r.args))),
      'production dependencies are installed without dev ones',
    ).toBe(true);
    expect(instr(runtime, 'RUN'), 'the runtime stage only copies').toEqual([]);
    const copiedFrom = instr(runtime, 'COPY').map((c) => /--from=(\S+)/.exec(c.args)?.[1]).filter(Boolean);
    expect(copiedFrom).toContain(build.name);
  });

  it('runs as a non-root user, with the driftstream command as entrypoint', () => {
    const users = instr(runtime, 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)!.args).not.toMatch(/^(root|0)(:|$)/);
    const entrypoint = jsonForm(instr(runtime, 'ENTRYPOINT').at(-1)!.args) as string[];
    expect(entrypoint[0]).toBe('node');
    expect(entrypoint.at(-1)).toBe('dist/cli.js');
    // The image and the CLI's shebang start node with the same flags.
    expect(readText('src/cli.ts').split('\n')[0]).toBe(`#!/usr/bin/env -S ${entrypoint.slice(0, -1).join(' ')}`);
    expect(jsonForm(instr(runtime, 'CMD').at(-1)!.args)).toEqual(['run']);
    const pkg = JSON.parse(readText('package.json')) as { bin: Record<string, string> };
    expect(pkg.bin.driftstream).toBe('dist/cli.js');
    expect(readText('tsconfig.build.json')).toMatch(/"outDir":\s*"dist"/);
    expect(instr(runtime, 'WORKDIR').at(-1)!.args).toBe('/app');
  });

  it('checks its health with node against /healthz', () => {
    const hc = instr(runtime, 'HEALTHCHECK');
    expect(hc).toHaveLength(1);
    const cmd = jsonForm(/CMD\s+(\[.*\])$/.exec(hc[0].args)![1]);
    expect(cmd[0]).toBe('node');
    const script = cmd[1];
    const copy = instr(runtime, 'COPY').find((c) => c.args.split(/\s+/).at(-1) === path.posix.relative('/app', script) || c.args.endsWith(` ${script}`) || c.args.endsWith(` ./${path.posix.basename(script)}`));
    expect(copy, `${script} is copied into the image`).toBeDefined();
    expect(readText(copy!.args.split(/\s+/)[0])).toContain('/healthz');
    expect(hc[0].args).toMatch(/--interval=\d+s/);
    expect(hc[0].args).toMatch(/--timeout=\d+s/);
  });

  it('copies only files that exist in the build context', () => {
    for (const stage of dockerfile.stages) {
      for (const c of instr(stage, 'COPY').filter((i) => !/--from=/.test(i.args))) {
        const parts = c.args.split(/\s+/).filter((p) => !p.startsWith('--'));
        for (const src of parts.slice(0, -1)) {
          expect(existsSync(path.join(ROOT, src)), `COPY ${src}: missing`).toBe(true);
          const files = filesUnder(src);
          expect(files.length, `COPY ${src}: empty`).toBeGreaterThan(0);
          const excluded = files.filter((f) => ignored(f));
          expect(excluded, `COPY ${src}: excluded by .dockerignore`).toEqual([]);
        }
      }
    }
  });

  it('ships what the program reads at run time', () => {
    const copied = instr(runtime, 'COPY').map((c) => c.args.split(/\s+/).filter((p) => !p.startsWith('--'))[0]);
    // schemas/ and migrations/ are read relative to the package root (see src/adapters/registry/schemas.ts).
    for (const dir of ['schemas', 'migrations', 'package.json']) expect(copied, dir).toContain(dir);
    expect(readText('src/adapters/registry/schemas.ts')).toContain("'../../../schemas/'");
    // The dashboard's static files are not TypeScript: the build copies them into dist/, which the runtime stage takes.
    const pkg = JSON.parse(readText('package.json')) as { scripts: Record<string, string> };
    if (existsSync(path.join(ROOT, 'src/http/dashboard'))) {
      expect(pkg.scripts.build).toMatch(/src\/http\/dashboard.*dist\/http\/dashboard/);
    }
  });

  it('installs every package the compiled program imports (npm ci --omit=dev)', () => {
    const pkg = JSON.parse(readText('package.json')) as { dependencies: Record<string, string> };
    const sources = filesUnder('src').filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    const missing = new Set<string>();
    for (const file of sources) {
      const text = readText(file);
      // Runtime imports only: `import type` and type-only specifiers vanish from the JavaScript.
      for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) {
        const spec = m[1];
        if (spec.startsWith('.') || spec.startsWith('node:')) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (!(name in pkg.dependencies)) missing.add(`${name} (${file})`);
      }
      for (const m of text.matchAll(/\bimport\(\s*['"]([^'".][^'"]*)['"]\s*\)/g)) {
        const name = m[1].startsWith('@') ? m[1].split('/').slice(0, 2).join('/') : m[1].split('/')[0];
        if (!m[1].startsWith('node:') && !(name in pkg.dependencies)) missing.add(`${name} (${file})`);
      }
    }
    expect([...missing]).toEqual([]);
  });

  it('keeps the build context small and free of secrets', () => {
    for (const p of ['node_modules', '.git', 'dist', '.env', 'node_modules/kafkajs/index.js', 'tests/deploy/k8s.test.ts']) {
      expect(ignored(p), p).toBe(true);
    }
    for (const p of ['src/cli.ts', 'package.json', 'package-lock.json', 'schemas/InferenceEvent.avsc']) expect(ignored(p), p).toBe(false);
  });

  it('sets only variables the config module reads', () => {
    const names = instr(runtime, 'ENV').flatMap((e) => [...e.args.matchAll(/(?:^|\s)(\w+)=/g)].map((m) => m[1]));
    expect(names).toContain('DRIFTSTREAM_HTTP_HOST');
    expect(unknownEnvNames(names)).toEqual([]);
    expect(readText('Dockerfile')).toMatch(/DRIFTSTREAM_HTTP_HOST=0\.0\.0\.0/);
  });

  it('runs Node with the measured young-generation size', () => {
    const env = instr(runtime, 'ENV').map((e) => e.args).join(' ');
    expect(env).toMatch(/(?:^|\s)NODE_OPTIONS=--max-semi-space-size=8(?:\s|$)/);
  });
});

describe('deploy/docker/healthcheck.mjs', () => {
  let server: http.Server;
  let port = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      res.statusCode = req.url === '/healthz' ? 200 : req.url === '/sick' ? 503 : 404;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function run(args: string[], env: Record<string, string> = {}): Promise<number> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(ROOT, 'deploy/docker/healthcheck.mjs'), ...args], {
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: 'ignore',
      });
      child.on('error', reject);
      child.on('exit', (code) => resolve(code ?? -1));
    });
  }

  it('passes when /healthz answers 2xx on DRIFTSTREAM_HTTP_PORT', async () => {
    expect(await run([], { DRIFTSTREAM_HTTP_PORT: String(port) })).toBe(0);
  });

  it('fails on an error status and on a closed port', async () => {
    expect(await run([`http://127.0.0.1:${port}/sick`])).toBe(1);
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await run([], { DRIFTSTREAM_HTTP_PORT: String(closedPort) })).toBe(1);
  });
});
