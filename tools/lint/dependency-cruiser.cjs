// Parley's boundary rules (docs/architecture.md), checked by dependency-cruiser over the product's
// import graph. `npm run lint` runs them (tools/lint/run.mjs); so does `npm test` (the lint project).
// Paths are relative to the repository root. Cycles between features, a folder-level rule that
// dependency-cruiser cannot express, are found by tools/lint/feature-cycles.mjs on this graph.
// Type-only imports count everywhere: they couple files just as much, and the web app's one
// allowance (types from @parley/wire) is spelled out below.
const server = '^packages/server/src/';
const feature = `${server}features/`;
const wire = ['^packages/wire/', '^@parley/wire($|/)'];
const fakeLlm = ['^packages/fake-llm/', '^@parley/fake-llm($|/)'];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-file-cycle',
      comment: 'No import cycles between files: a cycle makes load order matter and hides which module owns what.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'platform-not-to-features-or-http',
      comment: 'platform/ is infrastructure: it knows neither features nor HTTP.',
      severity: 'error',
      from: { path: `${server}platform/` },
      to: { path: [`${server}features/`, `${server}http/`] },
    },
    {
      name: 'http-not-to-features',
      comment: 'http/ (errors, guards, request context, SSE framing) serves every feature and so imports none.',
      severity: 'error',
      from: { path: `${server}http/` },
      to: { path: feature },
    },
    {
      name: 'feature-through-service-only',
      comment: 'A feature reaches another feature only through its service, features/B/B.service.ts (never its repo, presenter or writers).',
      severity: 'error',
      from: { path: `${feature}([^/]+)/` },
      to: { path: feature, pathNot: [`${feature}$1/`, `${feature}([^/]+)/\\1\\.service\\.ts$`] },
    },
    {
      name: 'web-only-over-http',
      comment: 'The web app reaches the server only over HTTP: it imports neither the server nor the fake model server.',
      severity: 'error',
      from: { path: '^packages/web/src/' },
      to: { path: ['^packages/server/', '^@parley/server($|/)', ...fakeLlm] },
    },
    {
      name: 'web-wire-types-only',
      comment: 'From @parley/wire the web app imports types only (`import type`), so no server code can ride along.',
      severity: 'error',
      from: { path: '^packages/web/src/' },
      to: { path: wire, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'product-not-to-fake-llm',
      comment: 'The product never imports the fake model server; only tests, benchmarks and the demo do.',
      severity: 'error',
      from: { path: ['^packages/server/src/', '^packages/web/src/'] },
      to: { path: fakeLlm },
    },
  ],
  options: {
    // The product's source; tests may use anything (the fake model server, the server's internals).
    includeOnly: ['^packages/(server|web|fake-llm|wire)/', '^@parley/'],
    exclude: { path: ['\\.test\\.tsx?$', '/node_modules/', '/dist/'] },
    doNotFollow: { path: ['node_modules'] },
    // Needed to see `import type` (and so to tell web's type-only wire imports apart).
    tsPreCompilationDeps: true,
    // The workspace packages' `types` condition points at their TypeScript source.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['types', 'import', 'node', 'default'] },
    skipAnalysisNotInRules: true,
  },
};
