import { readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { SECRET_ENV_PATTERN, type SecretRef } from '../core/notify/channel-config.js';

type Env = Record<string, string | undefined>;

/**
 * Reads the secrets channels refer to: a `DRIFTSTREAM_NOTIFY_*` variable of
 * `env`, or a file inside `secretsDir` (a mounted Kubernetes or Docker
 * secret, read on every use so a rotated file takes effect). Errors name the
 * reference, never a value.
 */
export function secretResolver(env: Env, secretsDir: string): (ref: SecretRef) => string {
  const root = resolve(secretsDir);
  return (ref) => {
    if ('env' in ref) {
      if (!SECRET_ENV_PATTERN.test(ref.env)) throw new ConfigError(`secret ${ref.env}: only DRIFTSTREAM_NOTIFY_* variables hold channel secrets`);
      const v = env[ref.env];
      if (v === undefined || v.trim() === '') throw new ConfigError(`secret ${ref.env}: the variable is not set`);
      return v.trim();
    }
    const path = resolve(ref.file);
    const rel = relative(root, path);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new ConfigError(`secret file ${ref.file}: outside DRIFTSTREAM_NOTIFY_SECRETS_DIR (${root})`);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`secret file ${ref.file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
    }
    if (text.trim() === '') throw new ConfigError(`secret file ${ref.file}: empty`);
    return text.trim();
  };
}
