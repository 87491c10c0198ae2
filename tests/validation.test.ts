import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_STRING, overlongStrings, shortEcho } from '../src/validation.js';
import { connect, errorOf, testRuntime } from './helpers/harness.js';

const MEGABYTE = 'x'.repeat(1024 * 1024);

describe('shortEcho', () => {
  it('keeps a short value and cuts a long one to a prefix with its length', () => {
    expect(shortEcho('main')).toBe('main');
    expect(shortEcho('a'.repeat(200))).toBe(`${'a'.repeat(80)}…(200 chars)`);
  });
});

describe('overlongStrings', () => {
  const schema = {
    type: 'object',
    properties: { name: { type: 'string', maxLength: 10 }, body: { type: 'string' }, tags: { type: 'array', items: { type: 'string', maxLength: 3 } }, any: {} },
  };
  it('names each field over its own limit or the default one, at any depth, without quoting it', () => {
    const problems = overlongStrings({ name: 'n'.repeat(11), body: 'b'.repeat(DEFAULT_MAX_STRING + 1), tags: ['ok', 'long'], any: { deep: [MEGABYTE] } }, schema);
    expect(problems).toEqual([
      'name: 11 characters, over the limit of 10',
      `body: ${DEFAULT_MAX_STRING + 1} characters, over the limit of ${DEFAULT_MAX_STRING}`,
      'tags[1]: 4 characters, over the limit of 3',
      `any.deep[0]: ${MEGABYTE.length} characters, over the limit of ${DEFAULT_MAX_STRING}`,
    ]);
    expect(overlongStrings({ name: 'n'.repeat(10), body: 'b'.repeat(DEFAULT_MAX_STRING) }, schema)).toEqual([]);
  });
});

describe('input length limits through an MCP client', () => {
  it('answers a megabyte of bad input with a small error that names the field and the limit', async () => {
    const mcp = await connect(testRuntime());
    for (const [tool, args] of [
      ['persona_load', { persona: MEGABYTE }],
      ['check_known_issues', { tool_name: 'quay_get_tag', error_text: MEGABYTE }],
      ['skill_run', { name: 'record_learned_fix', inputs: { tool_name: MEGABYTE } }],
      ['memory_session_log', { action: 'x', [MEGABYTE]: 1 }],
    ] as const) {
      const result = await mcp.call(tool, args);
      const error = errorOf(result);
      expect(error.code).toBe('invalid_input');
      expect(error.message).toMatch(/over the limit of \d+/);
      expect(JSON.stringify(result).length).toBeLessThan(2000);
    }
    const persona = errorOf(await mcp.call('persona_load', { persona: MEGABYTE }));
    expect(persona.message).toBe(`invalid arguments for persona_load: persona: ${MEGABYTE.length} characters, over the limit of 10000`);
    // A field of a big text takes its own larger limit: a 50,000-character MR description is a schema limit of 100,000.
    const big = errorOf(await mcp.call('gitlab_mr_create', { project: 'g/p', source_branch: 'a', target_branch: 'b', title: 't', description: 'd'.repeat(50_000) }));
    expect(big.message).not.toMatch(/description/);
    await mcp.close();
  });

  it('answers a nest of long keys and many long values with a bounded error (no amplification)', async () => {
    const mcp = await connect(testRuntime());
    // 20 nested keys of 9,990 characters and 150 over-long leaves: each problem would repeat the whole path.
    let inputs: Record<string, unknown> = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`leaf${i}`, 'v'.repeat(10_001)]));
    for (let depth = 0; depth < 20; depth++) inputs = { [`${depth}`.padEnd(9_990, 'k')]: inputs };
    const sent = JSON.stringify(inputs).length;
    const result = await mcp.call('skill_plan', { name: 'record_learned_fix', inputs });
    const error = errorOf(result);
    expect(error.code).toBe('invalid_input');
    expect(error.message).toMatch(/over the limit of 10000/);
    expect(JSON.stringify(result).length).toBeLessThan(Math.min(sent / 50, 20_000));
    await mcp.close();
  });

  it('quotes an unknown tool name or skill input by a short prefix only', async () => {
    const mcp = await connect(testRuntime());
    const unknown = await mcp.call('x'.repeat(100_000));
    expect(JSON.stringify(unknown).length).toBeLessThan(2000);
    expect(errorOf(unknown).message).toMatch(/unknown tool: x{80}…\(100000 chars\)/);
    const input = await mcp.call('skill_run', { name: 'record_learned_fix', inputs: { ['k'.repeat(5000)]: 1 } });
    expect(JSON.stringify(input).length).toBeLessThan(3000);
    expect(errorOf(input).message).toMatch(/k{80}…\(5000 chars\): not an input/);
    await mcp.close();
  });
});
