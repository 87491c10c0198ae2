import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addRunStep, claimRun, createRun, finishRun, getRun, startStepCall } from '../../src/memory/index.js';
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
async function interruptedRun(tool: string, args: Record<string, unknown>, options: { heartbeatAgoMs?: number; owner?: string } = {}): Promise<string> {
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
  await createRun(mem, { id, tenant: h.runtime.config.releases.default_tenant, started_by: 'test', skill: 'two', version: '1', file: '', status: 'running', dry_run: false, inputs: {}, owner: options.owner ?? deadOwner() });
  mem.db.prepare('UPDATE skill_runs SET heartbeat_at = ? WHERE id = ?').run(Date.now() - (options.heartbeatAgoMs ?? 5000), id);
  await addRunStep(mem, id, { round: 0, phase: 'main', name: 'first', kind: 'tool', status: 'succeeded', tool: 'test_mutate', args: { item: 'first' }, attempts: 1, duration_ms: 1, output: { count: 1 }, output_summary: null, error: null, matches: null, note: null });
  await startStepCall(mem, id, { round: 0, phase: 'main', name: 'second', tool, args, idempotent: tool !== 'test_mutate' });
  h.fx.mutations.push('first');
  return id;
}

const statusOf = async (runId: string) => (await c.call('skill_runs', { run_id: runId })).structuredContent as { run: { summary: { status: string } } };

describe('resuming an interrupted run', () => {
  it('shows a run whose owner died as interrupted, and re-runs an idempotent step without repeating the done one', async () => {
    const id = await interruptedRun('test_echo', { text: 'look' });
    expect((await statusOf(id)).run.summary.status).toBe('interrupted');
    const listed = (await c.call('skill_runs', {})).structuredContent as { runs: Array<{ run_id: string; status: string }> };
    expect(listed.runs.find((r) => r.run_id === id)?.status).toBe('interrupted');
    const done = await c.call('skill_run', { resume: id });
    expect(runOf(done).status).toBe('succeeded');
    expect(runOf(done).steps.map((s) => `${s.name}:${s.status}`)).toEqual(['first:succeeded', 'second:succeeded', 'third:succeeded']);
    expect(h.fx.mutations).toEqual(['first', 'third after 1']);
  });

  it('asks before running again a change that may have happened; approve re-runs it, skip goes past it', async () => {
    const id = await interruptedRun('test_mutate', { item: 'second' });
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

    const other = await interruptedRun('test_mutate', { item: 'second' });
    const skipped = await c.call('skill_run', { resume: other, interrupted: 'skip' });
    expect(runOf(skipped).status).toBe('succeeded');
    expect(runOf(skipped).steps.find((s) => s.name === 'second')).toMatchObject({ status: 'skipped' });
    expect(runOf(skipped).steps.find((s) => s.name === 'second')!.note).toMatch(/skipped on the operator's word/);
    expect(h.fx.mutations).toEqual(['first', 'second', 'third after 1', 'first', 'third after 1']);
  });

  it('refuses to resume or abandon a run whose owner is alive and whose lease is fresh', async () => {
    const id = await interruptedRun('test_echo', { text: 'x' }, { owner: `${hostname()}:${process.ppid}:live`, heartbeatAgoMs: 0 });
    expect((await statusOf(id)).run.summary.status).toBe('running');
    expect(errorOf(await c.call('skill_run', { resume: id }))).toMatchObject({ code: 'conflict', message: expect.stringMatching(/is running \(owner .*:live, last heartbeat/) });
    expect(errorOf(await c.call('skill_abandon', { run_id: id }))).toMatchObject({ code: 'conflict' });
    expect(h.fx.mutations).toEqual(['first']);
  });

  it('lets one of two resumers claim an interrupted run; the other gets a conflict', async () => {
    const id = await interruptedRun('test_echo', { text: 'x' });
    const seen = (await getRun(h.runtime.memory, h.runtime.config.releases.default_tenant, id))!.run;
    expect(await claimRun(h.runtime.memory, h.runtime.config.releases.default_tenant, id, ['failed'], 'a:1:x', seen)).toBe(true);
    expect(await claimRun(h.runtime.memory, h.runtime.config.releases.default_tenant, id, ['failed'], 'b:2:y', seen)).toBe(false);
    expect((await getRun(h.runtime.memory, h.runtime.config.releases.default_tenant, id))!.run).toMatchObject({ owner: 'a:1:x', status: 'running', resumes: 1 });
    // Through the tool: two concurrent resumes of one interrupted run run it once.
    const again = await interruptedRun('test_mutate', { item: 'second' });
    const [x, y] = await Promise.all([c.call('skill_run', { resume: again, approve: true, interrupted: 'rerun' }), c.call('skill_run', { resume: again, interrupted: 'rerun' })]);
    const outcomes = [x, y].map((r) => (r.isError ? errorOf(r).code : runOf(r).status)).sort();
    expect(outcomes).toEqual(['conflict', 'succeeded']);
    expect(h.fx.mutations.filter((m) => m === 'second')).toHaveLength(1);
  });

  it('abandons an interrupted run for good', async () => {
    const id = await interruptedRun('test_mutate', { item: 'second' });
    const abandoned = await c.call('skill_abandon', { run_id: id, reason: 'done by hand' });
    expect(abandoned.structuredContent).toMatchObject({ run_id: id, status: 'abandoned', error: 'abandoned: done by hand (was interrupted)' });
    expect(errorOf(await c.call('skill_run', { resume: id }))).toMatchObject({ code: 'precondition', message: expect.stringContaining('is abandoned') });
    expect(errorOf(await c.call('skill_abandon', { run_id: id }))).toMatchObject({ code: 'precondition' });
    expect(errorOf(await c.call('skill_abandon', { run_id: 'nosuch' }))).toMatchObject({ code: 'not_found' });
    expect(h.fx.mutations).toEqual(['first']);
  });

  it('asks before running again a finally change that may have happened; skip goes past it, approve re-runs it', async () => {
    h.write('fin', 'name: fin\ndescription: d\nsteps:\n  - name: work\n    tool: test_mutate\n    args: { item: work }\nfinally:\n  - name: look\n    tool: test_echo\n    args: { text: look }\n  - name: notify\n    tool: test_mutate\n    args: { item: notify }\n');
    const mem = h.runtime.memory;
    /** A run of `fin` killed while its finally step notify was posting. */
    const killedInFinally = async () => {
      const id = `20260101-000000-${Math.random().toString(16).slice(2, 8)}`;
      await createRun(mem, { id, tenant: h.runtime.config.releases.default_tenant, started_by: 'test', skill: 'fin', version: '1', file: '', status: 'running', dry_run: false, inputs: {}, owner: deadOwner() });
      mem.db.prepare('UPDATE skill_runs SET heartbeat_at = ? WHERE id = ?').run(Date.now() - 5000, id);
      await addRunStep(mem, id, { round: 0, phase: 'main', name: 'work', kind: 'tool', status: 'succeeded', tool: 'test_mutate', args: { item: 'work' }, attempts: 1, duration_ms: 1, output: { count: 1 }, output_summary: null, error: null, matches: null, note: null });
      await addRunStep(mem, id, { round: 0, phase: 'finally', name: 'look', kind: 'tool', status: 'succeeded', tool: 'test_echo', args: { text: 'look' }, attempts: 1, duration_ms: 1, output: { text: 'look' }, output_summary: null, error: null, matches: null, note: null });
      await startStepCall(mem, id, { round: 0, phase: 'finally', name: 'notify', tool: 'test_mutate', args: { item: 'notify' }, idempotent: false });
      h.fx.mutations.push('work', 'notify');
      return id;
    };
    const id = await killedInFinally();
    const asked = runOf(await c.call('skill_run', { resume: id }));
    expect(asked.status).toBe('awaiting_approval');
    expect(asked.steps.at(-1)).toMatchObject({ name: 'notify', phase: 'finally', status: 'awaiting_approval', tool: 'test_mutate', args: { item: 'notify' } });
    expect(asked.steps.at(-1)!.note).toMatch(/finally step notify \(test_mutate\) was started at .* may or may not have happened/);
    expect(h.fx.mutations).toEqual(['work', 'notify']);
    const skipped = runOf(await c.call('skill_run', { resume: id, interrupted: 'skip' }));
    expect(skipped.status).toBe('succeeded');
    expect(skipped.steps.filter((s) => s.phase === 'finally').map((s) => `${s.name}:${s.status}`)).toEqual(['look:succeeded', 'notify:skipped']);
    expect(h.fx.mutations).toEqual(['work', 'notify']);

    const other = await killedInFinally();
    expect(runOf(await c.call('skill_run', { resume: other })).status).toBe('awaiting_approval');
    const rerun = runOf(await c.call('skill_run', { resume: other, approve: true }));
    expect(rerun.status).toBe('succeeded');
    expect(h.fx.mutations).toEqual(['work', 'notify', 'work', 'notify', 'notify']);
    const open = mem.db.prepare('SELECT count(*) AS n FROM run_step_calls WHERE run_id IN (?, ?) AND done_at IS NULL').get(id, other) as { n: number };
    expect(open.n).toBe(0);
  });

  it('journals a tool call before it is made and closes it when its result is recorded', async () => {
    h.write('one', 'name: one\ndescription: d\nsteps:\n  - name: change\n    tool: test_mutate\n    args: { item: x }\n');
    const run = runOf(await c.call('skill_run', { name: 'one' }));
    const calls = h.runtime.memory.db.prepare('SELECT name, tool, idempotent, done_at IS NOT NULL AS done, outcome FROM run_step_calls WHERE run_id = ?').all(run.run_id);
    expect(calls).toEqual([{ name: 'change', tool: 'test_mutate', idempotent: 0, done: 1, outcome: 'succeeded' }]);
    expect((await getRun(h.runtime.memory, h.runtime.config.releases.default_tenant, run.run_id))!.run).toMatchObject({ status: 'succeeded', owner: null });
  });
});

describe('nested skill_run steps', () => {
  beforeEach(async () => {
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

  /** The inner run the outer run's step nested started. */
  const innerOf = (outerId: string) => h.runtime.memory.db.prepare("SELECT id FROM skill_runs WHERE parent_run = ? AND parent_step = 'nested'").all(outerId) as Array<{ id: string }>;

  /** An outer run killed while its `nested` skill_run step ran, and that step's inner run as created then (status running, owner dead). */
  async function killedInNestedStep(): Promise<{ mem: typeof h.runtime.memory; outer: string; inner: string }> {
    const mem = h.runtime.memory;
    const tenant = h.runtime.config.releases.default_tenant;
    const outer = `20260101-000000-${Math.random().toString(16).slice(2, 8)}`;
    await createRun(mem, { id: outer, tenant, started_by: 'test', skill: 'outer', version: '1', file: '', status: 'running', dry_run: false, inputs: {}, owner: deadOwner() });
    mem.db.prepare('UPDATE skill_runs SET heartbeat_at = ? WHERE id = ?').run(Date.now() - 5000, outer);
    await startStepCall(mem, outer, { round: 0, phase: 'main', name: 'nested', tool: 'skill_run', args: { name: 'inner' }, idempotent: false });
    const inner = `${outer}-in`;
    await createRun(mem, { id: inner, tenant, started_by: 'test', skill: 'inner', version: '1', file: '', status: 'running', dry_run: false, inputs: {}, owner: deadOwner(), parent: { run: outer, step: 'nested', depth: 1 } });
    return { mem, outer, inner };
  }

  it('takes the result of an inner run that was resumed on its own and succeeded, instead of running the skill again', async () => {
    h.write('inner', 'name: inner\ndescription: d\nsteps:\n  - name: gate\n    confirm: "ship it?"\n  - name: ship\n    tool: test_mutate\n    args: { item: inner }\n    output: shipped\noutputs:\n  count: "{{ shipped.count }}"\n');
    h.write('outer', 'name: outer\ndescription: d\nsteps:\n  - name: nested\n    tool: skill_run\n    args: { name: inner }\n    output: nested\n  - name: after\n    tool: test_mutate\n    args: { item: "outer after {{ nested.outputs.count }}" }\n');
    const paused = runOf(await c.call('skill_run', { name: 'outer' }));
    expect(paused.status).toBe('awaiting_approval');
    const [inner] = innerOf(paused.run_id);
    expect(runOf(await c.call('skill_run', { resume: inner!.id, approve: true })).status).toBe('succeeded');
    expect(h.fx.mutations).toEqual(['inner']);
    const done = runOf(await c.call('skill_run', { resume: paused.run_id }));
    expect(done.status).toBe('succeeded');
    expect(done.steps.find((s) => s.name === 'nested')).toMatchObject({ status: 'succeeded', note: expect.stringContaining(`inner run ${inner!.id} (inner) had already succeeded`) });
    expect(h.fx.mutations).toEqual(['inner', 'outer after 1']);
    expect(innerOf(paused.run_id)).toHaveLength(1);
  });

  it('takes the result of an inner run that ended after its process died, without asking about the skill_run call', async () => {
    const { mem, outer, inner } = await killedInNestedStep();
    await addRunStep(mem, inner, { round: 0, phase: 'main', name: 'ship', kind: 'tool', status: 'succeeded', tool: 'test_mutate', args: { item: 'inner' }, attempts: 1, duration_ms: 1, output: { count: 1 }, output_summary: null, error: null, matches: null, note: null });
    await finishRun(mem, inner, { status: 'succeeded', outputs: {}, duration_ms: 5 });
    h.fx.mutations.push('inner');
    const done = runOf(await c.call('skill_run', { resume: outer }));
    expect(done.status).toBe('succeeded');
    expect(done.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['nested:succeeded', 'after:succeeded']);
    expect(h.fx.mutations).toEqual(['inner', 'outer']);
    expect(innerOf(outer)).toHaveLength(1);
  });

  it('fails the step of an inner run that was abandoned, naming it, and starts no new one', async () => {
    const paused = runOf(await c.call('skill_run', { name: 'outer' }));
    const [inner] = innerOf(paused.run_id);
    expect((await c.call('skill_abandon', { run_id: inner!.id, reason: 'shipped by hand' })).isError).toBeFalsy();
    const result = await c.call('skill_run', { resume: paused.run_id, approve: true });
    expect(result.isError).toBe(true);
    expect(runOf(result).status).toBe('failed');
    expect(runOf(result).steps.find((s) => s.name === 'nested')!.error).toMatchObject({ code: 'precondition', message: expect.stringMatching(new RegExp(`inner run ${inner!.id} \\(inner\\) of step nested was abandoned .*shipped by hand`)) });
    expect(h.fx.mutations).toEqual([]);
    expect(innerOf(paused.run_id)).toHaveLength(1);
  });

  it('refuses to resume a run whose inner run is running elsewhere', async () => {
    const paused = runOf(await c.call('skill_run', { name: 'outer' }));
    const [inner] = innerOf(paused.run_id);
    // Someone resumed the inner run on its own, in a process that is alive and holds its lease.
    h.runtime.memory.db.prepare("UPDATE skill_runs SET status = 'running', owner = ?, heartbeat_at = ? WHERE id = ?").run(`${hostname()}:${process.ppid}:live`, Date.now(), inner!.id);
    expect(errorOf(await c.call('skill_run', { resume: paused.run_id, approve: true }))).toMatchObject({ code: 'conflict', message: expect.stringContaining(`inner run ${inner!.id} of its step nested is running`) });
    expect(innerOf(paused.run_id)).toHaveLength(1);
    expect(h.fx.mutations).toEqual([]);
  });

  it('passes interrupted "skip" of an outer resume on to the inner run that waits on it', async () => {
    // The inner run was killed while its change (ship) was being made.
    const { mem, outer, inner } = await killedInNestedStep();
    mem.db.prepare('UPDATE skill_runs SET heartbeat_at = ? WHERE id = ?').run(Date.now() - 5000, inner);
    await addRunStep(mem, inner, { round: 0, phase: 'main', name: 'gate', kind: 'confirm', status: 'succeeded', tool: null, args: null, attempts: 1, duration_ms: 1, output: undefined, output_summary: null, error: null, matches: null, note: null });
    await startStepCall(mem, inner, { round: 0, phase: 'main', name: 'ship', tool: 'test_mutate', args: { item: 'inner' }, idempotent: false });
    h.fx.mutations.push('inner');
    const asked = runOf(await c.call('skill_run', { resume: outer }));
    expect(asked.status).toBe('awaiting_approval');
    expect(asked.steps.at(-1)!.note).toMatch(new RegExp(`inner run ${inner} \\(inner\\) is awaiting_approval at step ship`));
    const skipped = runOf(await c.call('skill_run', { resume: outer, interrupted: 'skip' }));
    expect(skipped.status).toBe('succeeded');
    expect(h.fx.mutations).toEqual(['inner', 'outer']);
    expect((await getRun(mem, h.runtime.config.releases.default_tenant, inner))!.steps.at(-1)).toMatchObject({ name: 'ship', status: 'skipped', note: expect.stringMatching(/skipped on the operator's word/) });
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
