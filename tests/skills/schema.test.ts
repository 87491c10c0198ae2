import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSkillFile, loadSkills, parseDuration, SkillFileError } from '../../src/skills/index.js';
import { tempDir } from '../helpers/harness.js';

const dirs: Array<{ cleanup(): void }> = [];
afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

function folder(files: Record<string, string>): string {
  const dir = tempDir('release-mcp-skill-schema-');
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir.path, name, '..'), { recursive: true });
    writeFileSync(join(dir.path, name), text);
  }
  return dir.path;
}

const minimal = (name: string, extra = '') => `name: ${name}\ndescription: d\n${extra}steps:\n  - name: a\n    compute: "return 1"\n`;

describe('skill schema and loader', () => {
  it('accepts inputs as a map or as the original list, with types, defaults, enum and pattern', () => {
    const dir = folder({
      'map.yaml': minimal('map_form', 'inputs:\n  sha: { type: string, required: true, pattern: "^[0-9a-f]{40}$" }\n  n: { type: integer, default: 2 }\n'),
      'list.yaml': minimal('list_form', 'inputs:\n  - name: sha\n    type: string\n    required: true\n    description: Full SHA\n  - name: env\n    enum: [stage, prod]\n    default: stage\n'),
    });
    const skills = loadSkills([dir]);
    expect(skills.get('map_form')!.skill.inputs).toMatchObject({ sha: { type: 'string', required: true }, n: { type: 'integer', default: 2 } });
    expect(skills.get('list_form')!.skill.inputs).toMatchObject({ sha: { required: true, description: 'Full SHA' }, env: { type: 'string', enum: ['stage', 'prod'] } });
  });

  it('refuses an unknown input type and a default, enum value or pattern a run would refuse, at the field path', () => {
    const problems = (extra: string) => {
      try {
        loadSkillFile(join(folder({ 's.yaml': minimal('typed', extra) }), 's.yaml'));
      } catch (error) {
        expect(error).toBeInstanceOf(SkillFileError);
        return (error as SkillFileError).problems;
      }
      throw new Error('expected the skill to be refused');
    };
    expect(
      problems(`inputs:
  n: { type: int }
  count: { type: integer, default: "abc" }
  half: { type: integer, default: 1.5 }
  flag: { type: boolean, default: 3 }
  env: { type: string, enum: [stage, prod], default: dev }
  level: { type: integer, enum: ["1", 2] }
  sha: { type: string, pattern: "^[0-9a-f]{40}$", default: abc }
  bad_re: { type: string, pattern: "([" }
  tags: { type: array, default: { a: 1 } }
`),
    ).toEqual([
      'inputs.n.type: unknown input type "int" (types: string, boolean, integer, number, array, object)',
      'inputs.count.default: the default does not fit the input: expected an integer, got "abc"',
      'inputs.half.default: the default does not fit the input: expected an integer, got 1.5',
      'inputs.flag.default: the default does not fit the input: expected a boolean, got 3',
      'inputs.env.default: the default does not fit the input: expected one of "stage", "prod", got "dev"',
      'inputs.level.enum[0]: expected an integer (the input\'s type), got "1"',
      'inputs.sha.default: the default does not fit the input: "abc" does not match /^[0-9a-f]{40}$/',
      expect.stringMatching(/^inputs\.bad_re\.pattern: not a valid regular expression: /),
      'inputs.tags.default: the default does not fit the input: expected an array, got {"a":1}',
    ]);
    // The list form names the entry by its index.
    expect(problems('inputs:\n  - name: ok\n  - name: n\n    type: bool\n    default: true\n  - name: m\n    type: boolean\n    default: 3\n')).toEqual([
      'inputs[1].type: unknown input type "bool" (types: string, boolean, integer, number, array, object)',
      'inputs[2].default: the default does not fit the input: expected a boolean, got 3',
    ]);
  });

  it('accepts defaults a run accepts: coercible literals, templates rendered at run time, enum members', () => {
    const { skill } = loadSkillFile(
      join(
        folder({
          's.yaml': minimal(
            'typed',
            'inputs:\n  n: { type: integer, default: "5" }\n  on: { type: boolean, default: "yes" }\n  date: { type: string, default: "{{ today }}", pattern: "^\\\\d{4}-" }\n  count: { type: integer, default: "{{ 2 + 3 }}" }\n  env: { type: string, enum: [stage, prod], default: prod }\n  list: { type: array, default: "a,b" }\n',
          ),
        }),
        's.yaml',
      ),
    );
    expect(skill.inputs).toMatchObject({ n: { default: '5' }, on: { default: 'yes' }, count: { default: '{{ 2 + 3 }}' }, env: { default: 'prod' }, list: { default: 'a,b' } });
  });

  it('names the file and the path of every problem: unknown keys, bad step shapes, bad durations', () => {
    const dir = folder({
      'bad.yaml': `name: bad
description: d
steps:
  - name: ok
    compute: "return 1"
  - name: two_kinds
    tool: test_echo
    compute: "return 1"
  - name: typo
    tool: test_echo
    arguments: { text: x }
  - name: slow
    tool: test_echo
    timeout: soon
`,
    });
    const file = join(dir, 'bad.yaml');
    let error: SkillFileError | undefined;
    try {
      loadSkillFile(file);
    } catch (e) {
      error = e as SkillFileError;
    }
    expect(error).toBeInstanceOf(SkillFileError);
    expect(error!.message).toContain(file);
    expect(error!.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^steps\[1\]: a step is one of tool, compute, assert, confirm/),
        expect.stringMatching(/^steps\[2\]: unknown key "arguments"/),
        expect.stringMatching(/^steps\[3\]\.timeout: expected a duration/),
      ]),
    );
  });

  it('refuses a skill name defined twice, duplicate step names and outputs', () => {
    const dir = folder({ 'a.yaml': minimal('same'), 'sub/b.yaml': minimal('same') });
    expect(() => loadSkills([dir])).toThrow(/skill "same" is defined twice: .*a\.yaml and .*b\.yaml/);
    const dup = folder({
      'd.yaml': 'name: d\ndescription: d\nsteps:\n  - name: a\n    compute: "return 1"\n    output: x\n  - name: a\n    compute: "return 2"\n    output: x\n',
    });
    expect(() => loadSkills([dup])).toThrow(/steps\[1\]\.name: step name "a" is used twice[\s\S]*steps\[1\]\.output: output "x" is produced twice/);
  });

  it('reports a YAML syntax error and a missing skills folder', () => {
    const dir = folder({ 'broken.yaml': 'name: [unclosed\n' });
    expect(() => loadSkills([dir])).toThrow(/broken\.yaml[\s\S]*YAML/);
    expect(() => loadSkills([join(dir, 'missing')])).toThrow(/skills_dirs: folder .*missing does not exist/);
  });

  it('reads durations', () => {
    expect(parseDuration('2s')).toBe(2000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration(250)).toBe(250);
    expect(parseDuration('soon')).toBeNaN();
  });
});
