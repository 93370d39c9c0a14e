// Generates docs/configuration.md from CONFIG_SPEC (src/config/spec.ts), the
// single list of environment variables driftstream reads.
//
//   npm run docs:config            rewrite docs/configuration.md
//   npm run docs:config -- --check exit 1 when the file is out of date (CI)
//
// tests/deploy/config-docs.test.ts fails when the committed file differs from
// what this script renders.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONFIG_SPEC, type VarSpec } from '../src/config/spec.js';

export const CONFIG_DOC_PATH = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));

interface Section {
  readonly title: string;
  readonly intro: string;
  readonly test: (name: string) => boolean;
}

// Sections in reading order; a variable lands in the first section whose test matches.
const SECTIONS: readonly Section[] = [
  {
    title: 'Kafka',
    intro: 'Brokers and client security. TLS and SASL are independent: SASL over TLS needs both `DRIFTSTREAM_KAFKA_SSL=true` and a mechanism.',
    test: (n) => n.startsWith('DRIFTSTREAM_KAFKA_'),
  },
  {
    title: 'Schema registry',
    intro: 'A Confluent-compatible registry (Confluent Schema Registry, or Apicurio Registry under `/apis/ccompat/v7`). Avro values name their writer schema by id; JSON values need no registry.',
    test: (n) => n.startsWith('DRIFTSTREAM_SCHEMA_REGISTRY_'),
  },
  {
    title: 'State',
    intro: 'Redis holds checkpoints, open windows and label joins; PostgreSQL holds models, reference profiles and history. Both take TLS and credentials in their URLs, which are never logged.',
    test: (n) => n === 'DRIFTSTREAM_REDIS_URL' || n === 'DRIFTSTREAM_DATABASE_URL' || n === 'DRIFTSTREAM_HISTORY_BUFFER',
  },
  {
    title: 'Topics and consumer group',
    intro: 'Replicas that share `DRIFTSTREAM_GROUP_ID` split the partitions of the input topics between them.',
    test: (n) => n.endsWith('_TOPIC') || n === 'DRIFTSTREAM_GROUP_ID',
  },
  {
    title: 'HTTP service and access control',
    intro: 'The API, the dashboard, `/metrics`, `/healthz` and `/readyz`. In a container, bind to `0.0.0.0` (the image does).',
    test: (n) =>
      /^DRIFTSTREAM_(HTTP_|API_KEYS|JWT_|AUTH_|CORS_|RATE_LIMIT_|BODY_LIMIT_|REFERENCE_UPLOAD_)/.test(n),
  },
  {
    title: 'Detection',
    intro: 'Defaults for every model; a model configuration may override its windows, lateness and thresholds.',
    test: () => true,
  },
];

const KIND_TEXT: Record<VarSpec['kind'], string> = {
  string: 'string',
  url: 'URL',
  int: 'integer',
  duration: 'duration',
  bool: 'boolean',
  list: 'comma-separated list',
  enum: 'one of',
};

function typeCell(v: VarSpec): string {
  if (v.kind === 'enum') return `one of ${(v.values ?? []).map((x) => `\`${x}\``).join(', ')}`;
  let t = KIND_TEXT[v.kind];
  if (v.kind === 'int' && v.min !== undefined) t += `, >= ${v.min}`;
  if (v.kind === 'duration') t += ' (`500ms`, `30s`, `5m`, `1h`, `7d`)';
  return t;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** Renders docs/configuration.md from {@link CONFIG_SPEC}. */
export function renderConfigurationDoc(spec: readonly VarSpec[] = CONFIG_SPEC): string {
  const lines: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/spec.ts by `npm run docs:config`; do not edit by hand. -->',
    '',
    'driftstream reads its configuration from environment variables only, once at start:',
    'every value is validated and a bad one stops the process with a message naming the',
    'variable and what it expected. An empty value counts as unset. Variables marked',
    '**secret** are never logged; keep them in a Kubernetes Secret or an `.env` file, not in',
    'a ConfigMap. Models themselves are configured over HTTP or with `DRIFTSTREAM_MODELS_FILE`.',
    '',
    `${spec.length} variables:`,
    '',
  ];
  const placed = new Set<string>();
  for (const section of SECTIONS) {
    const vars = spec.filter((v) => !placed.has(v.name) && section.test(v.name));
    if (vars.length === 0) continue;
    for (const v of vars) placed.add(v.name);
    lines.push(`## ${section.title}`, '', section.intro, '', '| Variable | Default | Type | Meaning |', '|---|---|---|---|');
    for (const v of vars) {
      const def = v.default === undefined ? '(unset)' : v.default === '' ? '(empty)' : `\`${v.default}\``;
      const meaning = (v.secret ? '**secret.** ' : '') + v.description;
      lines.push(`| \`${v.name}\` | ${cell(def)} | ${cell(typeCell(v))} | ${cell(meaning)} |`);
    }
    lines.push('');
  }
  lines.push(
    '## Where they are set',
    '',
    '- Local processes: the shell environment (`DRIFTSTREAM_LOG_LEVEL=debug driftstream run`).',
    '- Docker Compose: the `x-detector-env` block of `docker-compose.yml`; secrets from `.env`.',
    '- Kubernetes: `k8s/base/configmap.yaml` (plain values) and the `driftstream-secrets` Secret',
    '  (`k8s/base/secret.template.yaml`); the pod name becomes `DRIFTSTREAM_KAFKA_CLIENT_ID`.',
    '',
    'The deployment tests (`tests/deploy/`) check that every `DRIFTSTREAM_*` name those files set',
    'is in this list and that the values load.',
    '',
  );
  return lines.join('\n');
}

const invokedDirectly = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (invokedDirectly) {
  const doc = renderConfigurationDoc();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(CONFIG_DOC_PATH, 'utf8');
    } catch {
      // missing counts as out of date
    }
    if (current !== doc) {
      console.error('docs/configuration.md is out of date: run `npm run docs:config`');
      process.exit(1);
    }
    console.log('docs/configuration.md is up to date');
  } else {
    writeFileSync(CONFIG_DOC_PATH, doc);
    console.log(`wrote ${CONFIG_DOC_PATH} (${CONFIG_SPEC.length} variables)`);
  }
}
