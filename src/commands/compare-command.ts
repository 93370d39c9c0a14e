import { Option, type Command } from 'commander';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { compareCommand, parseTypeOptions, CompareInputError, COMPARE_EXIT, type CompareOptions } from './compare.js';
import { compareHtmlCommand } from './compare-html.js';

/** Runs the comparison in its format, to the output file when one is named (else stdout). */
async function runInFormat(opts: CompareOptions | (Omit<CompareOptions, 'format'> & { format: 'html' }), output: string | undefined): Promise<number> {
  const out = output ? createWriteStream(output) : process.stdout;
  const code = opts.format === 'html' ? await compareHtmlCommand(opts, out, process.stderr) : await compareCommand(opts, out, process.stderr);
  if (output) {
    out.end();
    await finished(out);
    if (code === COMPARE_EXIT.ok) process.stderr.write(`report written to ${output}\n`);
  }
  return code;
}

export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description('compare a current sample with a reference sample, feature by feature; samples are CSV, NDJSON, Parquet or Arrow IPC files')
    .requiredOption('-r, --reference <file>', 'reference sample: CSV (header row; , ; tab or | delimited), NDJSON, Parquet or Arrow IPC (file or stream)')
    .requiredOption('-c, --current <file...>', 'current sample, in any of the same formats (format from the extension, else the first bytes); repeat for consecutive windows')
    .option('-w, --window-rows <n>', 'cut each current file into consecutive windows of n rows (one evaluation per window)')
    .option('-b, --budget <p>', 'false-alarm budget: largest probability of any false drift verdict per window (default 0.001)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['json', 'table', 'html']).default('table'))
    .option('-o, --output <file>', 'write the output to this file instead of stdout (an HTML report is one self-contained file)')
    .option('-t, --type <name=type...>', 'force a column type: NAME=numeric or NAME=categorical (repeatable)', [])
    .option('--csv-delimiter <char>', 'CSV field delimiter (default: the one of , ; tab | the header row holds most of)')
    .option('--csv-encoding <label>', 'CSV text encoding, e.g. windows-1252 (default: UTF-8, or UTF-16 by its byte order mark)')
    .action(async (opts: {
      reference: string;
      current: string[];
      format: 'json' | 'table' | 'html';
      output?: string;
      type: string[];
      windowRows?: string;
      budget?: string;
      csvDelimiter?: string;
      csvEncoding?: string;
    }) => {
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
      process.exitCode = await runInFormat(
        {
          reference: opts.reference,
          current: opts.current.length === 1 ? opts.current[0] : opts.current,
          format: opts.format,
          types,
          input: { delimiter: opts.csvDelimiter, encoding: opts.csvEncoding },
          ...(windowRows !== undefined ? { windowRows } : {}),
          ...(budget !== undefined ? { budget } : {}),
        },
        opts.output,
      );
    });
}
