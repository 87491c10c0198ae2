// The esbuild settings of the CLI bundle, shared with the cold-start bench so its baseline is
// bundled exactly the same way.
// Loading ~200 small ESM modules (MCP SDK, zod) dominated cold start. Code that only some
// commands need (the HTTP server) is split into chunks loaded on demand. Packages that load
// native code or WASM next to themselves, and the API clients that tools import lazily, stay
// external.

/** @type {import('esbuild').BuildOptions} */
export const bundleOptions = {
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external: [
    'better-sqlite3',
    'quickjs-emscripten',
    '@jitl/*',
    '@gitbeaker/rest',
    '@gitbeaker/requester-utils',
    'jira.js',
    '@kubernetes/client-node',
    'yaml',
    'simple-git',
    // libpg-query finds its WASM file through __dirname; pg has an optional native binding.
    'libpg-query',
    'pg',
    'pg-native',
  ],
  // Bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
};
