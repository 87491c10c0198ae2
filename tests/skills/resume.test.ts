import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addRunStep, claimRun, createRun, getRun, startStepCall } from '../../src/memory/index.js';
import { connect, errorOf, runOf, type ConnectedClient } from '../helpers/harness.js';
import { skillHarness, type SkillHarness } from './fixtures.js';

/**
 * Interrupted runs through a real MCP client. The run a killed process leaves behind is written
 * into memory as the engine writes it (spawned-process kills are in crash.test.ts): steps
 * recorded up to the one whose call started, an owner whose process is gone, an old heartbeat.
 */
let h: SkillHarness;
let c: ConnectedClient;
beforeEach(async () => {
  h = skillHarness({ config: { skills: { lease_ms: 500, max_depth: 3 } } });
  c = await connect(h.runtime);
});
afterEach(async () => {
  await c.close();
  h.close();
});

/** The owner id of a process that has exited. */
function deadOwner(): string {
  const child = spawnSync('node', ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return `${hostname()}:${child.stdout}:0badc0de`;
}

/** A run of `two` as its process left it when killed during step `second` (a call to `tool`). */
function interruptedRun(tool: string, args: Record<string, unknown>, options: { heartbeatAgoMs?: number; owner?: string } = {}): string {
  h.write('two', `name: two
description: a change, then another
steps:
  - name: first
    tool: test_mutate
    args: { item: first }
    output: made
  - name: second
    tool: ${tool}
    args: ${JSON.stringify(args)}
  - name: third
    tool: test_mutate
    args: { item: "third after {{ made.count }}" }
`);
  const id = `20260101-000000-${Math.random().toString(16).slice(2, 8)}`;
  const mem = h.runtime.memory;
  createRun(mem, { id, tenant: h.runtime.config.releases.default_tenant, started_by: 'test', skill: 'two', version: '1', file: '', status: 'running', dry_run: false, inputs: {}, owner: options.owner ?? deadOwner() });
  mem.db.prepare('UPDATE skill_runs SET heartbeat_at = ? WHERE id = ?').run(Date.now() - (options.heartbeatAgoMs ?? 5000), id);
  addRunStep(mem, id, { round: 0, phase: 'main', name: 'first', kind: 'tool', status: 'succeeded', tool: 'test_mutate', args: { item: 'first' }, attempts: 1, duration_ms: 1, output: { count: 1 }, output_summary: null, error: null, matches: null, note: null });
  startStepCall(mem, id, { round: 0, phase: 'main', name: 'second', tool, args, idempotent: tool !== 'test_mutate' });
  h.fx.mutations.push('first');
  return id;
}

const statusOf = async (runId: string) => (await c.call('skill_runs', { run_id: runId })).structuredContent as { run: { summary: { status: string } } };

describe('resuming an interrupted run', () => {
  it('shows a run whose owner died as interrupted, and re-runs an idempotent step without repeating the done one', async () => {
    const id = interruptedRun('test_echo', { text: 'look' });
    expect((await statusOf(id)).run.summary.status).toBe('interrupted');
    const listed = (await c.call('skill_runs', {})).structuredContent as { runs: Array<{ run_id: string; status: string }> };
    expect(listed.runs.find((r) => r.run_id === id)?.status).toBe('interrupted');
    const done = await c.call('skill_run', { resume: id });
    expect(runOf(done).status).toBe('succeeded');
    expect(runOf(done).steps.map((s) => `${s.name}:${s.status}`)).toEqual(['first:succeeded', 'second:succeeded', 'third:succeeded']);
    expect(h.fx.mutations).toEqual(['first', 'third after 1']);
  });

  it('asks before running again a change that may have happened; approve re-runs it, skip goes past it', async () => {
    const id = interruptedRun('test_mutate', { item: 'second' });
    const asked = await c.call('skill_run', { resume: id });
    expect(asked.isError).toBeFalsy();
    expect(runOf(asked).status).toBe('awaiting_approval');
    const pending = runOf(asked).steps.at(-1)!;
    expect(pending).toMatchObject({ name: 'second', status: 'awaiting_approval', tool: 'test_mutate', args: { item: 'second' } });
    expect(pending.note).toMatch(/step second \(test_mutate\) was started at .* may or may not have happened.*"rerun".*"skip"/);
    expect(h.fx.mutations).toEqual(['first']);
    // Asking again changes nothing.
    expect(runOf(await c.call('skill_run', { resume: id })).status).toBe('awaiting_approval');
    const rerun = await c.call('skill_run', { resume: id, approve: true });
    expect(runOf(rerun).status).toBe('succeeded');
    expect(h.fx.mutations).toEqual(['first', 'second', 'third after 1']);

    const other = interruptedRun('test_mutate', { item: 'second' });
    const skipped = await c.call('skill_run', { resume: other, interrupted: 'skip' });
    expect(runOf(skipped).status).toBe('succeeded');
    expect(runOf(skipped).steps.find((s) => s.name === 'second')).toMatchObject({ status: 'skipped' });
    expect(runOf(skipped).steps.find((s) => s.name === 'second')!.note).toMatch(/skipped on the operator's word/);
    expect(h.fx.mutations).toEqual(['first', 'second', 'third after 1', 'first', 'third after 1']);
  });

  it('refuses to resume or abandon a run whose owner is alive and whose lease is fresh', async () => {
    const id = interruptedRun('test_echo', { text: 'x' }, { owner: `${hostname()}:${process.ppid}:live`, heartbeatAgoMs: 0 });
    expect((await statusOf(id)).run.summary.status).toBe('running');
    expect(errorOf(await c.call('skill_run', { resume: id }))).toMatchObject({ code: 'conflict', message: expect.stringMatching(/is running \(owner .*:live, last heartbeat/) });
    expect(errorOf(await c.call('skill_abandon', { run_id: id }))).toMatchObject({ code: 'conflict' });
    expect(h.fx.mutations).toEqual(['first']);
  });

  it('lets one of two resumers claim an interrupted run; the other gets a conflict', async () => {
    const id = interruptedRun('test_echo', { text: 'x' });
    const seen = getRun(h.runtime.memory, h.runtime.config.releases.default_tenant, id)!.run;
    expect(claimRun(h.runtime.memory, h.runtime.config.releases.default_tenant, id, ['failed'], 'a:1:x', seen)).toBe(true);
    expect(claimRun(h.runtime.memory, h.runtime.config.releases.default_tenant, id, ['failed'], 'b:2:y', seen)).toBe(false);
    expect(getRun(h.runtime.memory, h.runtime.config.releases.default_tenant, id)!.run).toMatchObject({ owner: 'a:1:x', status: 'running', resumes: 1 });
    // Through the tool: two concurrent resumes of one interrupted run run it once.
    const again = interruptedRun('test_mutate', { item: 'second' });
    const [x, y] = await Promise.all([c.call('skill_run', { resume: again, approve: true, interrupted: 'rerun' }), c.call('skill_run', { resume: again, interrupted: 'rerun' })]);
    const outcomes = [x, y].map((r) => (r.isError ? errorOf(r).code : runOf(r).status)).sort();
    expect(outcomes).toEqual(['conflict', 'succeeded']);
    expect(h.fx.mutations.filter((m) => m === 'second')).toHaveLength(1);
  });

  it('abandons an interrupted run for good', async () => {
    const id = interruptedRun('test_mutate', { item: 'second' });
    const abandoned = await c.call('skill_abandon', { run_id: id, reason: 'done by hand' });
    expect(abandoned.structuredContent).toMatchObject({ run_id: id, status: 'abandoned', error: 'abandoned: done by hand (was interrupted)' });
    expect(errorOf(await c.call('skill_run', { resume: id }))).toMatchObject({ code: 'precondition', message: expect.stringContaining('is abandoned') });
    expect(errorOf(await c.call('skill_abandon', { run_id: id }))).toMatchObject({ code: 'precondition' });
    expect(errorOf(await c.call('skill_abandon', { run_id: 'nosuch' }))).toMatchObject({ code: 'not_found' });
    expect(h.fx.mutations).toEqual(['first']);
  });

  it('journals a tool call before it is made and closes it when its result is recorded', async () => {
    h.write('one', 'name: one\ndescription: d\nsteps:\n  - name: change\n    tool: test_mutate\n    args: { item: x }\n');
    const run = runOf(await c.call('skill_run', { name: 'one' }));
    const calls = h.runtime.memory.db.prepare('SELECT name, tool, idempotent, done_at IS NOT NULL AS done, outcome FROM run_step_calls WHERE run_id = ?').all(run.run_id);
    expect(calls).toEqual([{ name: 'change', tool: 'test_mutate', idempotent: 0, done: 1, outcome: 'succeeded' }]);
    expect(getRun(h.runtime.memory, h.runtime.config.releases.default_tenant, run.run_id)!.run).toMatchObject({ status: 'succeeded', owner: null });
  });
});

describe('nested skill_run steps', () => {
  beforeEach(() => {
    h.write('inner', 'name: inner\ndescription: d\nsteps:\n  - name: gate\n    confirm: "ship it?"\n  - name: ship\n    tool: test_mutate\n    args: { item: inner }\n');
    h.write('outer', 'name: outer\ndescription: d\nsteps:\n  - name: nested\n    tool: skill_run\n    args: { name: inner }\n  - name: after\n    tool: test_mutate\n    args: { item: outer }\n');
  });

  it('takes the awaiting_approval status of its inner run, and a resume with approve continues that inner run', async () => {
    const paused = runOf(await c.call('skill_run', { name: 'outer' }));
    expect(paused.status).toBe('awaiting_approval');
    expect(paused.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['nested:awaiting_approval']);
    expect(paused.steps[0]!.note).toMatch(/inner run \S+ \(inner\) is awaiting_approval at step gate/);
    expect(h.fx.mutations).toEqual([]);
    const done = runOf(await c.call('skill_run', { resume: paused.run_id, approve: true }));
    expect(done.status).toBe('succeeded');
    expect(h.fx.mutations).toEqual(['inner', 'outer']);
    // One inner run, resumed: not a second one started.
    const inner = h.runtime.memory.db.prepare("SELECT id, status, parent_run, parent_step, depth FROM skill_runs WHERE skill = 'inner'").all();
    expect(inner).toEqual([{ id: expect.any(String), status: 'succeeded', parent_run: paused.run_id, parent_step: 'nested', depth: 1 }]);
  });

  it('takes the declined status of its inner run', async () => {
    const c2 = await connect(h.runtime, { capabilities: { elicitation: {} } });
    const { ElicitRequestSchema } = await import('@modelcontextprotocol/sdk/types.js');
    c2.client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'decline' }));
    const result = await c2.call('skill_run', { name: 'outer' });
    expect(runOf(result).status).toBe('declined');
    expect(runOf(result).steps.map((s) => `${s.name}:${s.status}`)).toEqual(['nested:declined']);
    expect(h.fx.mutations).toEqual([]);
    await c2.close();
  });

  it('stops a skill that calls itself at skills.max_depth', async () => {
    h.write('forever', 'name: forever\ndescription: d\nsteps:\n  - name: again\n    tool: skill_run\n    args: { name: forever }\n');
    const result = await c.call('skill_run', { name: 'forever' });
    expect(result.isError).toBe(true);
    expect(runOf(result).status).toBe('failed');
    const { n } = h.runtime.memory.db.prepare("SELECT count(*) AS n FROM skill_runs WHERE skill = 'forever'").get() as { n: number };
    expect(n).toBe(4);
    expect(errorOf(result).message).toMatch(/would run 4 levels deep .*more than skills.max_depth 3/);
  });
});
