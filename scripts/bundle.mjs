// Bundle the CLI into one file: loading ~200 small ESM modules (MCP SDK, zod) dominated cold
// start. Packages that load native code or WASM next to themselves, and the heavy API clients
// that tools import lazily, stay external.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/cli.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external: ['better-sqlite3', 'quickjs-emscripten', '@jitl/*', '@gitbeaker/rest', 'jira.js', '@kubernetes/client-node', 'yaml', 'simple-git'],
  // Bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
});
