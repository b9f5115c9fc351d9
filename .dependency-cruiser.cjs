/** Module boundaries of src/ (architecture.md "Boundaries"), checked in CI by `npm run lint:boundaries`. */
module.exports = {
  forbidden: [
    {
      name: 'module-internals',
      comment: "A module imports another module only through that module's index.ts, its public surface.",
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/[^/]+/', pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/index\\.ts$'] },
    },
    {
      name: 'app-uses-module-surface',
      comment: 'The app, plugins, CLI and database bootstrap reach modules only through their index.ts.',
      severity: 'error',
      from: { path: '^src/(app\\.ts|server\\.ts|plugins/|cli/|db/)' },
      to: { path: '^src/modules/[^/]+/', pathNot: '^src/modules/[^/]+/index\\.ts$' },
    },
    {
      name: 'lib-is-a-leaf',
      comment: 'src/lib imports nothing from modules, plugins or the app.',
      severity: 'error',
      from: { path: '^src/lib/' },
      to: { path: '^src/(modules/|plugins/|app\\.ts|server\\.ts|cli/)' },
    },
    {
      name: 'no-tables-in-services-or-plugins',
      comment: 'All SQL lives in repositories (and lib): services and plugins never import table objects.',
      severity: 'error',
      from: { path: '(^src/modules/[^/]+/[^/]+\\.service\\.ts$|^src/plugins/|^src/modules/[^/]+/[^/]+\\.routes\\.ts$|^src/modules/[^/]+/[^/]+\\.resolvers\\.ts$)' },
      to: { path: '^src/db/schema/' },
    },
    {
      name: 'no-circular',
      comment: 'No import circles inside src/.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
