import { Option, type Command } from 'commander';
import { compareCommand, parseTypeOptions, CompareInputError, COMPARE_EXIT } from './compare.js';

export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description('compare a current sample with a reference sample, feature by feature; samples are CSV, NDJSON, Parquet or Arrow IPC files')
    .requiredOption('-r, --reference <file>', 'reference sample: CSV (header row; , ; tab or | delimited), NDJSON, Parquet or Arrow IPC (file or stream)')
    .requiredOption('-c, --current <file>', 'current sample, in any of the same formats (format from the extension, else the first bytes)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['json', 'table']).default('table'))
    .option('-t, --type <name=type...>', 'force a column type: NAME=numeric or NAME=categorical (repeatable)', [])
    .option('--csv-delimiter <char>', 'CSV field delimiter (default: the one of , ; tab | the header row holds most of)')
    .option('--csv-encoding <label>', 'CSV text encoding, e.g. windows-1252 (default: UTF-8, or UTF-16 by its byte order mark)')
    .action(async (opts: { reference: string; current: string; format: 'json' | 'table'; type: string[]; csvDelimiter?: string; csvEncoding?: string }) => {
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
        { reference: opts.reference, current: opts.current, format: opts.format, types, input: { delimiter: opts.csvDelimiter, encoding: opts.csvEncoding } },
        process.stdout,
        process.stderr,
      );
    });
}
