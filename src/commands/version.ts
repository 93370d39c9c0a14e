import type { Command } from 'commander';
import { VERSION } from '../version.js';

export function registerVersionCommand(program: Command): void {
  program
    .command('version')
    .description('print the driftstream version')
    .action(() => {
      process.stdout.write(`driftstream ${VERSION}\n`);
    });
}
