import { ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getRun, runApprovals } from '../../src/memory/index.js';
import type { RunResult } from '../../src/tools/index.js';
import { connect, errorOf, testRuntime, textOf } from '../helpers/harness.js';
import { skillHarness, type SkillHarness } from './fixtures.js';

const GATED = `name: gated
description: a change behind an approval
inputs:
  item: { type: string, default: shipped }
steps:
  - name: look
    tool: test_echo
    args: { text: "{{ inputs.item }}" }
    output: seen
  - name: approve
    confirm: "Ship {{ seen.text }}?"
  - name: ship
    tool: test_mutate
    args: { item: "{{ seen.text }}" }
`;

let h: SkillHarness;
beforeEach(async () => {
  h = skillHarness();
  h.write('gated', GATED);
});
afterEach(() => h.close());

/** The run record of a result, with its report: the text of the result. */
const structured = (result: CallToolResult): RunResult => ({ ...(result.structuredContent as unknown as Omit<RunResult, 'report'>), report: textOf(result) });

describe('skill tools through an MCP client', () => {
  it('reports a run that fails only in its outputs as a failed call that says why', async () => {
    h.write('bad_outputs', `name: bad_outputs
description: every step works, the outputs do not
steps:
  - name: look
    tool: test_echo
    args: { text: hello }
    output: seen
outputs:
  missing: "{{ nothing_here.value }}"
`);
    const c = await connect(h.runtime);
    const result = await c.call('skill_run', { name: 'bad_outputs' });
    expect(result.isError).toBe(true);
    expect(structured(result)).toMatchObject({ status: 'failed' });
    expect(structured(result).error).toMatch(/outputs/);
    expect(errorOf(result).message).toMatch(/skill bad_outputs failed: .*nothing_here/);
    await c.close();
  });

  it('lists, describes and lints skills', async () => {
    const c = await connect(h.runtime);
    const list = await c.call('skill_list');
    expect((list.structuredContent as { skills: Array<{ name: string }> }).skills.map((s) => s.name)).toEqual(expect.arrayContaining(['gated', 'record_learned_fix']));
    const described = await c.call('skill_describe', { name: 'gated' });
    expect(described.structuredContent).toMatchObject({ name: 'gated', tools: ['test_echo', 'test_mutate'], inputs: [{ name: 'item', type: 'string', default: 'shipped' }] });
    const lint = await c.call('skill_lint', { target: 'gated' });
    expect(lint.structuredContent).toMatchObject({ ok: true, skills: ['gated'] });
    expect(errorOf(await c.call('skill_describe', { name: 'nope' })).code).toBe('not_found');
    await c.close();
  });

  it('asks through elicitation; a client that accepts gets the change made', async () => {
    const c = await connect(h.runtime, { capabilities: { elicitation: {} } });
    const questions: string[] = [];
    c.client.setRequestHandler(ElicitRequestSchema, async (request) => {
      questions.push(request.params.message);
      return { action: 'accept', content: { confirm: true } };
    });
    const result = await c.call('skill_run', { name: 'gated' });
    expect(result.isError).toBeFalsy();
    expect(structured(result).status).toBe('succeeded');
    expect(questions).toEqual(['Ship shipped?']);
    expect(h.fx.mutations).toEqual(['shipped']);
    expect((result.content as Array<{ text: string }>)[0]!.text).toContain('## gated v1: succeeded');
    // Who approved, when and how is recorded with the run.
    const approvals = await runApprovals(h.runtime.memory, structured(result).run_id);
    expect(approvals).toEqual([expect.objectContaining({ step: 'approve', decision: 'approved', role: 'admin', tenant: 'primary', era: 'legacy', via: 'elicitation' })]);
    expect(structured(result).steps[1]!.note).toBe(`Ship shipped? (approved by ${approvals[0]!.subject} (admin, tenant primary) at ${approvals[0]!.decided_at} through elicitation (2025))`);
    await c.close();
  });

  it('a client that declines stops the run as declined', async () => {
    const c = await connect(h.runtime, { capabilities: { elicitation: {} } });
    c.client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'decline' }));
    const result = await c.call('skill_run', { name: 'gated' });
    expect(structured(result).status).toBe('declined');
    expect(structured(result).steps.map((s) => s.status)).toEqual(['succeeded', 'declined']);
    expect(h.fx.mutations).toEqual([]);
    expect((await runApprovals(h.runtime.memory, structured(result).run_id)).map((a) => a.decision)).toEqual(['declined']);
    // A decline is final: a resume with approve does not turn it into a yes.
    const resumed = await c.call('skill_run', { resume: structured(result).run_id, approve: true });
    expect(errorOf(resumed)).toMatchObject({ code: 'precondition', hint: expect.stringContaining('start a new run') });
    expect(errorOf(resumed).message).toMatch(/was declined at its confirm step approve .*: a declined approval is final$/);
    expect(h.fx.mutations).toEqual([]);
    await c.close();
  });

  it('an accept that does not say confirm: true is no approval', async () => {
    const c = await connect(h.runtime, { capabilities: { elicitation: {} } });
    c.client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept' }));
    const result = await c.call('skill_run', { name: 'gated' });
    expect(structured(result).status).not.toBe('succeeded');
    expect(h.fx.mutations).toEqual([]);
    await c.close();
  });

  it('without elicitation the run waits for approval, and resume with approve finishes it', async () => {
    const c = await connect(h.runtime);
    const paused = structured(await c.call('skill_run', { name: 'gated', inputs: { item: 'v2' } }));
    expect(paused.status).toBe('awaiting_approval');
    expect(paused.report).toContain(`"resume": "${paused.run_id}", "approve": true`);
    const done = structured(await c.call('skill_run', { resume: paused.run_id, approve: true }));
    expect(done).toMatchObject({ run_id: paused.run_id, status: 'succeeded' });
    expect(await runApprovals(h.runtime.memory, paused.run_id)).toEqual([expect.objectContaining({ step: 'approve', decision: 'approved', era: 'legacy', via: 'approve_flag' })]);
    expect(h.fx.mutations).toEqual(['v2']);
    const history = await c.call('skill_runs', { run_id: paused.run_id });
    expect((history.structuredContent as { run: { steps: Array<{ name: string; round: number; status: string }> } }).run.steps.map((s) => `${s.round}:${s.name}:${s.status}`)).toEqual([
      '0:look:succeeded',
      '0:approve:awaiting_approval',
      '1:approve:succeeded',
      '1:ship:succeeded',
    ]);
    await c.close();
  });

  it('sends a progress notification per step when the request has a progress token', async () => {
    const c = await connect(h.runtime, { capabilities: { elicitation: {} } });
    c.client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { confirm: true } }));
    const seen: Array<{ progress: number; total?: number; message?: string }> = [];
    await c.client.callTool({ name: 'skill_run', arguments: { name: 'gated' } }, undefined, { onprogress: (p) => void seen.push(p) });
    expect(seen.map((p) => `${p.progress}/${p.total} ${p.message}`)).toEqual(['1/3 look: succeeded', '2/3 approve: succeeded', '3/3 ship: succeeded']);
    await c.close();
  });

  it('records a run cancelled by the client as cancelled', async () => {
    h.write('slow', 'name: slow\ndescription: d\nsteps:\n  - name: wait\n    tool: test_slow\n    args: { ms: 5000 }\n  - name: after\n    tool: test_mutate\n    args: { item: after }\n');
    const c = await connect(h.runtime);
    const controller = new AbortController();
    const call = c.client.callTool({ name: 'skill_run', arguments: { name: 'slow' } }, undefined, { signal: controller.signal });
    setTimeout(() => controller.abort(), 150);
    await expect(call).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 200));
    const runs = await h.runtime.services.skills!.runs({ skill: 'slow' }, 'primary');
    expect(runs.runs[0]!.status).toBe('cancelled');
    expect((await getRun(h.runtime.memory, 'primary', runs.runs[0]!.run_id))!.steps.map((s) => s.status)).toEqual(['cancelled']);
    expect(h.fx.mutations).toEqual([]);
    await c.close();
  });

  it('only plans on a read-only server: skill_run is hidden, skill_plan runs the reads', async () => {
    const ro = skillHarness({ readOnly: true });
    ro.write('gated', GATED);
    const c = await connect(ro.runtime);
    expect(errorOf(await c.call('skill_run', { name: 'gated' })).code).toBe('not_found');
    const result = structured(await c.call('skill_plan', { name: 'gated' }));
    expect(result).toMatchObject({ status: 'planned', dry_run: true });
    expect(result.steps.map((s) => s.status)).toEqual(['succeeded', 'planned', 'planned']);
    expect(result.report).toContain('read-only');
    expect(ro.fx.mutations).toEqual([]);
    await c.close();
    ro.close();
  });

  it('answers with a config error when the skill engine is absent', async () => {
    const runtime = testRuntime({ extend: [(rt) => void delete rt.services.skills] });
    const c = await connect(runtime);
    expect(errorOf(await c.call('skill_list')).code).toBe('config');
    await c.close();
    runtime.close();
  });
});
