import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * One `driftstream run` process the chaos test starts, SIGKILLs and restarts.
 * Its output goes to `logFile` (appended across restarts).
 */
export class DetectorProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);
  private readonly log: WriteStream;
  starts = 0;
  kills = 0;

  constructor(
    readonly name: string,
    private readonly env: NodeJS.ProcessEnv,
    readonly logFile: string,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.starts++;
    this.log.write(`\n==== ${new Date().toISOString()} start #${this.starts}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run', '--no-http'], {
      cwd: ROOT,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(this.log, { end: false });
    child.stderr!.pipe(this.log, { end: false });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      this.log.write(`==== ${new Date().toISOString()} exit code=${code} signal=${signal}\n`);
      resolve(code);
    }));
  }

  /** kill -9: no checkpoint, no flush, no leaving the group. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.kills++;
    this.log.write(`==== ${new Date().toISOString()} SIGKILL\n`);
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM and wait for a clean exit (SIGKILL after `timeoutMs`); returns the exit code. */
  async stop(timeoutMs = 30_000): Promise<number | null> {
    if (!this.running) return this.child?.exitCode ?? null;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.log.end();
  }
}
