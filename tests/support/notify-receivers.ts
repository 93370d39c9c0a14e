import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SMTPServer } from 'smtp-server';

/** How a receiver answers one request: accept it, answer with a status, or never answer. */
export type Answer = 'accept' | 'hang' | { status: number; headers?: Record<string, string> };

export interface ReceivedRequest {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly json: unknown;
  readonly at: number;
}

/**
 * A local HTTP receiver (webhook, Slack or Alertmanager stand-in): `answer`
 * decides each request's fate; accepted requests are kept, and `check`
 * reports what is wrong with one (a signature, a payload shape), collected in
 * `problems`.
 */
export class HttpReceiver {
  readonly accepted: ReceivedRequest[] = [];
  readonly problems: string[] = [];
  requests = 0;
  answer: (n: number, req: ReceivedRequest) => Answer = () => 'accept';

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(check?: (req: ReceivedRequest) => string[]): Promise<HttpReceiver> {
    const ref: { self?: HttpReceiver } = {};
    const server = createServer((req, res) => {
      const self = ref.self;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        const r: ReceivedRequest = { headers: req.headers, body, json, at: Date.now() };
        const answer = self!.answer(++self!.requests, r);
        if (answer === 'hang') return;
        if (answer === 'accept') {
          for (const p of check?.(r) ?? []) self!.problems.push(p);
          self!.accepted.push(r);
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
          return;
        }
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers }).end(`status ${answer.status}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ref.self = new HttpReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`);
    return ref.self;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

export interface ReceivedMail {
  readonly from: string;
  readonly to: string[];
  readonly raw: string;
}

/** A real SMTP server in the test process (smtp-server); `reject(n)` answers the n-th message with an SMTP error. */
export class MailReceiver {
  readonly mails: ReceivedMail[] = [];
  attempts = 0;
  reject: (n: number) => { code: number; message: string } | undefined = () => undefined;

  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
  ) {}

  static async start(): Promise<MailReceiver> {
    const ref: { self?: MailReceiver } = {};
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth(auth, _session, callback) {
        if (auth.username === 'alerts' && auth.password === 'mail-pass') return callback(null, { user: 'alerts' });
        return callback(new Error('Invalid username or password'));
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const self = ref.self;
          const refusal = self!.reject(++self!.attempts);
          if (refusal) return callback(Object.assign(new Error(refusal.message), { responseCode: refusal.code }));
          self!.mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.server.address() as AddressInfo).port;
    ref.self = new MailReceiver(server, port);
    return ref.self;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

export const ALERTMANAGER_BIN = '/usr/bin/prometheus-alertmanager';

/** Debian's Prometheus Alertmanager on a port of its own, clustering off, storage in a temporary directory. */
export class AlertmanagerProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly url: string,
  ) {}

  static async start(): Promise<AlertmanagerProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'driftstream-am-'));
    const config = join(dir, 'alertmanager.yml');
    writeFileSync(config, 'route:\n  receiver: blackhole\n  group_wait: 1s\nreceivers:\n  - name: blackhole\n');
    const port = await freePort();
    const child = spawn(ALERTMANAGER_BIN, [`--config.file=${config}`, `--storage.path=${dir}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const url = `http://127.0.0.1:${port}`;
    const am = new AlertmanagerProcess(child, dir, url);
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`alertmanager exited: ${stderr}`);
      const ok = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
      if (ok) return am;
      if (Date.now() > deadline) {
        await am.stop();
        throw new Error(`alertmanager not ready on ${url}: ${stderr}`);
      }
      await sleep(100);
    }
  }

  /** The alerts it holds (GET /api/v2/alerts), active or not. */
  async alerts(filter: { active?: boolean } = {}): Promise<{ labels: Record<string, string>; status: { state: string }; endsAt: string }[]> {
    const q = new URLSearchParams({ active: String(filter.active ?? true), silenced: 'true', inhibited: 'true', unprocessed: 'true' });
    const res = await fetch(`${this.url}/api/v2/alerts?${q}`);
    return (await res.json()) as { labels: Record<string, string>; status: { state: string }; endsAt: string }[];
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const SLACK_BLOCK_TYPES = new Set(['header', 'section', 'context', 'actions', 'divider']);

function textObject(t: unknown, where: string, max: number, types: string[]): string[] {
  const o = t as { type?: unknown; text?: unknown };
  if (!o || typeof o !== 'object') return [`${where}: not a text object`];
  const out: string[] = [];
  if (!types.includes(o.type as string)) out.push(`${where}.type: ${String(o.type)} not one of ${types.join(', ')}`);
  if (typeof o.text !== 'string' || o.text.length === 0) out.push(`${where}.text: empty`);
  else if (o.text.length > max) out.push(`${where}.text: ${o.text.length} > ${max} characters`);
  return out;
}

/** What an incoming webhook would refuse in a Block Kit message (Slack's documented limits for these block types). */
export function slackMessageProblems(m: unknown): string[] {
  const msg = m as { text?: unknown; blocks?: unknown[] };
  if (!msg || typeof msg !== 'object') return ['not a JSON object'];
  const out: string[] = [];
  if (typeof msg.text !== 'string' || msg.text.length === 0) out.push('text: the notification fallback is missing');
  if (!Array.isArray(msg.blocks) || msg.blocks.length === 0) return [...out, 'blocks: missing'];
  if (msg.blocks.length > 50) out.push(`blocks: ${msg.blocks.length} > 50`);
  msg.blocks.forEach((b, i) => {
    const block = b as { type: string; text?: unknown; fields?: unknown[]; elements?: Record<string, unknown>[] };
    const where = `blocks[${i}]`;
    if (!SLACK_BLOCK_TYPES.has(block.type)) out.push(`${where}.type: ${block.type}`);
    if (block.type === 'header') out.push(...textObject(block.text, `${where}.text`, 150, ['plain_text']));
    if (block.type === 'section') {
      if (block.text === undefined && block.fields === undefined) out.push(`${where}: neither text nor fields`);
      if (block.text !== undefined) out.push(...textObject(block.text, `${where}.text`, 3000, ['mrkdwn', 'plain_text']));
      if (block.fields !== undefined) {
        if (block.fields.length > 10) out.push(`${where}.fields: more than 10`);
        block.fields.forEach((f, j) => out.push(...textObject(f, `${where}.fields[${j}]`, 2000, ['mrkdwn', 'plain_text'])));
      }
    }
    if (block.type === 'context') {
      if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > 10) out.push(`${where}.elements: 1 to 10 expected`);
      else block.elements.forEach((e, j) => out.push(...textObject(e, `${where}.elements[${j}]`, 3000, ['mrkdwn', 'plain_text'])));
    }
    if (block.type === 'actions') {
      if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > 25) out.push(`${where}.elements: 1 to 25 expected`);
      else
        block.elements.forEach((e, j) => {
          if (e.type !== 'button') out.push(`${where}.elements[${j}].type: ${String(e.type)}`);
          out.push(...textObject(e.text, `${where}.elements[${j}].text`, 75, ['plain_text']));
          if (typeof e.url !== 'string' || e.url.length > 3000 || !/^https?:\/\//.test(e.url)) out.push(`${where}.elements[${j}].url: not a URL of at most 3000 characters`);
          if (typeof e.action_id !== 'string' || e.action_id.length > 255) out.push(`${where}.elements[${j}].action_id: missing or too long`);
        });
    }
  });
  return out;
}
