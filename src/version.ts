import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** The package version, read from package.json (one level above src/ and dist/). */
export const VERSION: string = pkg.version;
