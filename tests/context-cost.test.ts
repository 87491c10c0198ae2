import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceUris } from '../src/resources/uris.js';
import { ALL_TOOLS, ToolCatalog } from '../src/tools/index.js';
import { listedAnnotations, listedInputSchema, listedOutputSchema } from '../src/tools/listing.js';
import { connect, runOf, tempDir, testRuntime, textOf, type ConnectedClient } from './helpers/harness.js';
import { bundle, ledgerConfig } from './releases/fixtures.js';
import { skillHarness, type SkillHarness } from './skills/fixtures.js';

/**
 * What release-mcp costs an assistant's context: the tool list it publishes and the results it
 * returns (bench/context.ts measures the same over stdio).
 */

/**
 * Bytes of the release persona's tools/list: 132,696 when it listed all 67 tools in full; the target
 * is 40 KiB (a lean listing, and the persona holding what a release engineer drives by hand).
 */
const RELEASE_TOOLS_LIST_MAX_BYTES = 40 * 1024;

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');
const full = new ToolCatalog(ALL_TOOLS);
const HINT_DEFAULTS = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true };

/** The descriptions of every property, by JSON pointer, of a schema. */
function fieldDescriptions(schema: unknown, at = ''): Record<string, string> {
  if (!schema || typeof schema !== 'object') return {};
  const node = schema as Record<string, unknown>;
  const found: Record<string, string> = at && typeof node.description === 'string' ? { [at]: node.description } : {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'properties' && value && typeof value === 'object') {
      for (const [name, sub] of Object.entries(value)) Object.assign(found, fieldDescriptions(sub, `${at}/${name}`));
    } else if (key !== 'description' && value && typeof value === 'object') Object.assign(found, fieldDescriptions(value, `${at}/${key}`));
  }
  return found;
}

describe('listed schemas', () => {
  it('leave out the server\'s guards and keep what says what to send, at every depth', () => {
    const safe = Number.MAX_SAFE_INTEGER;
    const full = {
      type: 'object' as const,
      properties: {
        sha: { type: 'string', pattern: '^[0-9a-f]{40}$', minLength: 40, maxLength: 40 },
        repo: { type: 'string', pattern: '^[^-]', maxLength: 1000, description: 'A configured repository' },
        limit: { type: 'integer', minimum: 1, maximum: 500, default: 20 },
        count: { type: 'integer', minimum: -safe, maximum: safe },
        labels: { type: 'object', propertyNames: { type: 'string' }, additionalProperties: { type: 'string', maxLength: 50 } },
        steps: { type: 'array', maxItems: 100, items: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'object', properties: { name: { type: 'string', maxLength: 64, pattern: '^[a-z]+$' } }, required: ['name'] }] } },
      },
      required: ['sha'],
    };
    expect(listedInputSchema(full)).toEqual({
      type: 'object',
      properties: {
        sha: { type: 'string', pattern: '^[0-9a-f]{40}$' },
        repo: { type: 'string', description: 'A configured repository' },
        limit: { type: 'integer', minimum: 1, maximum: 500, default: 20 },
        count: { type: 'integer' },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        steps: { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'object', properties: { name: { type: 'string', pattern: '^[a-z]+$' } }, required: ['name'] }] } },
      },
      required: ['sha'],
    });
    expect(listedOutputSchema({ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] })).toEqual({ type: 'object', required: ['a'] });
    expect(listedOutputSchema({ type: 'object', properties: {} })).toEqual({ type: 'object' });
    expect(listedAnnotations({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true })).toEqual({ readOnlyHint: true, destructiveHint: false, idempotentHint: true });
    expect(listedAnnotations({ readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true })).toEqual({});
  });
});

describe('tools/list', () => {
  it(`of the release persona, through a real client, is at most ${RELEASE_TOOLS_LIST_MAX_BYTES} bytes and keeps what a model needs to pick and call each tool`, async () => {
    const runtime = testRuntime();
    const release = await connect(runtime, { persona: 'release' });
    const mcp = await connect(runtime, { persona: 'all' });
    try {
      expect(bytes(await release.client.listTools())).toBeLessThanOrEqual(RELEASE_TOOLS_LIST_MAX_BYTES);
      // Every tool's listing, as the persona with all of them shows it.
      const listed = await mcp.client.listTools();
      expect(listed.tools).toHaveLength(ALL_TOOLS.length);
      for (const tool of listed.tools) {
        const definition = ALL_TOOLS.find((t) => t.name === tool.name)!;
        const input = full.inputSchema(tool.name);
        expect(tool.description, tool.name).toBe(definition.description);
        expect(tool.title, tool.name).toBe(definition.title);
        // Every argument, whether it is required, and every field description is still there.
        expect(Object.keys(tool.inputSchema.properties ?? {}), tool.name).toEqual(Object.keys(input.properties ?? {}));
        expect(tool.inputSchema.required ?? [], tool.name).toEqual(input.required ?? []);
        expect(fieldDescriptions(tool.inputSchema), tool.name).toEqual(fieldDescriptions(input));
        // A hint left out is the protocol's default, and that is the tool's own hint.
        expect({ ...HINT_DEFAULTS, ...tool.annotations }, tool.name).toEqual(definition.annotations);
        expect(JSON.stringify(tool.inputSchema), tool.name).not.toMatch(/"(maxLength|\$schema)"|9007199254740991/);
      }
    } finally {
      await release.close();
      await mcp.close();
      runtime.close();
    }
  });
});

describe('tool results', () => {
  let dir: ReturnType<typeof tempDir>;
  let h: SkillHarness;
  let mcp: ConnectedClient;
  const listedOutput = new Map<string, object>();
  const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true });

  beforeAll(async () => {
    dir = tempDir();
    h = skillHarness({ config: ledgerConfig(dir.path), memoryPath: join(dir.path, 'memory.db') });
    h.write('look_then_write', 'name: look_then_write\ndescription: reads, then changes something\nsteps:\n  - name: look\n    tool: test_echo\n    args: { text: hello }\n    output: seen\n  - name: write\n    tool: test_mutate\n    args: { item: "{{ seen.text }}" }\n');
    h.write('always_fails', 'name: always_fails\ndescription: a step that keeps failing\nsteps:\n  - name: flaky\n    tool: test_flaky\n    args: { key: always, code: upstream, times: 99, message: "registry answered 502" }\n');
    mcp = await connect(h.runtime, { persona: 'all' });
    for (const tool of (await mcp.client.listTools()).tools) if (tool.outputSchema) listedOutput.set(tool.name, tool.outputSchema);
  });
  afterAll(async () => {
    await mcp.close();
    h.close();
    dir.cleanup();
  });

  /** The structured result checked with ajv against the listed output schema (what a client checks) and the full one. */
  function expectValid(name: string, result: CallToolResult): void {
    expect(result.structuredContent, name).toBeDefined();
    for (const [which, schema] of [
      ['listed', listedOutput.get(name)!],
      ['full', full.outputSchema(name)],
    ] as const) {
      const validate = ajv.compile(schema);
      expect(validate(result.structuredContent), `${name} (${which} schema): ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
  }

  /** Representative successful calls of the release persona: lists, a plan, a run, a release. */
  async function successfulCalls(): Promise<Array<[string, CallToolResult]>> {
    const calls: Array<[string, Record<string, unknown>]> = [
      ['persona_list', {}],
      ['skill_list', {}],
      ['skill_describe', { name: 'look_then_write' }],
      ['skill_plan', { name: 'look_then_write' }],
      ['skill_run', { name: 'look_then_write' }],
      ['memory_append', { key: 'state/releases', list: 'history', item: { sha: 'abc', ok: true } }],
      ['memory_read', { key: 'state/releases' }],
      ['learn_tool_fix', { tool_name: 'quay_get_tag', error_pattern: 'no such tag', root_cause: 'the build has not pushed yet', fix_description: 'wait for the Konflux build' }],
      ['check_known_issues', { tool_name: 'quay_get_tag', error_text: 'quay said: no such tag' }],
      ['release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle([{ operation: 'add_column', table: 'users', column: { name: 'plan', type: 'TEXT', default: 'basic' } }], { new_ui: true }) }],
      ['release_list', {}],
      ['release_events', {}],
    ];
    const results: Array<[string, CallToolResult]> = [];
    for (const [name, args] of calls) {
      const result = await mcp.call(name, args);
      expect(result.isError, `${name}: ${textOf(result)}`).toBeFalsy();
      results.push([name, result]);
    }
    const prepared = results.find(([name]) => name === 'release_prepare')![1].structuredContent as { id: string };
    results.push(['release_get', await mcp.call('release_get', { release_id: prepared.id })]);
    return results;
  }

  it('validate against their output schemas with ajv, the listed and the full one, also a failed skill run', async () => {
    for (const [name, result] of await successfulCalls()) expectValid(name, result);
    const failed = await mcp.call('skill_run', { name: 'always_fails' });
    expect(failed.isError).toBe(true);
    expect(runOf(failed).status).toBe('failed');
    expectValid('skill_run', failed);
    // The listed schema is not a blank: a record without a field every result carries is refused.
    const { run_id: _dropped, ...withoutId } = runOf(failed);
    expect(ajv.compile(listedOutput.get('skill_run')!)(withoutId)).toBe(false);
  });

  it('carry the data once: the text is the report, with no JSON copy of structuredContent', async () => {
    for (const [name, result] of await successfulCalls()) {
      const text = textOf(result);
      expect(text, name).not.toContain(JSON.stringify(result.structuredContent));
      // The old format appended the data as one JSON line after the report.
      const lastLine = text.trimEnd().split('\n').at(-1)!;
      expect(() => JSON.parse(lastLine) as unknown, `${name}: ${lastLine}`).toThrow();
      expect(text, name).not.toMatch(/succeeded$/);
      expect(result.content.filter((c) => c.type === 'text'), name).toHaveLength(1);
    }
    // A run's markdown report is its text, and only there.
    const plan = await mcp.call('skill_plan', { name: 'look_then_write' });
    expect(textOf(plan)).toMatch(/^## look_then_write v1: planned/);
    expect(textOf(plan)).toContain(runOf(plan).run_id);
    expect(plan.structuredContent).not.toHaveProperty('report');
    expect(runOf(plan)).toMatchObject({ status: 'planned', steps: [{ name: 'look', status: 'succeeded' }, { name: 'write', status: 'planned' }] });
    const prepared = await mcp.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle([{ operation: 'add_column', table: 'users', column: { name: 'tier', type: 'TEXT' } }]) });
    expect(textOf(prepared)).toMatch(/1\. add_column users: dry run ok; reversible/);
  });

  it('link the full record: skill runs and plans their run, release results their release', async () => {
    const links = (result: CallToolResult) => result.content.filter((c) => c.type === 'resource_link');
    const run = await mcp.call('skill_run', { name: 'look_then_write' });
    expect(links(run)).toEqual([
      { type: 'resource_link', uri: resourceUris.run(runOf(run).run_id), name: runOf(run).run_id, mimeType: 'application/json', description: expect.stringContaining('run of look_then_write (succeeded, 2 steps)') },
    ]);
    const plan = await mcp.call('skill_plan', { name: 'look_then_write' });
    expect(links(plan).map((l) => l.type === 'resource_link' && l.uri)).toEqual([resourceUris.run(runOf(plan).run_id)]);
    const failed = await mcp.call('skill_run', { name: 'always_fails' });
    expect(failed.isError).toBe(true);
    expect(links(failed).map((l) => l.type === 'resource_link' && l.uri)).toEqual([resourceUris.run(runOf(failed).run_id)]);

    const prepared = await mcp.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle([]) });
    const { id } = prepared.structuredContent as { id: string };
    expect(id).toMatch(/^rel_/);
    expect(links(prepared)).toEqual([{ type: 'resource_link', uri: resourceUris.release(id), name: id, mimeType: 'application/json', description: expect.stringContaining(`Release manifest ${id} (dev -> staging, prepared)`) }]);
    const got = await mcp.call('release_get', { release_id: id });
    expect(links(got).map((l) => l.type === 'resource_link' && l.uri)).toEqual([resourceUris.release(id)]);
    // A result that stands for no record links none.
    expect(links(await mcp.call('release_list', {}))).toEqual([]);
  });
});
