import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitFile, git, gitFixture, write, type GitFixture } from './helpers/git-fixture.js';
import { connect, errorOf, testRuntime, type ConnectedClient } from './helpers/harness.js';

type Data = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const DEPLOY = 'data/services/insights/tower-analytics/cicd/deploy-clowder.yml';
const NS_DIR = 'data/services/insights/tower-analytics/namespaces';
const OLD = '0123456789abcdef0123456789abcdef01234567';
const fixtureText = readFileSync(new URL('./fixtures/deploy-clowder.yml', import.meta.url), 'utf8');

let ai: GitFixture;
let backend: GitFixture;
let mcp: ConnectedClient;
let deployText: string;

function config(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    repositories: {
      'app-interface': { path: ai.work, default_branch: 'master' },
      backend: { path: backend.work, default_branch: 'master' },
    },
    git: { user_name: 'Release Bot', user_email: 'release-bot@example.com' },
    ...extra,
  };
}

async function start(extra: Record<string, unknown> = {}): Promise<void> {
  mcp = await connect(testRuntime({ config: config(extra) }));
}

async function ok(name: string, args: Record<string, unknown>): Promise<Data> {
  const result = await mcp.call(name, args);
  if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
  return result.structuredContent as Data;
}

async function fails(name: string, args: Record<string, unknown>): Promise<{ code: string; message: string; details?: Data }> {
  return errorOf(await mcp.call(name, args)) as { code: string; message: string; details?: Data };
}

beforeEach(async () => {
  backend = gitFixture({ 'app.py': 'v1\n' });
  // The backend template deploys from the backend's upstream remote, so validation can find it.
  deployText = fixtureText.replaceAll('https://github.com/RedHatInsights/tower-analytics-backend', backend.upstream);
  const namespaces = Object.fromEntries(
    ['stage', 'prod', 'stage-billing', 'prod-billing', 'ephemeral'].map((n) => [`${NS_DIR}/tower-analytics-${n}.yml`, `name: tower-analytics-${n}\n`]),
  );
  ai = gitFixture({ [DEPLOY]: deployText, ...namespaces });
  await start();
});

afterEach(async () => {
  await mcp.close();
  ai.cleanup();
  backend.cleanup();
});

describe('appinterface_get_ref and appinterface_set_ref', () => {
  it('reads the production, billing and stage refs from the configured deploy file', async () => {
    expect(await ok('appinterface_get_ref', { namespace: 'tower-analytics-prod' })).toMatchObject({
      file: DEPLOY,
      ref: OLD,
      is_sha: true,
      resource_template: 'tower-analytics-clowdapp',
      target_path: 'resourceTemplates[0].targets[1]',
    });
    expect((await ok('appinterface_get_ref', { repo: 'app-interface', namespace: 'tower-analytics-prod-billing' })).resource_template).toBe('tower-analytics-billing');
    expect(await ok('appinterface_get_ref', { namespace: 'tower-analytics-stage' })).toMatchObject({ ref: 'master', is_sha: false });
    expect((await fails('appinterface_get_ref', { namespace: 'tower-analytics-nope' })).code).toBe('not_found');
    expect((await fails('appinterface_get_ref', { namespace: 'tower-analytics-prod', file: 'data/missing.yml' })).code).toBe('not_found');
    expect((await fails('appinterface_get_ref', { namespace: 'tower-analytics-prod', file: '../../etc/passwd' })).code).toBe('forbidden');
  });

  it('reads the ref as committed at a revision, such as a fetched upstream that moved', async () => {
    const released = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    commitFile(ai.other, DEPLOY, readFileSync(join(ai.other, DEPLOY), 'utf8').replace(OLD, released), 'release aaaaaaa');
    git(ai.other, 'push', '-q', 'upstream', 'master');
    git(ai.work, 'fetch', '-q', 'upstream');
    expect((await ok('appinterface_get_ref', { namespace: 'tower-analytics-prod' })).ref).toBe(OLD);
    expect((await ok('appinterface_get_ref', { namespace: 'tower-analytics-prod', rev: 'upstream/master' })).ref).toBe(released);
    expect((await fails('appinterface_get_ref', { namespace: 'tower-analytics-prod', rev: 'upstream/nope' })).code).toBe('not_found');
    expect((await fails('appinterface_get_ref', { namespace: 'tower-analytics-prod', rev: 'upstream/master', file: 'data/missing.yml' })).code).toBe('not_found');
    expect((await fails('appinterface_get_ref', { namespace: 'tower-analytics-prod', rev: '--output=x' })).code).toBe('invalid_input');
  });

  it('names the missing setting when no app-interface checkout is configured', async () => {
    await mcp.close();
    mcp = await connect(testRuntime({ config: { repositories: { backend: { path: backend.work } }, workspace_roots: [ai.root] } }));
    const error = await fails('appinterface_get_ref', { namespace: 'tower-analytics-prod' });
    expect(error.code).toBe('config');
    expect(error.message).toContain('repositories.app-interface');
    expect((await ok('appinterface_get_ref', { repo: ai.work, namespace: 'tower-analytics-prod' })).ref).toBe(OLD);
  });

  it('sets the ref with a one-line diff that git sees, and does nothing the second time', async () => {
    const sha = git(backend.work, 'rev-parse', 'HEAD').trim();
    const result = await ok('appinterface_set_ref', { namespace: 'tower-analytics-prod', ref: sha, expect_current: OLD });
    expect(result).toMatchObject({ previous_ref: OLD, ref: sha, changed: true, resource_template: 'tower-analytics-clowdapp' });
    expect(result.diff).toBe(`-    ref: ${OLD} # released 2026-01-10\n+    ref: ${sha} # released 2026-01-10`);
    expect(git(ai.work, 'diff', '--numstat').trim()).toBe(`1\t1\t${DEPLOY}`);
    const after = readFileSync(join(ai.work, DEPLOY), 'utf8');
    expect(after).toBe(deployText.replace(OLD, sha));
    const again = await ok('appinterface_set_ref', { namespace: 'tower-analytics-prod', ref: sha });
    expect(again).toMatchObject({ changed: false, diff: null, previous_ref: sha });
    expect(readFileSync(join(ai.work, DEPLOY), 'utf8')).toBe(after);
  });

  it('refuses a short ref and a stale expect_current without touching the file', async () => {
    expect((await fails('appinterface_set_ref', { namespace: 'tower-analytics-prod', ref: 'abc1234' })).code).toBe('invalid_input');
    const stale = await fails('appinterface_set_ref', { namespace: 'tower-analytics-prod', ref: 'f'.repeat(40), expect_current: 'e'.repeat(40) });
    expect(stale.code).toBe('conflict');
    expect(stale.details).toMatchObject({ current: OLD });
    expect(git(ai.work, 'status', '--porcelain')).toBe('');
  });
});

describe('appinterface_validate', () => {
  it('runs the configured command and reports its failure and its timeout', async () => {
    await mcp.close();
    await start({ app_interface: { validate_command: [process.execPath, '-e', 'console.log("bundle ok")'] } });
    expect(await ok('appinterface_validate', {})).toMatchObject({ mode: 'command', ok: true, exit_code: 0, stdout_tail: 'bundle ok\n' });
    await mcp.close();
    await start({ app_interface: { validate_command: [process.execPath, '-e', 'console.error("schema error in deploy-clowder.yml"); process.exit(3)'] } });
    const failed = await fails('appinterface_validate', {});
    expect(failed.code).toBe('precondition');
    expect(failed.details).toMatchObject({ exit_code: 3 });
    expect(failed.details?.stderr_tail).toContain('schema error');
    await mcp.close();
    await start({ app_interface: { validate_command: [process.execPath, '-e', 'setTimeout(() => {}, 10000)'], validate_timeout_ms: 300 } });
    expect((await fails('appinterface_validate', {})).code).toBe('timeout');
    await mcp.close();
    await start({ app_interface: { validate_command: ['/no/such/validator'] } });
    expect((await fails('appinterface_validate', {})).code).toBe('config');
  });

  it('without a command, passes a branch whose production ref is on the backend upstream', async () => {
    const released = git(backend.work, 'rev-parse', 'HEAD').trim();
    git(ai.work, 'checkout', '-q', '-b', 'aa-release-2026-01-31');
    await ok('appinterface_set_ref', { namespace: 'tower-analytics-prod', ref: released });
    await ok('appinterface_set_ref', { namespace: 'tower-analytics-prod-billing', ref: released });
    const result = await ok('appinterface_validate', {});
    expect(result).toMatchObject({ mode: 'checks', ok: true, base: 'upstream/master', files: [DEPLOY] });
    expect(result.checks.filter((c: Data) => c.check === 'prod_ref_upstream')).toEqual([
      expect.objectContaining({ ok: true, message: expect.stringContaining('tower-analytics-prod.yml') }),
      expect.objectContaining({ ok: true, message: expect.stringContaining('tower-analytics-prod-billing.yml') }),
    ]);
    expect(result.checks.filter((c: Data) => c.check === 'namespace_ref')).toHaveLength(5);
  });

  it('without a command, reports refs not on upstream, missing namespace files and broken YAML', async () => {
    const localOnly = commitFile(backend.work, 'wip.py', 'wip\n', 'not pushed');
    git(ai.work, 'checkout', '-q', '-b', 'aa-release-2026-01-31');
    const text = deployText.replace(OLD, localOnly).replace('fedcba9876543210fedcba9876543210fedcba98', localOnly).replace('tower-analytics-ephemeral.yml', 'tower-analytics-gone.yml');
    commitFile(ai.work, DEPLOY, text, 'bump prod');
    write(ai.work, 'data/other.yml', 'key: [unclosed\n');
    const error = await fails('appinterface_validate', {});
    expect(error.code).toBe('precondition');
    const problems = (error.details?.problems as Data[]).map((p) => `${p.file}|${p.message}`);
    expect(problems).toHaveLength(4);
    expect(problems.filter((p) => p.startsWith(`${DEPLOY}|`) && p.includes('on no upstream branch'))).toHaveLength(2);
    expect(problems.some((p) => p.includes('tower-analytics-gone.yml does not exist'))).toBe(true);
    expect(problems.some((p) => p.startsWith('data/other.yml|'))).toBe(true);
  });

  it('without a command, never reads a changed file that is a symlink out, a FIFO or oversize', async () => {
    const { execFileSync } = await import('node:child_process');
    const { symlinkSync } = await import('node:fs');
    git(ai.work, 'checkout', '-q', '-b', 'sneaky');
    symlinkSync('/etc/passwd', join(ai.work, 'data/passwd.yml'));
    symlinkSync('/dev/zero', join(ai.work, 'data/zero.yml'));
    // git lists no FIFO as a changed file; it is there to show that validation does not block on it.
    execFileSync('mkfifo', [join(ai.work, 'data/pipe.yml')]);
    write(ai.work, 'data/huge.yml', `key: "${'x'.repeat(4 * 1024 * 1024)}"\n`);
    const error = await fails('appinterface_validate', {});
    expect(error.code).toBe('precondition');
    const problems = (error.details?.problems as Data[]).map((p) => `${p.file}|${p.check}|${p.message}`);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^data\/passwd\.yml\|readable\|.*outside the folders/),
        expect.stringMatching(/^data\/zero\.yml\|readable\|.*outside the folders/),
        expect.stringMatching(/^data\/huge\.yml\|readable\|.*larger than/),
      ]),
    );
    expect(JSON.stringify(error)).not.toMatch(/root:/);
  });

  it('reads the deploy file only as a regular file inside the checkout', async () => {
    const { rmSync, symlinkSync } = await import('node:fs');
    rmSync(join(ai.work, DEPLOY));
    symlinkSync('/dev/zero', join(ai.work, DEPLOY));
    const error = await fails('appinterface_get_ref', { namespace: 'tower-analytics-prod' });
    expect(error.code).toBe('forbidden');
  });

  it('without a command, refuses a production ref that is not a full SHA', async () => {
    git(ai.work, 'checkout', '-q', '-b', 'bad');
    write(ai.work, DEPLOY, deployText.replace(OLD, 'master'));
    const error = await fails('appinterface_validate', {});
    expect(error.message).toMatch(/production ref "master" is not a 40-hex SHA/);
  });
});

describe('release_branch_name', () => {
  it('uses the date, then -v2, -v3 after branches that exist locally or on the push remote', async () => {
    expect(await ok('release_branch_name', { date: '2026-01-31' })).toEqual({ name: 'aa-release-2026-01-31', base: 'aa-release-2026-01-31', version: 1, existing: [] });
    git(ai.work, 'branch', 'aa-release-2026-01-31');
    expect((await ok('release_branch_name', { date: '2026-01-31' })).name).toBe('aa-release-2026-01-31-v2');
    git(ai.work, 'push', '-q', 'origin', 'master:aa-release-2026-01-31-v2');
    git(ai.work, 'fetch', '-q', 'origin');
    // A branch on another remote does not count: release branches live on the push remote.
    git(ai.work, 'push', '-q', 'upstream', 'master:aa-release-2026-01-31-v7');
    git(ai.work, 'fetch', '-q', 'upstream');
    const third = await ok('release_branch_name', { date: '2026-01-31' });
    expect(third).toMatchObject({ name: 'aa-release-2026-01-31-v3', version: 3, existing: ['aa-release-2026-01-31', 'aa-release-2026-01-31-v2'] });
    expect((await ok('release_branch_name', { date: '2026-02-01', prefix: 'hotfix-' })).name).toBe('hotfix-2026-02-01');
    expect((await fails('release_branch_name', { date: '31-01-2026' })).code).toBe('invalid_input');
    expect((await ok('release_branch_name', {})).name).toBe(`aa-release-${new Date().toISOString().slice(0, 10)}`);
  });
});
