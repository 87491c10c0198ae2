import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { tempDir, textOf } from '../helpers/harness.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
let dir: { path: string; cleanup(): void };
let config: string;
let memory: string;

beforeAll(() => {
  dir = tempDir('release-mcp-skill-cli-');
  const skills = join(dir.path, 'skills');
  spawnSync('mkdir', ['-p', skills]);
  writeFileSync(
    join(skills, 'gate.yaml'),
    `name: gate
description: log, then wait for approval, then log again
inputs:
  what: { type: string, required: true }
  count: { type: integer, default: 1 }
steps:
  - name: before
    tool: memory_session_log
    args: { action: "before {{ inputs.what }} x{{ inputs.count + 1 }}" }
  - name: approve
    confirm: "Go on with {{ inputs.what }}?"
  - name: after
    tool: memory_session_log
    args: { action: "after {{ inputs.what }}" }
`,
  );
  writeFileSync(join(skills, 'fails.yaml'), 'name: fails\ndescription: d\nsteps:\n  - name: check\n    assert: "1 > 2"\n    message: "it cannot work"\n');
  config = join(dir.path, 'config.json');
  memory = join(dir.path, 'memory.db');
  writeFileSync(config, JSON.stringify({ skills_dirs: ['./skills'] }));
});
afterAll(() => dir.cleanup());

function cli(...args: string[]) {
  const result = spawnSync('node', [CLI, 'skill', ...args, '--config', config, '--memory', memory], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('release-mcp skill (CLI)', () => {
  it('lists, describes and lints', () => {
    expect(cli('list').stdout).toMatch(/gate\s+v1\s+3 steps/);
    expect(cli('describe', 'gate').stdout).toContain('what: string (required)');
    const lint = cli('lint');
    expect(lint.code).toBe(0);
    expect(lint.stdout).toMatch(/pass lint/);
  });

  it('exits 2 on bad input and names the problem', () => {
    const missing = cli('run', 'gate');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/what: required/);
    expect(cli('run', 'gate', '--input', 'what=x', '--input', 'count=many').code).toBe(2);
    expect(cli('run', 'nosuch').code).toBe(2);
    expect(cli('frobnicate').code).toBe(2);
  });

  it('lists the builtin release skills from the bundled CLI', () => {
    const listed = cli('list').stdout;
    for (const name of ['release_aa_backend_prod', 'release_to_prod', 'scan_vulnerabilities']) expect(listed).toContain(name);
  });

  it('prints a line per finished step on a non-terminal stderr only with --progress', () => {
    expect(cli('run', 'fails').stderr).not.toMatch(/1\/1 check/);
    expect(cli('run', 'fails', '--progress').stderr).toContain('1/1 check: failed');
  });

  it('exits 1 on a failed run and shows the failure', () => {
    const failed = cli('run', 'fails');
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('it cannot work');
  });

  it('plans with exit 0, pauses for approval with exit 3, and resumes with --approve', () => {
    const plan = cli('plan', 'gate', '--input', 'what=release');
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/before.*planned/);
    const paused = cli('run', 'gate', '--input', 'what=release', '--input', 'count=2', '--json');
    expect(paused.code).toBe(3);
    const result = JSON.parse(paused.stdout) as { run_id: string; status: string; steps: Array<{ args?: Record<string, unknown> }> };
    expect(result.status).toBe('awaiting_approval');
    expect(result.steps[0]!.args).toEqual({ action: 'before release x3' });
    const resumed = cli('resume', result.run_id, '--approve', '--json');
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ run_id: result.run_id, status: 'succeeded' });
    const runs = cli('runs', result.run_id);
    expect(runs.stdout).toMatch(/\[1\] after: succeeded/);
  });

  it('plans a skill file with --file exactly as the same skill by name, and runs no file', () => {
    const file = join(dir.path, 'draft-gate.yaml');
    writeFileSync(file, readFileSync(join(dir.path, 'skills', 'gate.yaml'), 'utf8').replace('name: gate', 'name: draft_gate'));
    const byName = cli('plan', 'gate', '--input', 'what=release', '--input', 'count=4', '--json');
    const byFile = cli('plan', '--file', file, '--input', 'what=release', '--input', 'count=4', '--json');
    expect(byFile.code).toBe(0);
    const shape = (out: string) => {
      const r = JSON.parse(out) as { status: string; dry_run: boolean; steps: Array<{ name: string; status: string; args?: unknown }>; outputs: unknown };
      return { status: r.status, dry_run: r.dry_run, steps: r.steps.map((s) => ({ name: s.name, status: s.status, args: s.args })), outputs: r.outputs };
    };
    expect(shape(byFile.stdout)).toEqual(shape(byName.stdout));
    expect(shape(byFile.stdout)).toMatchObject({ status: 'planned', steps: [{ name: 'before', status: 'planned', args: { action: 'before release x5' } }, { name: 'approve' }, { name: 'after' }] });
    // The readable report is the one a plan by name prints.
    const text = cli('plan', '--file', file, '--input', 'what=release');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/## draft_gate v1: planned/);
    expect(text.stdout).toMatch(/before.*planned/);
    // Compute steps run in a plan, with --inputs-json too; a relative path is read from the working folder.
    writeFileSync(join(dir.path, 'single.yaml'), 'name: single\ndescription: d\ninputs:\n  n: { type: number }\nsteps:\n  - name: double\n    compute: "return inputs.n * 2"\n    output: doubled\n');
    const single = spawnSync('node', [CLI, 'skill', 'plan', '--file', 'single.yaml', '--inputs-json', '{"n": 21}', '--json', '--config', config, '--memory', memory], { cwd: dir.path, encoding: 'utf8' });
    expect(single.status).toBe(0);
    expect(JSON.parse(single.stdout).outputs).toEqual({ doubled: 42 });

    const run = cli('run', '--file', file, '--input', 'what=release');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/skill run --file: a skill file outside the skills folders is only planned \(skill plan --file PATH\)/);
    expect(run.stderr).toMatch(/skills_dirs/);
    expect(cli('runs').stdout).not.toMatch(/draft_gate\s+(running|awaiting_approval|succeeded)/);
  });

  it('stops plan --file at lint: schema problems and tool problems by field path, exit 2, nothing planned', () => {
    const typed = join(dir.path, 'typed.yaml');
    writeFileSync(typed, 'name: typed\ndescription: d\ninputs:\n  count: { type: integer, default: "abc" }\n  flag: { type: bool }\nsteps:\n  - name: a\n    compute: "return 1"\n');
    const bad = cli('plan', '--file', typed);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('inputs.count.default: the default does not fit the input: expected an integer, got "abc"');
    expect(bad.stderr).toContain('inputs.flag.type: unknown input type "bool"');
    expect(bad.stdout).toBe('');

    const tools = join(dir.path, 'tools.yaml');
    writeFileSync(tools, 'name: tooly\ndescription: d\nsteps:\n  - name: look\n    tool: memory_session_log\n    args: { action: x, colour: red }\n  - name: other\n    tool: no_such_tool\n');
    const before = cli('runs', '--json').stdout;
    const linted = cli('plan', '--file', tools, '--json');
    expect(linted.code).toBe(2);
    expect(linted.stderr).toContain(`${tools} does not pass lint; nothing was planned:`);
    expect(linted.stderr).toMatch(/ {2}steps\[0\]\.args\.colour: memory_session_log has no argument "colour"/);
    expect(linted.stderr).toContain('  steps[1].tool: no tool "no_such_tool"');
    expect(cli('runs', '--json').stdout).toBe(before);

    expect(cli('plan', '--file', join(dir.path, 'absent.yaml')).code).toBe(2);
    // Read as skill folders are read: a regular file of at most 1 MiB.
    const fifo = join(dir.path, 'pipe.yaml');
    spawnSync('mkfifo', [fifo]);
    const piped = cli('plan', '--file', fifo);
    expect(piped.code).toBe(2);
    expect(piped.stderr).toContain('is a FIFO; only regular files are read');
    const huge = join(dir.path, 'huge.yaml');
    writeFileSync(huge, `name: huge\ndescription: "${'x'.repeat(1024 * 1024)}"\nsteps: []\n`);
    expect(cli('plan', '--file', huge).stderr).toContain('is larger than 1048576 bytes');
    expect(cli('plan', 'gate', '--file', tools).code).toBe(2);
  });
});

describe('a skill that does not load, in a skills folder', () => {
  let bad: { path: string; cleanup(): void };
  let badConfig: string;
  let file: string;
  beforeAll(() => {
    bad = tempDir('release-mcp-skill-bad-');
    mkdirSync(join(bad.path, 'skills'));
    file = join(bad.path, 'skills', 'typed.yaml');
    writeFileSync(file, 'name: typed\ndescription: d\ninputs:\n  count: { type: integer, default: "abc" }\nsteps:\n  - name: a\n    compute: "return 1"\n');
    badConfig = join(bad.path, 'config.json');
    writeFileSync(badConfig, JSON.stringify({ skills_dirs: ['./skills'] }));
  });
  afterAll(() => bad.cleanup());

  it('fails skill lint with the file and the field path', () => {
    const result = spawnSync('node', [CLI, 'skill', 'lint', '--config', badConfig, '--memory', join(bad.path, 'm.db')], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(`${file} inputs.count.default: the default does not fit the input: expected an integer, got "abc"`);
  });

  it('does not stop the server: it starts, lists its tools, and the skill tools say which file and field to fix', async () => {
    const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'serve', '--config', badConfig, '--memory', join(bad.path, 'serve.db')], stderr: 'pipe' });
    const client = new Client({ name: 'bad-skill-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['skill_list', 'skill_plan']));
      const listed = (await client.callTool({ name: 'skill_list', arguments: {} })) as CallToolResult;
      expect(listed.isError).toBe(true);
      expect(textOf(listed)).toContain(`invalid skill file ${file}`);
      expect(textOf(listed)).toContain('inputs.count.default: the default does not fit the input');
      const lint = (await client.callTool({ name: 'skill_lint', arguments: {} })) as CallToolResult;
      expect(lint.structuredContent).toMatchObject({ ok: false, findings: expect.arrayContaining([expect.objectContaining({ file, path: 'inputs.count.default' })]) });
      // The server is still there for every other tool.
      expect(((await client.callTool({ name: 'persona_list', arguments: {} })) as CallToolResult).isError).toBeFalsy();
    } finally {
      await client.close();
    }
  });
});
