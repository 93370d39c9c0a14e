import type { Command } from 'commander';
import { loadConfig, redactUrl } from '../config/config.js';
import { ConfigError } from '../errors.js';
import { openDatabaseMigrations } from '../app/create-adapters.js';
import { createLogger } from '../observability/logger.js';

interface MigrateOptions {
  status?: boolean;
  databaseUrl?: string;
  schema?: string;
}

/** `driftstream migrate`: applies pending PostgreSQL migrations (the detector also does at start). */
export async function migrateCommand(options: MigrateOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadConfig(env);
  const url = options.databaseUrl ?? config.databaseUrl;
  if (!url) throw new ConfigError('DRIFTSTREAM_DATABASE_URL: expected a PostgreSQL URL to migrate (or pass --database-url)');
  const schema = options.schema ?? config.databaseSchema;
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const migrations = await openDatabaseMigrations(url, schema, logger);
  try {
    if (options.status) {
      for (const m of await migrations.status()) {
        process.stdout.write(`${String(m.version).padStart(3, '0')}_${m.name}\t${m.appliedAt ? `applied ${m.appliedAt.toISOString()}` : 'pending'}\n`);
      }
      return;
    }
    const applied = await migrations.apply();
    const where = `${redactUrl(url)}${schema ? ` (schema ${schema})` : ''}`;
    process.stdout.write(applied.length === 0 ? `${where}: up to date\n` : `${where}: applied ${applied.map((v) => String(v).padStart(3, '0')).join(', ')}\n`);
  } finally {
    await migrations.close();
  }
}

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply pending PostgreSQL migrations (DRIFTSTREAM_DATABASE_URL, DRIFTSTREAM_DATABASE_SCHEMA)')
    .option('--status', 'list migrations and whether each is applied, change nothing')
    .option('--database-url <url>', 'PostgreSQL URL (default: DRIFTSTREAM_DATABASE_URL)')
    .option('--schema <name>', 'schema of the tables (default: DRIFTSTREAM_DATABASE_SCHEMA)')
    .action(async (options: MigrateOptions) => {
      await migrateCommand(options);
    });
}
