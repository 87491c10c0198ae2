// Bundle the CLI (settings in bundle-options.mjs, shared with the cold-start bench's baseline).
import { build } from 'esbuild';
import { bundleOptions } from './bundle-options.mjs';

await build({ ...bundleOptions, entryPoints: ['src/cli.ts'], outdir: 'dist' });
