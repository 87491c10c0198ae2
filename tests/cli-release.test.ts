import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/harness.js';
import { columnsOf, ledgerConfig } from './releases/fixtures.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist/cli.js');

interface Answer {
  code: number | null;
  json: { success: boolean; data?: Record<string, unknown>; error?: { code: string; message: string } } | undefined;
  stdout: string;
  stderr: string;
}

describe('release-mcp release and the Makefile targets', () => {
  const dir = tempDir();
  let config: string;
  const env = () => ({ ...process.env, XDG_CONFIG_HOME: join(dir.path, 'xdg'), XDG_DATA_HOME: join(dir.path, 'data'), RELEASE_MCP_CONFIG: '', RELEASE_MCP_HTTP_TOKEN: '' });
  const answer = (result: ReturnType<typeof spawnSync>): Answer => {
    const stdout = String(result.stdout);
    let json: Answer['json'];
    try {
      json = JSON.parse(stdout.slice(stdout.indexOf('{')));
    } catch {
      json = undefined;
    }
    return { code: result.status, json, stdout, stderr: String(result.stderr) };
  };
  const cli = (...args: string[]) => answer(spawnSync(process.execPath, [CLI, 'release', ...args, '--config', config], { cwd: dir.path, encoding: 'utf8', timeout: 60_000, env: env() }));
  const make = (...args: string[]) => answer(spawnSync('make', ['-s', '-C', ROOT, ...args, `CONFIG=${config}`], { encoding: 'utf8', timeout: 60_000, env: env() }));
  const staging = () => join(dir.path, 'staging.db');

  beforeAll(() => {
    config = join(dir.path, 'config.json');
    writeFileSync(config, JSON.stringify({ ...ledgerConfig(dir.path), memory: { path: join(dir.path, 'memory.db') } }));
    writeFileSync(
      join(dir.path, 'bundle.json'),
      JSON.stringify({ database: { changes: [{ type: 'add_column', table: 'users', column: { name: 'plan', type: 'TEXT' } }] }, feature_flags: { new_ui: true } }),
    );
  });
  afterAll(() => dir.cleanup());

  it('make release-prepare, release-promote and release-rollback drive a release through its states', () => {
    const prepared = make('release-prepare', 'TENANT=primary', `BUNDLE=${join(dir.path, 'bundle.json')}`);
    expect(prepared.code, prepared.stderr).toBe(0);
    expect(prepared.json).toMatchObject({ success: true, data: { status: 'prepared', from_env: 'dev', to_env: 'staging', migrations: [{ operation: 'add_column', table: 'users' }] } });
    expect(columnsOf(staging(), 'users')).not.toContain('plan');
    const id = prepared.json!.data!.release_id as string;

    const promoted = make('release-promote', 'TENANT=primary');
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(promoted.json).toMatchObject({ success: true, data: { release_id: id, status: 'promoted' } });
    expect(columnsOf(staging(), 'users')).toContain('plan');

    const noRelease = make('release-rollback', 'TENANT=primary');
    expect(noRelease.code).toBe(2);
    expect(noRelease.stderr).toMatch(/RELEASE is required/);

    const rolledBack = make('release-rollback', 'TENANT=primary', `RELEASE=${id}`);
    expect(rolledBack.code, rolledBack.stderr).toBe(0);
    expect(rolledBack.json).toMatchObject({ success: true, data: { release_id: id, status: 'rolled_back', rolled_back: true, reverted_migrations: 1 } });
    expect(columnsOf(staging(), 'users')).not.toContain('plan');

    const got = cli('get', id);
    expect(got.code).toBe(0);
    expect(got.json!.data).toMatchObject({ release_id: id, status: 'rolled_back', feature_flags: { new_ui: true } });
  });

  it('exits 1 when the service refuses, with the error as JSON', () => {
    const prepared = cli('prepare', '--from', 'dev', '--to', 'staging');
    const id = prepared.json!.data!.release_id as string;
    expect(cli('promote', id).code).toBe(0);
    const again = cli('promote', '--release', id);
    expect(again.code).toBe(1);
    expect(again.json).toMatchObject({ success: false, error: { code: 'precondition' } });
    expect(again.stderr).toMatch(/promoted/);
    const backwards = cli('prepare', '--from', 'staging', '--to', 'dev');
    expect(backwards.code).toBe(1);
    expect(backwards.json!.error!.message).toMatch(/does not come after/);
    const noneLeft = cli('promote', '--latest', '--to', 'prod');
    expect(noneLeft.code).toBe(1);
    expect(noneLeft.json!.error).toMatchObject({ code: 'not_found', message: 'no prepared release to prod in tenant primary' });
  });

  it('acts for --tenant: another tenant has its own releases and databases', () => {
    const other = cli('prepare', '--from', 'dev', '--to', 'staging', '--tenant', 'other');
    expect(other.code, other.stderr).toBe(0);
    const id = other.json!.data!.release_id as string;
    expect((cli('list', '--tenant', 'other').json!.data!.releases as Array<{ release_id: string }>).map((r) => r.release_id)).toEqual([id]);
    expect((cli('list').json!.data!.releases as Array<{ release_id: string }>).map((r) => r.release_id)).not.toContain(id);
    expect(cli('get', id).json!.error!.code).toBe('not_found');
  });

  it('exits 2 on bad usage or invalid input, naming the problem', () => {
    const unknown = cli('deploy');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown release command "deploy"; one of: prepare, promote, rollback, list, get/);
    const stray = cli('list', '--from', 'dev');
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/list does not take --from/);
    const badId = cli('get', 'rel_1');
    expect(badId.code).toBe(2);
    expect(badId.json!.error!.message).toBe('invalid release id: expected a release id like rel_20240115_1200');
    const missing = cli('prepare', '--to', 'staging');
    expect(missing.code).toBe(2);
    expect(missing.json!.error!.message).toMatch(/from_env: required/);
    writeFileSync(join(dir.path, 'bad.json'), JSON.stringify({ database: { changes: [{ type: 'add_column', table: 'users' }] } }));
    const badBundle = cli('prepare', '--from', 'dev', '--to', 'staging', '--bundle-data', join(dir.path, 'bad.json'));
    expect(badBundle.code).toBe(2);
    expect(badBundle.json!.error!.message).toMatch(/bundle_data\.database\.changes\.0\.column: required/);
    const limit = cli('list', '--limit', '0');
    expect(limit.code).toBe(2);
    expect(cli('get').code).toBe(2);
  });
});
