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
