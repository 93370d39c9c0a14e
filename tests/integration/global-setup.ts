// Vitest global setup: make sure the local server stack (Kafka, schema registry; PostgreSQL and
// Redis are checked) is up before any test runs. `up` returns at once when it already is.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const script = fileURLToPath(new URL('../../scripts/stack.mjs', import.meta.url));
  execFileSync(process.execPath, [script, 'up', '--quiet'], { stdio: 'inherit' });
}
