import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { skillHarness, type SkillHarness } from './fixtures.js';

let h: SkillHarness;
beforeEach(() => {
  h = skillHarness();
});
afterEach(() => h.close());

describe('skill lint', () => {
  it('passes every builtin skill', async () => {
    const report = await h.runtime.services.skills!.lint();
    expect(report.findings).toEqual([]);
    expect(report.skills).toContain('record_learned_fix');
    expect(report.ok).toBe(true);
  });

  it('finds unknown tools, unknown and missing arguments, bad literal values, later outputs and bad expressions', async () => {
    const file = h.write(
      'linty',
      `name: linty
description: everything wrong
steps:
  - name: no_tool
    tool: quay_get_everything
  - name: bad_args
    tool: check_known_issues
    args: { tool: x, limit: "many" }
  - name: missing
    tool: learn_tool_fix
    args: { tool_name: x, error_pattern: "{{ inputs.e }}" }
  - name: early
    compute: "return later.value + 1"
  - name: cond
    condition: "inputs.a >"
    tool: test_echo
    args: { text: "{{ unknown_thing }}" }
  - name: stepref
    assert: "steps.nothing.status == 'succeeded'"
  - name: produce
    tool: test_echo
    output: later
`,
    );
    const report = await h.runtime.services.skills!.lint(file);
    const found = report.findings.map((f) => `${f.path}: ${f.message}`);
    expect(report.ok).toBe(false);
    expect(found).toEqual(
      expect.arrayContaining([
        'steps[0].tool: no tool "quay_get_everything"',
        expect.stringMatching(/^steps\[1\]\.args\.tool: check_known_issues has no argument "tool"/),
        expect.stringMatching(/^steps\[1\]\.args\.limit: expected number/),
        'steps[2].args.root_cause: required argument of learn_tool_fix is missing',
        'steps[2].args.fix_description: required argument of learn_tool_fix is missing',
        'steps[3].compute: reads "later", the output of step produce, which has not run yet at this point',
        expect.stringMatching(/^steps\[4\]\.condition: does not parse: SyntaxError/),
        'steps[4].args.text: unknown name "unknown_thing" (not an input scope name, helper or earlier output)',
        'steps[5].assert: reads steps.nothing, which is not an earlier step',
      ]),
    );
    expect(found).toHaveLength(9);
  });

  it('reports a schema error as a finding with the file and path', async () => {
    const file = h.write('broken', 'name: broken\ndescription: d\nsteps:\n  - name: a\n    compute: "return 1"\n    retries: 3\n');
    const report = await h.runtime.services.skills!.lint(file);
    expect(report.findings).toEqual([{ skill: '', file, path: 'steps[0]', message: 'unknown key "retries"' }]);
  });
});

describe('lint of input types and defaults', () => {
  const TYPED = `name: typed
description: inputs a run would refuse
inputs:
  n: { type: int }
  count: { type: integer, default: "abc" }
  flag: { type: boolean, default: 3 }
  env: { type: string, enum: [stage, prod], default: dev }
steps:
  - name: a
    compute: "return 1"
`;
  const EXPECTED = [
    { path: 'inputs.n.type', message: 'unknown input type "int" (types: string, boolean, integer, number, array, object)' },
    { path: 'inputs.count.default', message: 'the default does not fit the input: expected an integer, got "abc"' },
    { path: 'inputs.flag.default', message: 'the default does not fit the input: expected a boolean, got 3' },
    { path: 'inputs.env.default', message: 'the default does not fit the input: expected one of "stage", "prod", got "dev"' },
  ];

  it('reports each at its field path, for the file and among all skills, while the other skills are still linted', async () => {
    const file = h.write('typed', TYPED);
    h.write('fine', 'name: fine\ndescription: d\nsteps:\n  - name: a\n    tool: nothing_like_this\n');
    const one = await h.runtime.services.skills!.lint(file);
    expect(one).toEqual({ ok: false, skills: [], findings: EXPECTED.map((f) => ({ skill: '', file, ...f })) });
    const all = await h.runtime.services.skills!.lint();
    expect(all.ok).toBe(false);
    expect(all.findings).toEqual(expect.arrayContaining(EXPECTED.map((f) => ({ skill: '', file, ...f }))));
    // The good files still load and are linted: a finding of another skill is reported beside them.
    expect(all.skills).toEqual(expect.arrayContaining(['fine', 'record_learned_fix']));
    expect(all.findings).toContainEqual(expect.objectContaining({ skill: 'fine', path: 'steps[0].tool', message: 'no tool "nothing_like_this"' }));
    // By name, a good skill is linted even while another file is broken.
    expect(await h.runtime.services.skills!.lint('record_learned_fix')).toMatchObject({ ok: true, skills: ['record_learned_fix'] });
  });

  it('reports them through skill_lint, and every other skill tool names the file and path instead of failing quietly', async () => {
    const { connect, errorOf } = await import('../helpers/harness.js');
    const file = h.write('typed', TYPED);
    const c = await connect(h.runtime);
    const lint = await c.call('skill_lint', { target: file });
    expect(lint.isError).toBeFalsy();
    expect(lint.structuredContent).toEqual({ ok: false, skills: [], findings: EXPECTED.map((f) => ({ skill: '', file, ...f })) });
    const all = await c.call('skill_lint', {});
    expect((all.structuredContent as { findings: unknown[] }).findings).toEqual(expect.arrayContaining(EXPECTED.map((f) => ({ skill: '', file, ...f }))));
    const listed = errorOf(await c.call('skill_list'));
    expect(listed.code).toBe('config');
    expect(listed.message).toContain(`invalid skill file ${file}`);
    expect(listed.message).toContain('inputs.count.default: the default does not fit the input: expected an integer, got "abc"');
    expect(errorOf(await c.call('skill_lint', { target: 'typed' }))).toMatchObject({ code: 'not_found', hint: expect.stringContaining(`files that do not load (lint without a name shows why): ${file}`) });
    await c.close();
  });
});

describe('skill_lint reads only the skill folders', () => {
  it('refuses a path outside them, a symlink out, a FIFO, a device and an oversize file, without echoing their content', async () => {
    const { execFileSync } = await import('node:child_process');
    const { symlinkSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { connect } = await import('../helpers/harness.js');
    const c = await connect(h.runtime);
    const lint = async (target?: string) => {
      const result = await c.call('skill_lint', target === undefined ? {} : { target });
      return result.structuredContent as { ok: boolean; findings: Array<{ file: string; message: string }> };
    };
    const passwd = await lint('/etc/passwd');
    expect(passwd.ok).toBe(false);
    expect(passwd.findings).toEqual([expect.objectContaining({ file: '/etc/passwd', message: expect.stringMatching(/outside the folders this server reads/) })]);
    expect(JSON.stringify(passwd)).not.toMatch(/root:/);
    expect((await lint('/dev/zero')).findings[0]!.message).toMatch(/outside the folders/);

    symlinkSync('/etc/passwd', join(h.dir, 'out.yaml'));
    expect((await lint(join(h.dir, 'out.yaml'))).findings[0]!.message).toMatch(/outside the folders/);
    symlinkSync('/dev/zero', join(h.dir, 'zero.yaml'));
    execFileSync('mkfifo', [join(h.dir, 'pipe.yaml')]);
    expect((await lint(join(h.dir, 'pipe.yaml'))).findings[0]!.message).toMatch(/is a FIFO; only regular files are read/);
    writeFileSync(join(h.dir, 'huge.yaml'), `name: huge\ndescription: "${'x'.repeat(1024 * 1024)}"\nsteps: []\n`);

    // Linting everything names each bad file; nothing is skipped quietly and nothing leaks.
    const all = await lint();
    expect(all.ok).toBe(false);
    const messages = all.findings.map((f) => f.message).join('\n');
    expect(messages).toMatch(/out\.yaml is outside the folders/);
    expect(messages).toMatch(/zero\.yaml is outside the folders/);
    expect(messages).toMatch(/pipe\.yaml is a FIFO/);
    expect(messages).toMatch(/huge\.yaml is larger than 1048576 bytes/);
    expect(messages).not.toMatch(/root:/);
    await c.close();
  });

  it('on the command line (the local user), lints a file outside the skill folders', async () => {
    const { tempDir } = await import('../helpers/harness.js');
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const other = tempDir();
    const file = join(other.path, 'draft.yaml');
    writeFileSync(file, 'name: draft\ndescription: d\nsteps:\n  - name: a\n    compute: "return 1"\n');
    expect(await h.runtime.services.skills!.lint(file, { anyFile: true })).toMatchObject({ ok: true, skills: ['draft'] });
    expect((await h.runtime.services.skills!.lint(file)).findings[0]!.message).toMatch(/outside the folders/);
    other.cleanup();
  });
});
