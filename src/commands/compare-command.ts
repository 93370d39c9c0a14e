import { Option, type Command } from 'commander';
import { compareCommand, parseTypeOptions, CompareInputError, COMPARE_EXIT } from './compare.js';

export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description('compare a current sample with a reference sample (CSV or NDJSON), feature by feature')
    .requiredOption('-r, --reference <file>', 'reference sample (CSV with a header row, or NDJSON)')
    .requiredOption('-c, --current <file...>', 'current sample (CSV with a header row, or NDJSON); repeat for consecutive windows')
    .option('-w, --window-rows <n>', 'cut each current file into consecutive windows of n rows (one evaluation per window)')
    .option('-b, --budget <p>', 'false-alarm budget: largest probability of any false drift verdict per window (default 0.001)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['json', 'table']).default('table'))
    .option('-t, --type <name=type...>', 'force a column type: NAME=numeric or NAME=categorical (repeatable)', [])
    .action(async (opts: { reference: string; current: string[]; format: 'json' | 'table'; type: string[]; windowRows?: string; budget?: string }) => {
      let types;
      let windowRows: number | undefined;
      let budget: number | undefined;
      try {
        types = parseTypeOptions(opts.type);
        if (opts.windowRows !== undefined) {
          windowRows = Number(opts.windowRows);
          if (!/^\d+$/.test(opts.windowRows) || windowRows < 1) throw new CompareInputError(`--window-rows ${opts.windowRows}: expected a whole number of rows, at least 1`);
        }
        if (opts.budget !== undefined) {
          budget = Number(opts.budget);
          if (!(budget > 0 && budget <= 0.5)) throw new CompareInputError(`--budget ${opts.budget}: expected a probability above 0 and at most 0.5`);
        }
      } catch (err) {
        if (!(err instanceof CompareInputError)) throw err;
        process.stderr.write(`driftstream compare: ${err.message}\n`);
        process.exitCode = COMPARE_EXIT.badInput;
        return;
      }
      process.exitCode = await compareCommand(
        {
          reference: opts.reference,
          current: opts.current.length === 1 ? opts.current[0] : opts.current,
          format: opts.format,
          types,
          ...(windowRows !== undefined ? { windowRows } : {}),
          ...(budget !== undefined ? { budget } : {}),
        },
        process.stdout,
        process.stderr,
      );
    });
}
