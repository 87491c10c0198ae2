import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getRun, learnFix } from '../../src/memory/index.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/harness.js';
import { skillHarness, statuses, type SkillHarness } from './fixtures.js';

let h: SkillHarness;
beforeEach(async () => {
  h = skillHarness({ config: { heal: { network: { command: ['true'] }, auth: { command: ['false'] } } } });
});
afterEach(() => h.close());

const skill = (body: string, inputs = '') => `name: t\ndescription: test skill\n${inputs}steps:\n${body}`;

describe('skill engine', () => {
  it('runs every step kind in order and passes outputs on, keeping types', async () => {
    h.write('t', skill(`
  - name: note
    description: just a note in the report
  - name: echo
    tool: test_echo
    args: { text: "hello {{ inputs.who }}", value: "{{ [1, 2, inputs.n] }}", count: "{{ inputs.n }}" }
    output: echoed
  - name: compute
    compute: |
      return { upper: echoed.text.toUpperCase(), total: echoed.value.reduce((a, b) => a + b, 0) };
    output: computed
  - name: check
    assert: "computed.total === 3 + inputs.n"
    message: "total was {{ computed.total }}"
  - name: write
    tool: test_mutate
    args: { item: "{{ computed }}" }
`, 'inputs:\n  who: { type: string, default: world }\n  n: { type: integer, default: 4 }\n'));
    const result = await h.run({ name: 't', inputs: { n: '5' } });
    expect(result.status).toBe('succeeded');
    expect(statuses(result)).toEqual({ note: 'succeeded', echo: 'succeeded', compute: 'succeeded', check: 'succeeded', write: 'succeeded' });
    expect(result.steps[1]!.args).toEqual({ text: 'hello world', value: [1, 2, 5], count: 5 });
    expect(h.fx.mutations).toEqual([{ upper: 'HELLO WORLD', total: 8 }]);
    expect(result.steps[0]!.note).toBe('just a note in the report');
    expect(result.outputs).toMatchObject({ computed: { total: 8 } });
  });

  it('skips on a false condition, runs on a true one, and fails the step when the condition errors', async () => {
    h.write('t', skill(`
  - name: yes
    condition: "inputs.flag"
    tool: test_mutate
    args: { item: yes }
  - name: no
    condition: "!inputs.flag"
    tool: test_mutate
    args: { item: no }
  - name: broken
    condition: "undefined_name > 1"
    tool: test_mutate
    args: { item: broken }
  - name: after
    tool: test_mutate
    args: { item: after }
`, 'inputs:\n  flag: { type: boolean, default: true }\n'));
    const result = await h.run({ name: 't' });
    expect(statuses(result)).toEqual({ yes: 'succeeded', no: 'skipped', broken: 'failed' });
    expect(result.status).toBe('failed');
    expect(result.steps[2]!.error!.message).toMatch(/condition: expression `undefined_name > 1` failed: ReferenceError/);
    expect(h.fx.mutations).toEqual(['yes']);
  });

  it('fails a step on a tool isError, a compute that throws and a false assert, never as success', async () => {
    h.write('t', skill(`
  - name: raise
    compute: "throw new Error('explicit failure')"
    on_error: continue
  - name: tool_error
    tool: test_flaky
    args: { key: a, code: not_found, times: 5, message: "no such tag" }
    on_error: continue
  - name: check
    assert: "1 > 2"
    message: "one is not more than two"
`));
    const result = await h.run({ name: 't' });
    expect(statuses(result)).toEqual({ raise: 'continued', tool_error: 'continued', check: 'failed' });
    expect(result.steps[0]!.error).toMatchObject({ code: 'invalid_input', message: expect.stringContaining('explicit failure') });
    expect(result.steps[1]!.error).toMatchObject({ code: 'not_found', message: 'no such tag', hint: 'test hint' });
    expect(result.steps[2]!.error).toMatchObject({ code: 'precondition', message: 'one is not more than two' });
    expect(result.status).toBe('failed');
    expect(result.report).toContain('no such tag');
  });

  it('retries transient failures with backoff, and never retries a permanent one', async () => {
    h.write('t', skill(`
  - name: transient
    tool: test_flaky
    args: { key: t, code: upstream, times: 2 }
    retry: { attempts: 3, delay: 40ms, factor: 2 }
  - name: permanent
    tool: test_flaky
    args: { key: p, code: auth, times: 1 }
    retry: { attempts: 3, delay: 10ms }
`));
    const result = await h.run({ name: 't' });
    expect(result.steps[0]).toMatchObject({ status: 'succeeded', attempts: 3 });
    const [a, b, c] = h.fx.callTimes.t!;
    expect(b! - a!).toBeGreaterThanOrEqual(35);
    expect(c! - b!).toBeGreaterThanOrEqual(75);
    expect(result.steps[1]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(h.fx.calls.p).toBe(1);
    // The transient failure that a retry fixed is remembered.
    const learned = h.runtime.memory.db.prepare('SELECT * FROM learned_fixes WHERE tool = ?').all('test_flaky') as Array<{ fix: string }>;
    expect(learned.map((l) => l.fix)).toEqual([expect.stringContaining('attempt 3 succeeded')]);
  });

  it('does not call a change that is not idempotent again after it timed out: the first call may still land', async () => {
    h.write('t', skill(`
  - name: write
    tool: test_slow_write
    args: { item: once, ms: 150 }
    timeout: 50ms
    retry: { attempts: 3, delay: 10ms }
`));
    const result = await h.run({ name: 't' });
    expect(result.steps[0]).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'timeout' } });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(h.fx.mutations).toEqual(['once']);
    h.close();
    h = skillHarness({ config: { heal: { timeout: { command: ['true'] } } } });
    h.write('t', skill(`
  - name: write
    tool: test_slow_write
    args: { item: once, ms: 150 }
    timeout: 50ms
    on_error: auto_heal
`));
    const healed = await h.run({ name: 't' });
    expect(healed.steps[0]).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'timeout' } });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(h.fx.mutations).toEqual(['once']);
  });

  it('a compute that throws a non-Error (throw null) fails its step, and finally steps still evaluate', async () => {
    h.write('t', `name: t\ndescription: test skill\nsteps:
  - name: broken
    compute: "throw null"
finally:
  - name: tell
    condition: "run.status === 'failed'"
    tool: test_mutate
    args: { item: "failed at {{ run.failed_step }}" }
`);
    const result = await h.run({ name: 't' });
    expect(result.status).toBe('failed');
    expect(result.steps[0]).toMatchObject({ status: 'failed', error: { message: expect.stringContaining('null') } });
    expect(result.steps[1]).toMatchObject({ name: 'tell', status: 'succeeded' });
    expect(h.fx.mutations).toEqual(['failed at broken']);
  });

  it('ends a step at its timeout even when the tool ignores the abort', async () => {
    h.write('t', skill(`
  - name: slow
    tool: test_slow
    args: { ms: 2000, stubborn: true }
    timeout: 100ms
`));
    const started = Date.now();
    const result = await h.run({ name: 't' });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(result.steps[0]).toMatchObject({ status: 'failed', error: { code: 'timeout' } });
  });

  it('always runs finally steps, with the run status in scope', async () => {
    h.write('t', skill(`
  - name: boom
    tool: test_flaky
    args: { key: f, code: conflict, times: 1 }
  - name: never
    tool: test_mutate
    args: { item: never }
finally:
  - name: notify
    tool: test_mutate
    args: { item: "run {{ run.status }} at {{ run.failed_step }}" }
`));
    const result = await h.run({ name: 't' });
    expect(result.status).toBe('failed');
    expect(h.fx.mutations).toEqual(['run failed at boom']);
    expect(statuses(result)).toEqual({ boom: 'failed', notify: 'succeeded' });
  });

  it('auto_heal runs the configured action for the error class, retries, and reports a failed heal as failed', async () => {
    h.write('t', skill(`
  - name: healed
    tool: test_flaky
    args: { key: h, code: network, times: 1, message: "no route to host" }
    on_error: auto_heal
  - name: heal_fails
    tool: test_flaky
    args: { key: u, code: auth, times: 1, message: "401 unauthorized" }
    on_error: auto_heal
`));
    const result = await h.run({ name: 't' });
    expect(result.steps[0]).toMatchObject({ status: 'healed', attempts: 2, note: expect.stringContaining('command true succeeded') });
    expect(result.steps[1]).toMatchObject({ status: 'failed', note: expect.stringContaining('command false failed') });
    expect(h.fx.calls.u).toBe(1);
    const fixes = h.runtime.memory.db.prepare('SELECT fix FROM learned_fixes').all() as Array<{ fix: string }>;
    expect(fixes.map((f) => f.fix)).toEqual([expect.stringContaining('auto_heal ran command true')]);
  });

  it('gives finally steps the failed tool, the error code and the known fixes of the failure', async () => {
    await learnFix(h.runtime.memory, { tenant: 'primary', subject: 'test' }, { tool: 'test_flaky', error_pattern: 'manifest unknown', root_cause: 'image not built', fix: 'wait for the build' });
    h.write('t', skill(`
  - name: tag
    tool: test_flaky
    args: { key: k, code: not_found, times: 1, message: "manifest unknown: tag abc" }
finally:
  - name: notify
    tool: test_mutate
    args: { item: "{{ run.failed_step }}|{{ run.failed_tool }}|{{ run.error_code }}|{{ run.fixes.join(';') }}" }
`));
    const result = await h.run({ name: 't' });
    expect(result.status).toBe('failed');
    expect(h.fx.mutations).toEqual(['tag|test_flaky|not_found|wait for the build']);
  });

  it('attaches known fixes to a failed step and counts the match', async () => {
    const { fix } = await learnFix(h.runtime.memory, { tenant: 'primary', subject: 'test' }, { tool: 'test_flaky', error_pattern: 'manifest unknown', root_cause: 'image not built', fix: 'wait for the build' });
    h.write('t', skill(`
  - name: tag
    tool: test_flaky
    args: { key: k, code: not_found, times: 1, message: "manifest unknown: tag abc" }
`));
    const result = await h.run({ name: 't' });
    expect(result.steps[0]!.matches).toEqual([expect.objectContaining({ kind: 'learned_fix', id: fix.id, fix: 'wait for the build' })]);
    expect(result.report).toContain('wait for the build');
    const row = h.runtime.memory.db.prepare('SELECT times_matched FROM learned_fixes WHERE id = ?').get(fix.id) as { times_matched: number };
    expect(row.times_matched).toBe(1);
  });

  it('validates and coerces inputs before the first step, and renders defaults', async () => {
    h.write('t', skill(`
  - name: w
    tool: test_mutate
    args: { item: "{{ inputs }}" }
`, `inputs:
  - name: sha
    type: string
    required: true
    pattern: "^[0-9a-f]{40}$"
  - name: date
    type: string
    default: "{{ today }}"
  - name: billing
    type: boolean
    default: false
  - name: env
    type: string
    enum: [stage, prod]
    default: stage
  - name: tags
    type: array
`));
    const bad = h.run({ name: 't', inputs: { sha: 'abc123', billing: 'maybe', env: 'dev', extra: 1 } });
    await expect(bad).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(bad).rejects.toThrow(/sha: "abc123" does not match.*billing: expected a boolean.*env: expected one of "stage", "prod"/s);
    await expect(h.run({ name: 't', inputs: { sha: 'a'.repeat(40), extra: 1 } })).rejects.toThrow(/extra: not an input/);
    expect(h.fx.mutations).toEqual([]);
    await h.run({ name: 't', inputs: { sha: 'a'.repeat(40), billing: 'true', tags: 'a, b' } });
    expect(h.fx.mutations).toEqual([{ sha: 'a'.repeat(40), date: new Date().toISOString().slice(0, 10), billing: true, env: 'stage', tags: ['a', 'b'] }]);
  });

  it('plans a dry run: reads run for real, writes show their rendered arguments, dependent steps say so', async () => {
    h.write('t', skill(`
  - name: read
    tool: test_echo
    args: { text: "{{ inputs.x }}" }
    output: got
  - name: write
    tool: test_mutate
    args: { item: "save {{ got.text }}" }
    output: saved
  - name: uses_write
    condition: "saved.count > 0"
    compute: "return 1"
  - name: confirm_it
    confirm: "Go on with {{ got.text }}?"
  - name: read_saved
    tool: test_echo
    args: { text: "saved {{ saved.count }}" }
`, 'inputs:\n  x: { type: string, default: abc }\n'));
    const result = await h.run({ name: 't', dry_run: true });
    expect(result.status).toBe('planned');
    expect(result.dry_run).toBe(true);
    expect(statuses(result)).toEqual({ read: 'succeeded', write: 'planned', uses_write: 'planned', confirm_it: 'planned', read_saved: 'planned' });
    expect(result.steps[4]!.note).toBe('arguments depend on the output of planned step write');
    expect(result.steps[1]!.args).toEqual({ item: 'save abc' });
    expect(result.steps[2]!.note).toMatch(/depends on the output of planned step write/);
    expect(h.fx.mutations).toEqual([]);
  });

  it('stops at a confirm step without a way to ask, and continues on resume with approval, reusing outputs', async () => {
    h.write('t', skill(`
  - name: first
    tool: test_mutate
    args: { item: first }
    output: one
  - name: approve
    confirm: "Continue after {{ one.count }}?"
  - name: second
    tool: test_mutate
    args: { item: "second after {{ one.count }}" }
`));
    const paused = await h.run({ name: 't' });
    expect(paused.status).toBe('awaiting_approval');
    expect(paused.steps.at(-1)).toMatchObject({ name: 'approve', status: 'awaiting_approval', note: 'Continue after 1?' });
    const still = await h.run({ resume: paused.run_id });
    expect(still.status).toBe('awaiting_approval');
    const done = await h.run({ resume: paused.run_id, approve: true });
    expect(done.status).toBe('succeeded');
    expect(done.run_id).toBe(paused.run_id);
    expect(h.fx.mutations).toEqual(['first', 'second after 1']);
    expect(done.steps[0]!.note).toMatch(/reused/);
    await expect(h.run({ resume: paused.run_id, approve: true })).rejects.toMatchObject({ code: 'precondition' });
  });

  it('asks through confirm when the session can, and a decline stops the run as declined', async () => {
    h.write('t', skill(`
  - name: approve
    confirm: "Ship it?"
  - name: ship
    tool: test_mutate
    args: { item: shipped }
`));
    const asked: string[] = [];
    const declined = await h.run({ name: 't' }, { confirm: async (q) => (asked.push(q), 'decline') });
    expect(declined.status).toBe('declined');
    expect(asked).toEqual(['Ship it?']);
    expect(h.fx.mutations).toEqual([]);
    const accepted = await h.run({ name: 't' }, { confirm: async () => 'accept' });
    expect(accepted.status).toBe('succeeded');
    expect(h.fx.mutations).toEqual(['shipped']);
  });

  it('resumes a failed run from the failed step with the original inputs and earlier outputs', async () => {
    h.write('t', skill(`
  - name: first
    tool: test_mutate
    args: { item: "{{ inputs.tag }}" }
    output: one
  - name: flaky
    tool: test_flaky
    args: { key: r, code: conflict, times: 1, message: "release already exists" }
  - name: last
    tool: test_mutate
    args: { item: "last {{ one.count }} {{ inputs.tag }}" }
`, 'inputs:\n  tag: { type: string, required: true }\n'));
    const failed = await h.run({ name: 't', inputs: { tag: 'v1' } });
    expect(failed.status).toBe('failed');
    expect(failed.report).toContain(`"resume": "${failed.run_id}"`);
    const resumed = await h.run({ resume: failed.run_id });
    expect(resumed.status).toBe('succeeded');
    expect(h.fx.mutations).toEqual(['v1', 'last 1 v1']);
    expect(h.fx.calls.r).toBe(2);
    const stored = (await getRun(h.runtime.memory, 'primary', failed.run_id))!;
    expect(stored.run).toMatchObject({ status: 'succeeded', resumes: 1, inputs: { tag: 'v1' } });
    expect(stored.steps.map((s) => `${s.round}:${s.name}:${s.status}`)).toEqual(['0:first:succeeded', '0:flaky:failed', '1:flaky:succeeded', '1:last:succeeded']);
    const learned = h.runtime.memory.db.prepare('SELECT fix FROM learned_fixes WHERE tool = ?').all('test_flaky') as Array<{ fix: string }>;
    expect(learned[0]!.fix).toMatch(/resumed run/);
  });

  it('stops between steps when cancelled and records the run as cancelled; finally still runs', async () => {
    h.write('t', skill(`
  - name: slow
    tool: test_slow
    args: { ms: 5000 }
  - name: after
    tool: test_mutate
    args: { item: after }
finally:
  - name: cleanup
    tool: test_mutate
    args: { item: "cleanup {{ run.status }}" }
`));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const result = await h.run({ name: 't' }, { signal: controller.signal });
    expect(result.status).toBe('cancelled');
    expect(statuses(result)).toEqual({ slow: 'cancelled', cleanup: 'succeeded' });
    expect(h.fx.mutations).toEqual(['cleanup cancelled']);
    expect((await getRun(h.runtime.memory, 'primary', result.run_id))!.run.status).toBe('cancelled');
  });

  it('records every run completely in memory, with secrets masked', async () => {
    h.close();
    h = skillHarness();
    (h.runtime.secretValues as string[]).push('s3cr3t-token');
    h.write('t', skill(`
  - name: echo
    tool: test_echo
    args: { text: "{{ inputs.token }}" }
    output: e
`, 'inputs:\n  token: { type: string, required: true }\n'));
    const result = await h.run({ name: 't', inputs: { token: 's3cr3t-token' } });
    const runs = await h.runtime.services.skills!.runs({ run_id: result.run_id }, 'primary');
    expect(runs.runs[0]!.run_id).toBe(result.run_id);
    expect(runs.run!.summary).toMatchObject({ skill: 't', version: '1', status: 'succeeded' });
    expect(runs.run!.steps[0]).toMatchObject({ name: 'echo', status: 'succeeded', tool: 'test_echo', attempts: 1, output_summary: expect.any(String) });
    expect(JSON.stringify(runs)).not.toContain('s3cr3t-token');
    expect(runs.run!.inputs).toEqual({ token: '[redacted]' });
  });

  it('sends progress per step', async () => {
    h.write('t', skill(`
  - name: a
    compute: "return 1"
  - name: b
    compute: "return 2"
`));
    const seen: string[] = [];
    await h.run({ name: 't' }, { progress: async (p) => void seen.push(`${p.progress}/${p.total} ${p.message}`) });
    expect(seen).toEqual(['1/2 a: succeeded', '2/2 b: succeeded']);
  });
});

describe('skill engine: plans and resumes never change things', () => {
  it('a plan does not run the auto_heal action of a failing read-only step', async () => {
    h.close();
    h = skillHarness({ config: { heal: { network: { tool: 'test_mutate', args: { item: 'healed' } } } } });
    h.write('t', skill(`
  - name: read
    tool: test_flaky
    args: { key: p, code: network, times: 1, message: "no route to host" }
    on_error: auto_heal
`));
    const result = await h.run({ name: 't', dry_run: true });
    expect(h.fx.mutations).toEqual([]);
    expect(result.status).toBe('failed');
    expect(result.steps[0]).toMatchObject({ status: 'failed', note: expect.stringContaining('not run in a plan') });
  });

  it('a plan whose finally step fails is not reported as planned', async () => {
    h.write('t', `name: t\ndescription: test skill\nsteps:
  - name: read
    tool: test_echo
    args: { text: a }
finally:
  - name: cleanup
    tool: test_flaky
    args: { key: f, code: not_found, times: 1, message: "gone" }
`);
    const result = await h.run({ name: 't', dry_run: true });
    expect(result.steps[1]).toMatchObject({ name: 'cleanup', status: 'failed' });
    expect(result.status).toBe('failed');
  });

  it('a plan fails a step that calls a tool that does not exist, as the real run would', async () => {
    h.write('t', skill(`
  - name: typo
    tool: test_mutat
    args: { item: x }
`));
    const result = await h.run({ name: 't', dry_run: true });
    expect(result.steps[0]).toMatchObject({ status: 'failed', error: { code: 'not_found' } });
    expect(result.status).toBe('failed');
  });

  it('a plan checks the arguments of a change against its tool, as the real run would, and shows them as sent', async () => {
    h.write('t', skill(`
  - name: comment
    tool: jira_add_comment
    args: { issue_key: "not a key", comment: "hello" }
  - name: write
    tool: test_slow_write
    args: { item: x, ms: "5" }
`));
    const result = await h.run({ name: 't', dry_run: true });
    expect(result.steps[0]).toMatchObject({ status: 'failed', error: { code: 'invalid_input', message: expect.stringContaining('issue_key') } });
    expect(result.status).toBe('failed');
    h.write('t', skill(`
  - name: write
    tool: test_slow_write
    args: { item: x, ms: "5" }
`));
    const ok = await h.run({ name: 't', dry_run: true });
    expect(ok.steps[0]).toMatchObject({ status: 'planned', args: { item: 'x', ms: 5 } });
    expect(h.fx.mutations).toEqual([]);
  });

  it('refuses to resume a run on a read-only server, leaving the run resumable', async () => {
    const path = join(tempDir('release-mcp-ro-resume-').path, 'memory.db');
    h.close();
    h = skillHarness({ memoryPath: path });
    h.write('t', skill(`
  - name: first
    tool: test_mutate
    args: { item: first }
  - name: second
    tool: test_flaky
    args: { key: r, code: not_found, times: 1, message: "missing" }
  - name: third
    tool: test_mutate
    args: { item: third }
`));
    const failed = await h.run({ name: 't' });
    expect(failed.status).toBe('failed');
    const dir = h.dir;
    h.runtime.close();
    const ro = skillHarness({ memoryPath: path, readOnly: true, config: { skills_dirs: [dir] } });
    try {
      await expect(ro.run({ resume: failed.run_id })).rejects.toMatchObject({ code: 'precondition' });
    } finally {
      ro.runtime.close();
    }
    h = skillHarness({ memoryPath: path, config: { skills_dirs: [dir] } });
    writeFileSync(join(dir, 't.yaml'), readFileSync(join(dir, 't.yaml'), 'utf8').replace('times: 1', 'times: 0'));
    const resumed = await h.run({ resume: failed.run_id });
    expect(resumed.status).toBe('succeeded');
    expect(statuses(resumed)).toMatchObject({ first: 'succeeded', second: 'succeeded', third: 'succeeded' });
    expect(h.fx.mutations).toEqual(['third']);
  });
});

describe('skill engine: a resume never repeats a change', () => {
  it('refuses to resume when the skill gained a step before changes that already ran', async () => {
    const body = `
  - name: first
    tool: test_mutate
    args: { item: first }
  - name: second
    tool: test_flaky
    args: { key: s, code: not_found, times: 1, message: "missing" }
`;
    h.write('t', skill(body));
    const failed = await h.run({ name: 't' });
    expect(failed.status).toBe('failed');
    h.write('t', skill(`
  - name: new_check
    compute: "return 1"${body}`));
    await expect(h.run({ resume: failed.run_id })).rejects.toMatchObject({ code: 'conflict' });
    expect(h.fx.mutations).toEqual(['first']);
    expect((await getRun(h.runtime.memory, 'primary', failed.run_id))!.run.status).toBe('failed');
  });
});

describe('skill engine: approval on resume', () => {
  it('does not approve a confirm step whose question was never asked', async () => {
    h.write('t', skill(`
  - name: first
    compute: "return 1"
  - name: approve
    confirm: "Change things?"
  - name: change
    tool: test_mutate
    args: { item: changed }
`));
    const controller = new AbortController();
    const cancelled = await h.run({ name: 't' }, { signal: controller.signal, progress: async () => controller.abort() });
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.steps.map((s) => s.name)).toEqual(['first']);
    const resumed = await h.run({ resume: cancelled.run_id, approve: true });
    expect(resumed.status).toBe('awaiting_approval');
    expect(h.fx.mutations).toEqual([]);
    const approved = await h.run({ resume: cancelled.run_id, approve: true });
    expect(approved.status).toBe('succeeded');
    expect(h.fx.mutations).toEqual(['changed']);
  });
});

describe('skill engine: a change that ran is always recorded', () => {
  it('records a change that ran even when its output is too large for the expression sandbox, so a resume does not repeat it', async () => {
    h.close();
    h = skillHarness({ config: { skills: { expression_memory_mb: 4 } } });
    h.write('t', skill(`
  - name: write
    tool: test_big_write
    args: { item: once, size: 8000000 }
    output: big
  - name: after
    compute: "return 1"
`));
    const error = await h.run({ name: 't' }).then(() => undefined, (e: Error) => e);
    expect(error).toBeDefined();
    const id = (h.runtime.memory.db.prepare('SELECT id FROM skill_runs').get() as { id: string }).id;
    const stored = (await getRun(h.runtime.memory, 'primary', id))!;
    expect(stored.run.status).toBe('failed');
    expect(stored.steps.map((s) => [s.name, s.status])).toEqual([['write', 'succeeded']]);
    await h.run({ resume: id }).catch(() => undefined);
    expect(h.fx.mutations).toEqual(['once']);
    // A resume that could not start leaves the run resumable, not stuck as running.
    expect((await getRun(h.runtime.memory, 'primary', id))!.run.status).toBe('failed');
  });
});
