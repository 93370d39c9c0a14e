#!/usr/bin/env -S node --disable-warning=TimeoutNegativeWarning
import { Command, CommanderError } from 'commander';
import { VERSION } from './version.js';
import { DriftstreamError } from './errors.js';
import { registerVersionCommand } from './commands/version.js';
import { registerCompareCommand } from './commands/compare-command.js';
import { registerServeCommand } from './commands/serve.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerRunCommand } from './commands/run.js';
import { registerReferenceCommand } from './commands/reference.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerAnalyzeCommand } from './commands/analyze.js';
import { registerNotifyCommand } from './commands/notify.js';

// Each command lives in src/commands/<name>.ts and registers itself here.
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('driftstream')
    .description('Kafka-native drift detection for machine-learning models in production')
    .version(VERSION, '-V, --version')
    .showHelpAfterError()
    .exitOverride();
  registerVersionCommand(program);
  registerCompareCommand(program);
  registerServeCommand(program);
  registerMigrateCommand(program);
  registerRunCommand(program);
  registerReferenceCommand(program);
  registerDemoCommand(program);
  registerAnalyzeCommand(program);
  registerNotifyCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
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

main(process.argv).then((code) => {
  process.exitCode = code;
});
