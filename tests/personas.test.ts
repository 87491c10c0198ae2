import { describe, expect, it } from 'vitest';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { connect, errorOf, testRuntime } from './helpers/harness.js';
import { checkPersonas, loadPersonas, selectTools } from '../src/personas/index.js';

describe('personas', () => {
  it('switches the tool list and notifies the client with list_changed', async () => {
    const runtime = testRuntime({ persona: 'core' });
    const c = await connect(runtime);
    const notified: string[] = [];
    c.client.setNotificationHandler(ToolListChangedNotificationSchema, async (n) => {
      notified.push(n.method);
    });
    const before = (await c.client.listTools()).tools.map((t) => t.name);
    expect(before).toContain('persona_load');
    expect(before).not.toContain('memory_append');

    const loaded = await c.call('persona_load', { persona: 'developer' });
    expect(loaded.isError).toBeFalsy();
    expect(loaded.structuredContent).toMatchObject({ persona: 'developer', previous: 'core' });
    await new Promise((r) => setTimeout(r, 20));
    expect(notified).toEqual(['notifications/tools/list_changed']);
    const after = (await c.client.listTools()).tools.map((t) => t.name);
    expect(after).toContain('memory_append');
    expect(after.length).toBeGreaterThan(before.length);
    expect((loaded.structuredContent as { tools: string[] }).tools.sort()).toEqual([...after].sort());

    const list = await c.call('persona_list');
    expect(list.structuredContent).toMatchObject({ active: 'developer' });
    await c.close();
    runtime.close();
  });

  it('counts the tools of each persona as the session sees them, read-only sessions apart, on every call', async () => {
    const runtime = testRuntime({ persona: 'core' });
    const core = runtime.personas.get('core')!;
    const expected = (readOnly: boolean) =>
      Object.fromEntries([...runtime.personas.values()].map((p) => [p.name, selectTools(runtime.catalog.all, { core, persona: p, readOnly }).length]));
    const counts = (r: Awaited<ReturnType<typeof writer.call>>) => Object.fromEntries((r.structuredContent as { personas: Array<{ name: string; tool_count: number }> }).personas.map((p) => [p.name, p.tool_count]));
    const writer = await connect(runtime);
    const reader = await connect(runtime, { readOnly: true });
    // The read-only view hides write tools: the two counts must differ somewhere, or this test proves nothing.
    expect(expected(true)).not.toEqual(expected(false));
    for (let i = 0; i < 2; i++) {
      expect(counts(await writer.call('persona_list'))).toEqual(expected(false));
      expect(counts(await reader.call('persona_list'))).toEqual(expected(true));
    }
    await writer.call('persona_load', { persona: 'developer' });
    const afterLoad = await writer.call('persona_list');
    expect(afterLoad.structuredContent).toMatchObject({ active: 'developer' });
    expect(counts(afterLoad)).toEqual(expected(false));
    // The visibility check follows the persona: a developer tool is callable now, hidden again back in core.
    expect((await writer.call('memory_append', { key: 'k', list: 'l', item: 1 })).isError).toBeFalsy();
    expect(errorOf(await reader.call('memory_append', { key: 'k', list: 'l', item: 1 })).code).toBe('not_found');
    await writer.call('persona_load', { persona: 'core' });
    expect(errorOf(await writer.call('memory_append', { key: 'k', list: 'l', item: 1 })).code).toBe('not_found');
    await writer.close();
    await reader.close();
    runtime.close();
  });

  it('refuses a hidden tool exactly like an unknown one', async () => {
    const runtime = testRuntime({ persona: 'core' });
    const c = await connect(runtime);
    const hidden = await c.call('memory_append', { key: 'k', list: 'l', item: 1 });
    const unknown = await c.call('no_such_tool', {});
    expect(errorOf(hidden).code).toBe('not_found');
    expect(errorOf(hidden).message.replace('memory_append', 'X')).toBe(errorOf(unknown).message.replace('no_such_tool', 'X'));
    expect(runtime.memory.db.prepare('SELECT count(*) AS n FROM kv_items').get()).toEqual({ n: 0 });
    await c.close();
    runtime.close();
  });

  it('fails an unknown persona with the list of known ones, at start and at persona_load', async () => {
    expect(() => testRuntime({ persona: 'nope' })).toThrow(/unknown persona "nope"; known personas: all, core, developer, devops, release/);
    const runtime = testRuntime();
    const c = await connect(runtime);
    const result = await c.call('persona_load', { persona: 'nope' });
    expect(errorOf(result).message).toMatch(/known personas: all, core/);
    expect(c.session.persona).toBe('release');
    await c.close();
    runtime.close();
  });

  it('read-only mode hides and refuses every tool that is not read-only', async () => {
    const runtime = testRuntime({ readOnly: true });
    const c = await connect(runtime);
    const { tools } = await c.client.listTools();
    expect(tools.length).toBeGreaterThan(2);
    for (const tool of tools) expect(tool.annotations?.readOnlyHint, tool.name).toBe(true);
    const refused = await c.call('memory_session_log', { action: 'x' });
    expect(errorOf(refused)).toMatchObject({ code: 'not_found', message: 'unknown tool: memory_session_log' });
    expect(runtime.memory.db.prepare('SELECT count(*) AS n FROM session_log').get()).toEqual({ n: 0 });
    await c.close();
    runtime.close();
  });

  it('rejects a persona that names a missing tool or family', () => {
    const personas = new Map(loadPersonas());
    personas.set('broken', { name: 'broken', description: 'x', families: ['nofamily'], tools: ['no_tool'], skills: [] });
    expect(() => checkPersonas(personas, new Set(['persona_list']), new Set(['memory']))).toThrow(/families\[0\]: no tool family "nofamily"[\s\S]*tools\[0\]: no tool "no_tool"/);
  });
});
