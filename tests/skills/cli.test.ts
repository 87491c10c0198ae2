import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/harness.js';

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

  it('runs a skill file with --file and --inputs-json', () => {
    const file = join(dir.path, 'single.yaml');
    writeFileSync(file, 'name: single\ndescription: d\ninputs:\n  n: { type: number }\nsteps:\n  - name: double\n    compute: "return inputs.n * 2"\n    output: doubled\n');
    const run = cli('run', '--file', file, '--inputs-json', '{"n": 21}', '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).outputs).toEqual({ doubled: 42 });
  });
});
