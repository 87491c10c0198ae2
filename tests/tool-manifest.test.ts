import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, describe, expect, it } from 'vitest';
import { MANIFEST_FILE, STARTUP_MANIFEST, manifestOfModules } from '../src/tools/manifest.js';
import { TOOL_MODULES } from '../src/tools/modules.js';
import { ALL_TOOLS, ToolCatalog, listedSchemasOf } from '../src/tools/index.js';
import { connect, errorOf, tempDir, testRuntime } from './helpers/harness.js';

const ROOT = process.cwd();
const CLI = join(ROOT, 'dist', 'cli.js');
const MODULE_LOG_HOOK = pathToFileURL(join(ROOT, 'tests', 'fixtures', 'module-log', 'register.mjs')).href;

/** The manifest entry of a tool as its zod schemas give it. */
function expectedEntry(name: string, module: string) {
  const tool = ALL_TOOLS.find((t) => t.name === name)!;
  return {
    name: tool.name,
    family: tool.family,
    module,
    title: tool.title,
    description: tool.description,
    annotations: tool.annotations,
    ...listedSchemasOf(tool),
  };
}

describe('tool manifest', () => {
  it('lists every tool of ALL_TOOLS, in its order, each under the module that defines it, as its zod schemas give it', async () => {
    expect(STARTUP_MANIFEST.map((e) => e.name)).toEqual(ALL_TOOLS.map((t) => t.name));
    for (const entry of STARTUP_MANIFEST) {
      const defined = await TOOL_MODULES[entry.module as keyof typeof TOOL_MODULES]();
      expect(defined.map((t) => t.name), entry.name).toContain(entry.name);
      expect(entry).toEqual(expectedEntry(entry.name, entry.module));
    }
  });

  it('is what the build wrote into dist (run npm run build when this fails after a schema change)', async () => {
    const built = JSON.parse(readFileSync(join(ROOT, 'dist', MANIFEST_FILE), 'utf8')) as unknown;
    expect(built).toEqual(await manifestOfModules());
  });
});

describe('lazy tool modules (in process)', () => {
  it('answers tools/list exactly as the tools themselves would, without importing a module; a call imports its module only', async () => {
    const lazy = testRuntime();
    const eager = testRuntime({ tools: ALL_TOOLS });
    const a = await connect(lazy, { persona: 'developer' });
    const b = await connect(eager, { persona: 'developer' });
    try {
      const listed = await a.client.listTools();
      expect(listed.tools.length).toBeGreaterThan(10);
      expect(listed).toEqual(await b.client.listTools());
      expect(lazy.catalog.importedModules).toEqual([]);

      const personas = await a.call('persona_list');
      expect(personas.isError).toBeFalsy();
      expect(lazy.catalog.importedModules).toEqual(['meta']);

      // Validation still uses the zod schema, loaded with the module: same error as the eager catalog.
      const bad = await a.call('git_status', { repo: 42, branch: 'main' });
      expect(errorOf(bad)).toEqual(errorOf(await b.call('git_status', { repo: 42, branch: 'main' })));
      expect(errorOf(bad).code).toBe('invalid_input');
      expect(lazy.catalog.importedModules).toEqual(['meta', 'git']);
    } finally {
      await a.close();
      await b.close();
      lazy.close();
      eager.close();
    }
  });

  it('reports a module that fails to import as a failed call, and imports it again at the next call', async () => {
    let attempts = 0;
    const manifest = STARTUP_MANIFEST.filter((e) => e.module === 'meta');
    const catalog = ToolCatalog.lazy(manifest, {
      meta: async () => {
        attempts += 1;
        if (attempts === 1) throw new Error('Cannot find module ./chunks/meta.js');
        return TOOL_MODULES.meta();
      },
    });
    await expect(catalog.load('persona_list')).rejects.toThrow(/Cannot find module/);
    expect(catalog.importedModules).toEqual([]);
    expect((await catalog.load('persona_list')).name).toBe('persona_list');
    expect(catalog.importedModules).toEqual(['meta']);
    expect(attempts).toBe(2);
  });

  it('refuses a manifest naming a tool its module does not define (a stale build) with an internal error', async () => {
    const [entry] = STARTUP_MANIFEST.filter((e) => e.module === 'meta');
    const catalog = ToolCatalog.lazy([{ ...entry!, name: 'meta_ghost' }], { meta: TOOL_MODULES.meta });
    await expect(catalog.load('meta_ghost')).rejects.toMatchObject({ code: 'internal', message: expect.stringMatching(/does not define meta_ghost/) });
  });
});

describe('lazy tool modules (node dist/cli.js serve)', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  /** Files of dist/ the server process has loaded so far, with the source sections esbuild marks in them. */
  function loadedSources(log: string): string[] {
    const urls = new Set(readFileSync(log, 'utf8').split('\n').filter((u) => u.startsWith('file:') && u.includes('/dist/')));
    return [...urls].flatMap((url) => [...readFileSync(new URL(url), 'utf8').matchAll(/^\/\/ (src\/\S+|node_modules\/\S+)$/gm)].map((m) => m[1]!));
  }

  it('loads no tool module and no client library until a tool is called, then only that tool module', async () => {
    const log = join(dir.path, 'modules.log');
    const configPath = join(dir.path, 'config.json');
    writeFileSync(configPath, JSON.stringify({ default_persona: 'developer' }));
    writeFileSync(log, '');
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', MODULE_LOG_HOOK, CLI, 'serve', '--config', configPath, '--memory', join(dir.path, 'memory.db')],
      env: { ...process.env, RELEASE_MCP_MODULE_LOG: log } as Record<string, string>,
      stderr: 'pipe',
    });
    const client = new Client({ name: 'module-log', version: '1.0.0' });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('git_status');
      const atStart = loadedSources(log);
      expect(atStart).toContain('src/server/mcp.ts'); // the log does see the bundle's chunks
      const toolModules = Object.keys(TOOL_MODULES).map((m) => `src/tools/${m}.ts`);
      expect(atStart.filter((s) => toolModules.includes(s) || s.startsWith('src/integrations/') || s.startsWith('src/git/'))).toEqual([]);
      const libraries = readFileSync(log, 'utf8');
      for (const library of ['@gitbeaker', 'jira.js', '@kubernetes/client-node', 'simple-git', 'quickjs-emscripten', 'pg/', 'libpg-query']) expect(libraries).not.toContain(`/node_modules/${library}`);

      const result = await client.callTool({ name: 'git_status', arguments: { repo: 'nowhere' } });
      expect(result.isError).toBe(true); // no such repository; what matters is which modules it loaded
      const afterCall = loadedSources(log);
      expect(afterCall).toContain('src/tools/git.ts');
      expect(afterCall.filter((s) => toolModules.includes(s) && s !== 'src/tools/git.ts')).toEqual([]);
    } finally {
      await client.close();
    }
  });
});
