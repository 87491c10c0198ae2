import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/server/runtime.js';
import { connect, tempDir, testRuntime, type ConnectedClient } from '../helpers/harness.js';
import { contentConfig, TOKENS } from './content-fixtures.js';

const INVALID_PARAMS = -32602;
const SHA = '0123456789abcdef0123456789abcdef01234567';

function textOf(result: { messages: Array<{ role: string; content: { type: string; text?: string } }> }): string {
  expect(result.messages).toHaveLength(1);
  expect(result.messages[0]!.role).toBe('user');
  return result.messages[0]!.content.text!;
}

describe('skills as MCP prompts', () => {
  const dir = tempDir();
  let runtime: Runtime;
  let mcp: ConnectedClient;

  beforeAll(async () => {
    runtime = testRuntime({ config: contentConfig(dir.path), env: TOKENS, memoryPath: join(dir.path, 'memory.db') });
    mcp = await connect(runtime);
  });
  afterAll(async () => {
    await mcp?.close();
    await runtime?.close();
    dir.cleanup();
  });

  it("lists every skill as a prompt: its description, its inputs as arguments, required when they have no default", async () => {
    const { prompts } = await mcp.client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(expect.arrayContaining(['release_to_prod', 'release_runbook', 'scan_vulnerabilities', 'note_release']));
    const note = prompts.find((p) => p.name === 'note_release')!;
    expect(note.description).toBe('Record a release note for a ticket.\nSecond line of the description.');
    expect(note.arguments!.map((a) => [a.name, a.required])).toEqual([
      ['ticket', true],
      ['environment', false],
      ['persona', false],
      ['release_id', false],
      ['run_id', false],
      ['urgent', false],
      ['level', false],
      ['count', false],
    ]);
    expect(note.arguments![0]!.description).toBe('Jira ticket (a string, matching /^AAP-[0-9]+$/)');
    expect(note.arguments!.find((a) => a.name === 'level')!.description).toBe('(a string, one of "low", "high", default "low")');
    const runbook = prompts.find((p) => p.name === 'release_runbook')!;
    expect(runbook.arguments!.find((a) => a.name === 'sha')).toMatchObject({ required: true, description: expect.stringContaining('Full SHA') });
  });

  it('gets a user message asking to plan the skill with the given inputs first, then run it once confirmed', async () => {
    const result = await mcp.client.getPrompt({ name: 'note_release', arguments: { ticket: 'AAP-42', urgent: 'yes', count: '3' } });
    const text = textOf(result);
    expect(text).toContain('Run the release-mcp skill note_release: Record a release note for a ticket.');
    expect(text).toContain('Inputs: {"ticket":"AAP-42","urgent":true,"count":3}');
    expect(text).toContain('Left to their defaults: level = "low"');
    expect(text).toContain('First plan it: call skill_plan with {"name":"note_release","inputs":{"ticket":"AAP-42","urgent":true,"count":3}}');
    expect(text).toContain('only after I confirm the plan, run it with skill_run');
    // The inputs it names run as they are: the planned run accepts them.
    const planned = await mcp.call('skill_plan', { name: 'note_release', inputs: { ticket: 'AAP-42', urgent: true, count: 3 } });
    expect(planned.isError).toBeFalsy();
  });

  it('refuses a missing required argument with invalid params naming it', async () => {
    await expect(mcp.client.getPrompt({ name: 'release_to_prod', arguments: {} })).rejects.toMatchObject({ code: INVALID_PARAMS, message: expect.stringMatching(/commit_sha: required \(a string: Full 40-character commit SHA/) });
    await expect(mcp.client.getPrompt({ name: 'note_release', arguments: { ticket: '' } })).rejects.toMatchObject({ code: INVALID_PARAMS, message: expect.stringContaining('ticket: required') });
  });

  it("refuses an argument the skill's own rules refuse (pattern, enum, type), naming each", async () => {
    await expect(mcp.client.getPrompt({ name: 'release_to_prod', arguments: { commit_sha: 'abc1234' } })).rejects.toMatchObject({
      code: INVALID_PARAMS,
      message: expect.stringContaining('commit_sha: "abc1234" does not match /^[0-9a-f]{40}$/'),
    });
    const error = await mcp.client.getPrompt({ name: 'note_release', arguments: { ticket: 'AAP-1', level: 'medium', count: 'many', urgent: 'maybe' } }).catch((e: Error) => e);
    expect(error).toMatchObject({ code: INVALID_PARAMS });
    expect((error as Error).message).toContain('level: expected one of "low", "high", got "medium"');
    expect((error as Error).message).toContain('count: expected an integer, got "many"');
    expect((error as Error).message).toContain('urgent: expected a boolean, got "maybe"');
  });

  it('refuses an unknown argument and an unknown prompt by name', async () => {
    await expect(mcp.client.getPrompt({ name: 'release_to_prod', arguments: { commit_sha: SHA, colour: 'blue' } })).rejects.toMatchObject({
      code: INVALID_PARAMS,
      message: expect.stringContaining('colour: not an argument of release_to_prod'),
    });
    await expect(mcp.client.getPrompt({ name: 'no_such_skill' })).rejects.toMatchObject({ code: INVALID_PARAMS, message: expect.stringContaining('no prompt "no_such_skill"') });
  });

  it('tells a read-only session to plan only', async () => {
    const viewer = await connect(runtime, { principal: { role: 'viewer', tenant: 'primary', subject: 'token:A_VIEWER' } });
    try {
      const text = textOf(await viewer.client.getPrompt({ name: 'release_to_prod', arguments: { commit_sha: SHA } }));
      expect(text).toContain('call skill_plan with');
      expect(text).toContain('This session is read-only: plan only');
      expect(text).not.toContain('skill_run');
    } finally {
      await viewer.close();
    }
  });
});
