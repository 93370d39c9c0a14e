// Layer and cycle rules for src/ (docs/architecture.md has the picture).
// Run by `npm run lint:deps`, which `npm run lint` includes.
//
//   core  <-  stream, notify  <-  adapters, http, io, producer  <-  app (composition), commands  <-  cli
//
// Layers only import downward; nothing imports in a loop.

const CORE = '^src/core/';
const IO_BUILTINS = '^(node:)?(fs|fs/promises|net|http|https|http2|tls|dgram|dns|child_process|cluster|worker_threads|readline)$';
const IO_PACKAGES = '^(kafkajs|ioredis|pg|fastify|@fastify/|pino|prom-client|@kafkajs/)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules import in one direction; a loop means a concern sits in the wrong module.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-is-pure',
      severity: 'error',
      comment: 'src/core runs without Kafka, Redis, PostgreSQL, HTTP or the file system (time is passed in).',
      from: { path: CORE },
      to: { path: [IO_BUILTINS, IO_PACKAGES], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'core-imports-only-core',
      severity: 'error',
      comment: 'src/core may import only src/core and the error root.',
      from: { path: CORE },
      to: { path: '^src/', pathNot: [CORE, '^src/errors\\.ts$'] },
    },
    {
      name: 'stats-is-the-bottom',
      severity: 'error',
      comment: 'Statistics know nothing of models, windows, profiles or verdicts.',
      from: { path: '^src/core/stats/' },
      to: { path: '^src/core/(drift|model|profile|windows)/' },
    },
    {
      name: 'stream-below-the-edges',
      severity: 'error',
      comment: 'The stream layer sees core and the ports, never an adapter, the HTTP app, a command or the config reader.',
      from: { path: '^src/stream/' },
      to: { path: '^src/(adapters|http|commands|config|observability|io|producer)/|^src/app/|^src/(cli|index)\\.ts$' },
    },
    {
      name: 'notify-below-the-edges',
      severity: 'error',
      comment: 'The notifier routes and delivers through core and the ports; the transports, the log\'s storage and the configuration reader are handed to it.',
      from: { path: '^src/notify/' },
      to: { path: '^src/(adapters|http|commands|config|observability|io|producer|stream)/|^src/app/|^src/(cli|index)\\.ts$' },
    },
    {
      name: 'adapters-never-up',
      severity: 'error',
      comment: 'Adapters implement ports; they never reach the HTTP app, the commands or the composition.',
      from: { path: '^src/adapters/' },
      to: { path: '^src/(http|commands)/|^src/app/|^src/(cli|index)\\.ts$' },
    },
    {
      name: 'http-never-kafka-or-adapters',
      severity: 'error',
      comment: 'The HTTP app gets its dependencies from buildApp(deps); it never imports Kafka, an adapter or a command.',
      from: { path: '^src/http/' },
      to: { path: ['^src/(adapters|commands|stream)/', '^src/app/', '^src/cli\\.ts$', '^(kafkajs|ioredis|pg)$'] },
    },
    {
      name: 'io-is-a-leaf',
      severity: 'error',
      comment: 'Sample readers parse files; they know nothing above the error root.',
      from: { path: '^src/io/' },
      to: { path: '^src/', pathNot: ['^src/io/', '^src/errors\\.ts$'] },
    },
    {
      name: 'nothing-imports-the-cli',
      severity: 'error',
      from: {},
      to: { path: '^src/cli\\.ts$' },
    },
    {
      name: 'commands-not-from-below',
      severity: 'error',
      comment: 'Only the CLI and other commands import a command.',
      from: { path: '^src/', pathNot: ['^src/commands/', '^src/cli\\.ts$'] },
      to: { path: '^src/commands/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
