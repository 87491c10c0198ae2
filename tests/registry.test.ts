import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ALL_TOOLS, ToolCatalog, defineTool } from '../src/tools/index.js';
import { listedAnnotations } from '../src/tools/listing.js';
import { loadPersonas } from '../src/personas/index.js';

const catalog = new ToolCatalog(ALL_TOOLS);

describe('tool registry', () => {
  it('gives every tool a unique snake_case name with its family prefix, a title and a description', () => {
    const names = ALL_TOOLS.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const tool of ALL_TOOLS) {
      expect(tool.name).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)+$/);
      expect(tool.family).toMatch(/^[a-z]+$/);
      expect(tool.title.length).toBeGreaterThan(3);
      expect(tool.description.length).toBeGreaterThan(10);
    }
  });

  it('has every tool declare all four annotation hints', () => {
    for (const tool of ALL_TOOLS) {
      for (const hint of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const) {
        expect(typeof tool.annotations[hint], `${tool.name}.${hint}`).toBe('boolean');
      }
      if (tool.annotations.readOnlyHint) expect(tool.annotations.destructiveHint, `${tool.name} is read-only yet destructive`).toBe(false);
    }
  });

  it('publishes object input schemas without a top-level anyOf/oneOf', () => {
    for (const tool of ALL_TOOLS) {
      const schema = catalog.inputSchema(tool.name);
      expect(schema.type, tool.name).toBe('object');
      expect(schema).not.toHaveProperty('anyOf');
      expect(schema).not.toHaveProperty('oneOf');
      expect(catalog.outputSchema(tool.name).type, tool.name).toBe('object');
    }
  });

  it('matches the committed snapshot of every tool schema', async () => {
    for (const tool of ALL_TOOLS) {
      const snapshot = { name: tool.name, family: tool.family, annotations: tool.annotations, input: catalog.inputSchema(tool.name), output: catalog.outputSchema(tool.name) };
      await expect(`${JSON.stringify(snapshot, null, 2)}\n`).toMatchFileSnapshot(`./__snapshots__/schemas/${tool.name}.json`);
    }
  });

  it('matches the committed snapshot of what tools/list publishes of every tool (the listed schemas and hints)', async () => {
    const listed = ALL_TOOLS.map((tool) => ({ name: tool.name, annotations: listedAnnotations(tool.annotations), ...catalog.listedSchemas(tool.name) }));
    await expect(`${JSON.stringify(listed, null, 1)}\n`).toMatchFileSnapshot('./__snapshots__/tools-list.json');
  });

  it('is referenced by personas only through tools and families that exist', () => {
    const personas = loadPersonas();
    for (const persona of personas.values()) {
      for (const family of persona.families) expect(catalog.families.has(family), `${persona.name}: ${family}`).toBe(true);
      for (const tool of persona.tools) expect(catalog.get(tool), `${persona.name}: ${tool}`).toBeDefined();
    }
  });

  it('coerces strings an assistant sends for numbers, booleans and lists, and names each bad field', () => {
    const probe = new ToolCatalog([
      defineTool({
        name: 'probe_args',
        family: 'probe',
        title: 'Probe',
        description: 'test tool for coercion',
        input: z.object({ n: z.number().int(), flag: z.boolean(), labels: z.array(z.string()), nested: z.object({ k: z.number() }).optional() }),
        output: z.object({}),
        annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
        handler: () => ({}),
      }),
    ]);
    expect(probe.parseArgs('probe_args', { n: '5', flag: 'true', labels: 'release, production', nested: { k: '2.5' } })).toEqual({
      n: 5,
      flag: true,
      labels: ['release', 'production'],
      nested: { k: 2.5 },
    });
    expect(probe.parseArgs('probe_args', { n: 1, flag: 'FALSE', labels: '["a"]' })).toMatchObject({ flag: false, labels: ['a'] });
    expect(() => probe.parseArgs('probe_args', { n: 'five', labels: [] })).toThrow(/n: expected number.*flag: required/);
    // An argument the tool does not have is refused by name, never silently dropped.
    expect(() => probe.parseArgs('probe_args', { n: 1, flag: true, labels: [], target: 'main' })).toThrow(/target: unknown argument \(expected one of: n, flag, labels, nested\)/);
  });
});
