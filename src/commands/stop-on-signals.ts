import type { Logger } from '../observability/logger.js';

/**
 * How a long-running command ends: SIGTERM or SIGINT close `handle` and exit 0;
 * a part in `fatal` that fails closes it and exits 1. Whatever is still
 * waiting when `graceMs` ends (a dependency that stays down) is left, and the
 * process exits anyway.
 */
export function stopOnSignals(handle: { close(): Promise<void> }, logger: Logger, graceMs: number, fatal: readonly { what: string; done: Promise<void> | undefined }[]): void {
  let exiting = false;
  const stop = (signal: string, code: number) => {
    if (exiting) return;
    exiting = true;
    logger.info({ signal, graceMs }, 'shutting down');
    const grace = setTimeout(() => {
      logger.error({ graceMs }, 'shutdown did not finish within the grace; exiting');
      process.exit(code === 0 ? 1 : code);
    }, graceMs);
    grace.unref();
    handle.close().then(
      () => process.exit(code),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM', 0));
  process.once('SIGINT', () => stop('SIGINT', 0));
  for (const f of fatal) {
    f.done?.catch((err: Error) => {
      logger.fatal({ err: err.message }, `${f.what} stopped`);
      stop('fatal', 1);
    });
  }
}
