import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/harness.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

let dir: { path: string; cleanup(): void };
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.cleanup());

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: dir.path,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, XDG_CONFIG_HOME: join(dir.path, 'xdg'), RELEASE_MCP_CONFIG: '', RELEASE_MCP_HTTP_TOKEN: '' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('release-mcp at start', () => {
  it('exits 2 with the path and what to do when the memory file is not a database', () => {
    const memory = join(dir.path, 'memory.db');
    writeFileSync(memory, 'this is not a database, it is a text file long enough to have a header page\n'.repeat(20));
    const run = cli('tools', 'list', '--memory', memory);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`memory file ${memory} is not a usable SQLite database`);
    expect(run.stderr).toMatch(/restore it from a backup, or move it aside/);
    expect(run.stderr).not.toMatch(/at \w+ \(/); // a message, not a stack trace
  });

  it('exits 2 with the path and what to do when the memory file cannot be written', () => {
    const run = cli('tools', 'list', '--memory', '/sys/release-mcp-memory.db');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cannot write the memory file \/sys\/release-mcp-memory\.db .*fix the permissions/);
  });

  it('says on stderr that no config file was found, where it looked, and that defaults apply', () => {
    const run = cli('tools', 'list', '--memory', join(dir.path, 'memory.db'));
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`no config file found (looked in --config, RELEASE_MCP_CONFIG, ${join(dir.path, 'config.json')}, ${join(dir.path, 'xdg', 'release-mcp', 'config.json')}); using defaults`);
    writeFileSync(join(dir.path, 'config.json'), '{}');
    expect(cli('tools', 'list', '--memory', join(dir.path, 'memory.db')).stderr).not.toMatch(/no config file found/);
  });

  it('refuses a short --http-token with exit 2 and without printing it', () => {
    const run = cli('serve', '--http', '--port', '0', '--http-token', 'tiny-secret', '--memory', join(dir.path, 'memory.db'));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/shorter than 16 characters/);
    expect(run.stderr).not.toContain('tiny-secret');
  });
});
