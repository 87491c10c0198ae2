import { readFileSync } from 'node:fs';
import { buildArtifact } from '../paths.js';
import { TOOL_MODULES } from './modules.js';
import { listedSchemasOf, type AnyToolDefinition, type ToolManifestEntry, type ToolModules } from './registry.js';

/** The file the build writes into dist/ (scripts/copy-assets.mjs). */
export const MANIFEST_FILE = 'tool-manifest.json';

/**
 * The tool list as tools/list publishes it (the listed schemas of src/tools/listing.ts),
 * computed from the tools' zod schemas: the zod schemas stay the one source of truth, and the build writes this so that a server can list
 * its tools without importing any tool module.
 */
export function toolManifest(modules: ReadonlyArray<readonly [module: string, tools: readonly AnyToolDefinition[]]>): ToolManifestEntry[] {
  return modules.flatMap(([module, tools]) =>
    tools.map((tool) => ({
      name: tool.name,
      family: tool.family,
      module,
      title: tool.title,
      description: tool.description,
      annotations: tool.annotations,
      ...listedSchemasOf(tool),
    })),
  );
}

/** Import every tool module and compute the manifest of them all (the build does this). */
export async function manifestOfModules(modules: ToolModules = TOOL_MODULES): Promise<ToolManifestEntry[]> {
  const loaded = await Promise.all(Object.entries(modules).map(async ([module, load]) => [module, await load()] as const));
  return toolManifest(loaded);
}

/** The manifest the build wrote beside the code; undefined when running from the sources. */
export function builtManifest(): ToolManifestEntry[] | undefined {
  const file = buildArtifact(MANIFEST_FILE);
  return file ? (JSON.parse(readFileSync(file, 'utf8')) as ToolManifestEntry[]) : undefined;
}

/**
 * What a server starts from: the build's manifest, or from the sources (tests, tsx) the same
 * list computed here from the zod schemas, which imports every module once.
 */
export const STARTUP_MANIFEST: readonly ToolManifestEntry[] = builtManifest() ?? (await manifestOfModules());
