import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the package's own files are, whether this code runs from src/ (tests, tsx), from the
 * tsc output in dist/, or from the single-file bundle dist/cli.js.
 */
function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'release-mcp') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the release-mcp package root above ${start}`);
    dir = parent;
  }
}

const here = fileURLToPath(import.meta.url);

export const PACKAGE_ROOT = findPackageRoot(dirname(here));

/** True when running built code (dist/); false from the TypeScript sources. */
export const RUNNING_FROM_DIST = here.startsWith(join(PACKAGE_ROOT, 'dist'));

/** A folder of assets shipped beside the code (`personas/builtin`, `skills/builtin`). */
export function assetPath(relative: string): string {
  return join(PACKAGE_ROOT, RUNNING_FROM_DIST ? 'dist' : 'src', relative);
}

/** Files the build writes (dist/tool-manifest.json); undefined when running from sources. */
export function buildArtifact(name: string): string | undefined {
  if (!RUNNING_FROM_DIST) return undefined;
  const path = join(PACKAGE_ROOT, 'dist', name);
  return existsSync(path) ? path : undefined;
}
