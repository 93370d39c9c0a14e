import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * One `driftstream run` process (or another subcommand, `args`) the chaos tests start, SIGKILL and restart.
 * Its output goes straight to `logFile` (appended across restarts): the child
 * writes the file itself, so nothing is lost when this process exits first and
 * a slow reader never blocks the child's logging.
 */
export class DetectorProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);
  starts = 0;
  kills = 0;

  constructor(
    readonly name: string,
    private readonly env: NodeJS.ProcessEnv,
    readonly logFile: string,
    /** Where a process that does not stop on SIGTERM writes its diagnostic report. */
    private readonly reportDir?: string,
    /** The subcommand and its options. */
    private readonly args: readonly string[] = ['run', '--no-http'],
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.starts++;
    this.mark(`start #${this.starts}`);
    const fd = openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      const diagnostics = this.reportDir ? ['--report-on-signal', `--report-directory=${this.reportDir}`] : [];
      child = spawn(process.execPath, [...diagnostics, '--import', 'tsx', 'src/cli.ts', ...this.args], {
        cwd: ROOT,
        env: { ...process.env, ...this.env },
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.mark(`exit code=${code} signal=${signal}`);
        resolve(code);
      }),
    );
  }

  /** kill -9: no checkpoint, no flush, no leaving the group. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.kills++;
    this.mark('SIGKILL');
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM and wait for a clean exit (SIGKILL after `timeoutMs`); returns the exit code. */
  async stop(timeoutMs = 30_000): Promise<number | null> {
    if (!this.running) return this.child?.exitCode ?? null;
    this.mark('SIGTERM');
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => {
      // Stuck: a diagnostic report (stacks, open handles) first, then kill -9.
      this.mark('no exit after SIGTERM: SIGUSR2 (diagnostic report), then SIGKILL');
      if (this.reportDir) this.child?.kill('SIGUSR2');
      setTimeout(() => this.child?.kill('SIGKILL'), 2_000);
    }, timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private mark(what: string): void {
    appendFileSync(this.logFile, `==== ${new Date().toISOString()} ${what}\n`);
  }
}
