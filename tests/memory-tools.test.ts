import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect, errorOf, tempDir, testRuntime, type ConnectedClient } from './helpers/harness.js';
import type { Runtime } from '../src/server/runtime.js';
import { appendItem } from '../src/memory/index.js';

describe('memory tools through an MCP client', () => {
  let runtime: Runtime;
  let c: ConnectedClient;
  let dir: ReturnType<typeof tempDir>;

  beforeEach(async () => {
    dir = tempDir();
    mkdirSync(join(dir.path, 'knowledge', 'automation-analytics-backend'), { recursive: true });
    writeFileSync(
      join(dir.path, 'knowledge', 'automation-analytics-backend', 'devops.yaml'),
      'gotchas:\n  quay:\n    - short SHAs are not tags\n  konflux: VPN required\nknown_issues:\n  - topic: quay\n    pattern: manifest unknown\n    meaning: the image was never pushed\n    fix: rebuild the component\n',
    );
    runtime = testRuntime({ config: { knowledge_dirs: [join(dir.path, 'knowledge')] }, env: { GITLAB_TOKEN: 'glpat-supersecret-123' } });
    c = await connect(runtime, { persona: 'developer' });
  });
  afterEach(async () => {
    await c.close();
    runtime.close();
    dir.cleanup();
  });

  it('returns structuredContent that validates against the published outputSchema', async () => {
    const { tools } = await c.client.listTools();
    const ajv = new Ajv({ strict: false });
    const result = await c.call('memory_session_log', { action: 'Created Konflux release', details: 'SHA abc1234' });
    expect(result.isError).toBeFalsy();
    const schema = tools.find((t) => t.name === 'memory_session_log')!.outputSchema!;
    expect(ajv.validate(schema, result.structuredContent), JSON.stringify(ajv.errors)).toBe(true);
    expect(result.structuredContent).toMatchObject({ action: 'Created Konflux release', details: 'SHA abc1234' });
  });

  it('appends to lists and reads them back in order, coercing a numeric limit sent as a string', async () => {
    await c.call('memory_append', { key: 'state/releases', list: 'release_history', item: { sha: 'a' } });
    await c.call('memory_append', { key: 'state/releases', list: 'release_history', item: { sha: 'b' } });
    const appended = await c.call('memory_append', { key: 'state/releases', list: 'other', item: 'x' });
    expect(appended.structuredContent).toMatchObject({ length: 1 });
    const read = await c.call('memory_read', { key: 'state/releases', list: 'release_history', limit: '1' });
    const lists = (read.structuredContent as { lists: Record<string, Array<{ item: unknown }>> }).lists;
    expect(Object.keys(lists)).toEqual(['release_history']);
    expect(lists.release_history!.map((i) => i.item)).toEqual([{ sha: 'b' }]);
  });

  it('pages a list from its newest items to its oldest with a cursor, giving the total', async () => {
    for (const n of [1, 2, 3, 4, 5]) await c.call('memory_append', { key: 'paged', list: 'items', item: n });
    await c.call('memory_append', { key: 'paged', list: 'other', item: 'x' });
    type Read = { lists: Record<string, Array<{ item: unknown }>>; totals: Record<string, number>; next_before: Record<string, number>; more_lists: boolean };
    const first = (await c.call('memory_read', { key: 'paged', limit: 2 })).structuredContent as Read;
    expect(first.lists).toEqual({ items: [expect.objectContaining({ item: 4 }), expect.objectContaining({ item: 5 })], other: [expect.objectContaining({ item: 'x' })] });
    expect(first.totals).toEqual({ items: 5, other: 1 });
    expect(Object.keys(first.next_before)).toEqual(['items']);
    expect(first.more_lists).toBe(false);
    const second = (await c.call('memory_read', { key: 'paged', list: 'items', limit: 2, before: first.next_before.items })).structuredContent as Read;
    expect(second.lists.items!.map((i) => i.item)).toEqual([2, 3]);
    const last = (await c.call('memory_read', { key: 'paged', list: 'items', limit: 2, before: second.next_before.items })).structuredContent as Read;
    expect(last.lists.items!.map((i) => i.item)).toEqual([1]);
    expect(last.next_before).toEqual({});
    expect(errorOf(await c.call('memory_read', { key: 'paged', before: 0 })).message).toMatch(/before: Too small/);
  });

  it('reads at most 100 lists of a key at once and says when there are more', async () => {
    for (let i = 0; i < 101; i++) await appendItem(runtime.memory, 'primary', 'wide', `list-${String(i).padStart(3, '0')}`, i);
    const read = (await c.call('memory_read', { key: 'wide', limit: 1 })).structuredContent as { lists: Record<string, unknown[]>; more_lists: boolean };
    expect(Object.keys(read.lists)).toHaveLength(100);
    expect(read.lists['list-100']).toBeUndefined();
    expect(read.more_lists).toBe(true);
    const named = (await c.call('memory_read', { key: 'wide', list: 'list-100' })).structuredContent as { lists: Record<string, Array<{ item: unknown }>>; more_lists: boolean };
    expect(named.lists['list-100']!.map((i) => i.item)).toEqual([100]);
    expect(named.more_lists).toBe(false);
  });

  it('reads a page through the (tenant, key, list, id) index and appends without counting the list', async () => {
    const plan = (sql: string) => (runtime.memory.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('t', 'k', 'l', 1, 100) as Array<{ detail: string }>).map((r) => r.detail).join('; ');
    const page = plan('SELECT id, item, created_at FROM kv_items WHERE tenant = ? AND key = ? AND list = ? AND id < ? ORDER BY id DESC LIMIT ?');
    expect(page).toMatch(/SEARCH kv_items USING INDEX kv_items_tenant_list \(tenant=\? AND key=\? AND list=\? AND id<\?\)/);
    expect(page).not.toMatch(/TEMP B-TREE|SCAN/);
    const length = runtime.memory.db.prepare("SELECT length FROM kv_lists WHERE tenant = 'primary' AND key = 'k' AND list = 'l'");
    expect(length.get()).toBeUndefined();
    for (let i = 0; i < 3; i++) await appendItem(runtime.memory, 'primary', 'k', 'l', i);
    expect(length.get()).toEqual({ length: 3 });
  });

  it('upserts learned fixes and ranks them for a matching error, saying why', async () => {
    const first = await c.call('learn_tool_fix', { tool_name: 'quay_get_tag', error_pattern: 'image not found', root_cause: 'Image not built yet', fix_description: 'Wait for the Konflux build' });
    expect(first.structuredContent).toMatchObject({ created: true, times_fixed: 1 });
    const again = await c.call('learn_tool_fix', { tool_name: 'quay_get_tag', error_pattern: 'image not found', root_cause: 'Image not built yet', fix_description: 'Wait for the Konflux build, then retry' });
    expect(again.structuredContent).toMatchObject({ created: false, times_fixed: 2 });
    await c.call('learn_tool_fix', { tool_name: 'konflux_get_component', error_pattern: 'no route to host', root_cause: 'VPN down', fix_description: 'Connect the VPN' });

    const found = await c.call('check_known_issues', { tool_name: 'quay_get_tag', error_text: 'quay_get_tag failed [not_found]: image not found for tag 0123abc' });
    const matches = (found.structuredContent as { matches: Array<{ kind: string; fix: string; why: string[] }> }).matches;
    expect(matches[0]).toMatchObject({ kind: 'learned_fix', fix: 'Wait for the Konflux build, then retry' });
    expect(matches[0]!.why.join(' ')).toMatch(/contains "image not found"/);
    expect(matches.some((m) => m.fix === 'Connect the VPN')).toBe(false);

    const byTopic = await c.call('check_known_issues', { tool_name: 'quay', error_text: 'manifest unknown' });
    expect((byTopic.structuredContent as { matches: Array<{ kind: string; fix: string }> }).matches[0]).toMatchObject({ kind: 'known_issue', fix: 'rebuild the component' });
  });

  it('refuses check_known_issues with neither tool nor error text, naming what is needed', async () => {
    const result = await c.call('check_known_issues', {});
    expect(errorOf(result)).toMatchObject({ code: 'invalid_input' });
    expect(errorOf(result).message).toMatch(/tool_name or error_text/);
  });

  it('reads knowledge by project, persona and dot path, and says what is missing', async () => {
    const found = await c.call('knowledge_query', { project: 'automation-analytics-backend', persona: 'devops', section: 'gotchas.konflux' });
    expect(found.structuredContent).toMatchObject({ content: 'VPN required' });
    const missing = await c.call('knowledge_query', { project: 'automation-analytics-backend', persona: 'devops', section: 'gotchas.nothing' });
    expect(errorOf(missing).code).toBe('not_found');
    const traversal = await c.call('knowledge_query', { project: '../etc', persona: 'devops' });
    expect(errorOf(traversal).message).toMatch(/project: expected a project name/);
    // A file beside the knowledge folder is outside it: ".." is not a project name.
    writeFileSync(join(dir.path, 'outside.yaml'), 'secret: do not read\n');
    const parent = await c.call('knowledge_query', { project: '..', persona: 'outside' });
    expect(errorOf(parent).code).toBe('invalid_input');
    expect(JSON.stringify(parent)).not.toContain('do not read');
  });

  it('rejects bad input with the field named and writes nothing', async () => {
    const result = await c.call('memory_session_log', { action: 42 });
    expect(errorOf(result)).toMatchObject({ code: 'invalid_input' });
    expect(errorOf(result).message).toMatch(/action: expected string/);
    const missing = await c.call('memory_append', { key: 'k' });
    expect(errorOf(missing).message).toMatch(/list: required/);
    const count = runtime.memory.db.prepare('SELECT (SELECT count(*) FROM session_log) + (SELECT count(*) FROM kv_items) AS n').get() as { n: number };
    expect(count.n).toBe(0);
  });

  it('never stores or returns a secret', async () => {
    const result = await c.call('memory_session_log', { action: 'pushed', details: 'token glpat-supersecret-123 used' });
    expect(JSON.stringify(result)).not.toContain('glpat-supersecret-123');
    const rows = runtime.memory.db.prepare('SELECT details FROM session_log').all() as Array<{ details: string }>;
    expect(rows[0]!.details).toBe('token [redacted] used');
  });
});

describe('learned fix patterns', () => {
  it('are plain text: a pattern that would backtrack for ever as a regular expression is matched as words, at once', async () => {
    const runtime = testRuntime();
    const c = await connect(runtime, { persona: 'developer' });
    await c.call('learn_tool_fix', { tool_name: 'git_push', error_pattern: '(a+)+$', root_cause: 'x', fix_description: 'y' });
    await c.call('learn_tool_fix', { tool_name: 'git_push', error_pattern: 'rejected non-fast-forward', root_cause: 'remote moved', fix_description: 'fetch and rebase' });
    const started = performance.now();
    const result = await c.call('check_known_issues', { tool_name: 'git_push', error_text: `${'a'.repeat(40)}! push was rejected (non-fast-forward)` });
    expect(performance.now() - started).toBeLessThan(1000);
    const matches = (result.structuredContent as { matches: Array<{ fix: string; why: string[] }> }).matches;
    expect(matches[0]).toMatchObject({ fix: 'fetch and rebase' });
    expect(matches[0]!.why.join(' ')).toMatch(/has every word of "rejected non-fast-forward"/);
    await c.close();
    runtime.close();
  });
});
