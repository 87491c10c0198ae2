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
