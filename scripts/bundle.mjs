// Bundle the CLI (settings in bundle-options.mjs, shared with the cold-start bench's baseline).
import { build } from 'esbuild';
import { bundleOptions } from './bundle-options.mjs';

// `inject`: the modules every command loads at start share one chunk (see start-path.mjs). Only
// for this build: the cold-start bench's baseline is one file already.
await build({ ...bundleOptions, entryPoints: ['src/cli.ts'], outdir: 'dist', inject: ['scripts/start-path.mjs'] });
