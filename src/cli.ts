#!/usr/bin/env -S node --disable-warning=TimeoutNegativeWarning
import { Command, CommanderError } from 'commander';
import { VERSION } from './version.js';
import { DriftstreamError } from './errors.js';

type Register = (program: Command) => void;

// Each command lives in src/commands/<name>.ts and registers itself here. A command's module
// (and what it imports: the Kafka, HTTP, PostgreSQL, Redis, report code...) is loaded only
// when that command runs, or for the help that lists them all.
const COMMANDS: readonly (readonly [string, () => Promise<Register>])[] = [
  ['version', async () => (await import('./commands/version.js')).registerVersionCommand],
  ['compare', async () => (await import('./commands/compare-command.js')).registerCompareCommand],
  ['serve', async () => (await import('./commands/serve.js')).registerServeCommand],
  ['migrate', async () => (await import('./commands/migrate.js')).registerMigrateCommand],
  ['run', async () => (await import('./commands/run.js')).registerRunCommand],
  ['reference', async () => (await import('./commands/reference.js')).registerReferenceCommand],
  ['demo', async () => (await import('./commands/demo.js')).registerDemoCommand],
  ['analyze', async () => (await import('./commands/analyze.js')).registerAnalyzeCommand],
  ['notify', async () => (await import('./commands/notify.js')).registerNotifyCommand],
];

/** The names of the commands, in the order the help lists them. */
export const COMMAND_NAMES: readonly string[] = COMMANDS.map(([name]) => name);

/**
 * The program with the command `argv` names registered, or every command when
 * it names none of them (help, a typo): what commander needs to answer.
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command();
  program
    .name('driftstream')
    .description('Kafka-native drift detection for machine-learning models in production')
    .version(VERSION, '-V, --version')
    .showHelpAfterError()
    .exitOverride();
  const named = COMMANDS.find(([name]) => name === argv[2]);
  for (const [, load] of named ? [named] : COMMANDS) (await load())(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof DriftstreamError) {
      process.stderr.write(`driftstream: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`driftstream: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

/** How long a command that failed may take to flush its output before the process ends. */
const FAILED_EXIT_GRACE_MS = 1000;

main(process.argv).then((code) => {
  process.exitCode = code;
  // A command that failed has nothing left to do: whatever its failed start left open (a client that
  // still reconnects, say) must not keep the process alive.
  if (code !== 0) setTimeout(() => process.exit(code), FAILED_EXIT_GRACE_MS).unref();
});
