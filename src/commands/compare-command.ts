import { Option, type Command } from 'commander';
import { compareCommand, parseTypeOptions, CompareInputError, COMPARE_EXIT } from './compare.js';

export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description('compare a current sample with a reference sample (CSV or NDJSON), feature by feature')
    .requiredOption('-r, --reference <file>', 'reference sample (CSV with a header row, or NDJSON)')
    .requiredOption('-c, --current <file>', 'current sample (CSV with a header row, or NDJSON)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['json', 'table']).default('table'))
    .option('-t, --type <name=type...>', 'force a column type: NAME=numeric or NAME=categorical (repeatable)', [])
    .action(async (opts: { reference: string; current: string; format: 'json' | 'table'; type: string[] }) => {
      let types;
      try {
        types = parseTypeOptions(opts.type);
      } catch (err) {
        if (!(err instanceof CompareInputError)) throw err;
        process.stderr.write(`driftstream compare: ${err.message}\n`);
        process.exitCode = COMPARE_EXIT.badInput;
        return;
      }
      process.exitCode = await compareCommand(
        { reference: opts.reference, current: opts.current, format: opts.format, types },
        process.stdout,
        process.stderr,
      );
    });
}
