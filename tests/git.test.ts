import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitFile, git, gitFixture, write, type GitFixture } from './helpers/git-fixture.js';
import { connect, errorOf, testRuntime, type ConnectedClient } from './helpers/harness.js';

type Data = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let fx: GitFixture;
let mcp: ConnectedClient;

async function start(extra: Record<string, unknown> = {}): Promise<void> {
  mcp = await connect(testRuntime({ config: { ...fx.config, ...extra } }), { persona: 'developer' });
}

async function ok(name: string, args: Record<string, unknown>): Promise<Data> {
  const result = await mcp.call(name, args);
  if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
  return result.structuredContent as Data;
}

async function fails(name: string, args: Record<string, unknown>): Promise<{ code: string; message: string; hint?: string; details?: Data }> {
  return errorOf(await mcp.call(name, args)) as { code: string; message: string; hint?: string; details?: Data };
}

const head = (cwd: string) => git(cwd, 'rev-parse', 'HEAD').trim();

beforeEach(async () => {
  fx = gitFixture({ 'README.md': 'hello\n', 'src/app.py': 'print("v1")\n' });
  await start();
});

afterEach(async () => {
  await mcp.close();
  fx.cleanup();
});

describe('git_status', () => {
  it('reports a clean tree, then staged, unstaged and untracked files, and ahead/behind', async () => {
    git(fx.work, 'branch', '--set-upstream-to=upstream/master');
    const clean = await ok('git_status', { repo: 'app' });
    expect(clean).toMatchObject({ branch: 'master', upstream: 'upstream/master', ahead: 0, behind: 0, clean: true, detached: false, rebase_in_progress: false });
    expect(clean.head).toBe(head(fx.work));

    write(fx.work, 'README.md', 'changed\n');
    write(fx.work, 'new.txt', 'new\n');
    write(fx.work, 'src/app.py', 'print("v2")\n');
    git(fx.work, 'add', 'src/app.py');
    commitFile(fx.other, 'other.txt', 'x\n', 'upstream moves');
    git(fx.other, 'push', '-q', 'upstream', 'master');
    git(fx.work, 'fetch', '-q', 'upstream');
    const dirty = await ok('git_status', { repo: 'app' });
    expect(dirty.clean).toBe(false);
    expect(dirty.staged).toEqual([{ path: 'src/app.py', change: 'modified' }]);
    expect(dirty.unstaged).toEqual([{ path: 'README.md', change: 'modified' }]);
    expect(dirty.untracked).toEqual(['new.txt']);
    expect(dirty.behind).toBe(1);
  });
});

describe('git_log and git_commit_exists', () => {
  it('lists commits with range, limit, path and since', async () => {
    git(fx.work, 'checkout', '-q', '-b', 'feature');
    const shas = [1, 2, 3].map((n) => commitFile(fx.work, n === 2 ? 'src/app.py' : `f${n}.txt`, `${n}\n`, `change ${n}`));
    const log = await ok('git_log', { repo: 'app', range: 'upstream/master..HEAD' });
    expect(log.count).toBe(3);
    expect(log.commits.map((c: Data) => c.sha)).toEqual([...shas].reverse());
    expect(log.commits[0]).toMatchObject({ short: shas[2]!.slice(0, 7), author: 'Fixture', subject: 'change 3' });
    const limited = await ok('git_log', { repo: 'app', limit: '2' });
    expect(limited).toMatchObject({ count: 2, more: true });
    const byPath = await ok('git_log', { repo: 'app', range: 'upstream/master..HEAD', path: 'src/app.py' });
    expect(byPath.commits.map((c: Data) => c.subject)).toEqual(['change 2']);
    expect((await ok('git_log', { repo: 'app', since: '2099-12-31' })).count).toBe(0);
    expect((await fails('git_log', { repo: 'app', range: 'nosuchbranch..HEAD' })).code).toBe('not_found');
  });

  it('finds full and short SHAs, says when a SHA is unknown, and when a short one is ambiguous', async () => {
    const sha = head(fx.work);
    expect(await ok('git_commit_exists', { repo: 'app', sha })).toMatchObject({ exists: true, ambiguous: false, sha, type: 'commit' });
    expect(await ok('git_commit_exists', { repo: 'app', sha: sha.slice(0, 8) })).toMatchObject({ exists: true, sha });
    const missing = 'deadbeef'.repeat(5);
    expect(await ok('git_commit_exists', { repo: 'app', sha: missing })).toMatchObject({ exists: false, sha: null });

    // Enough blobs that two share a 4-character prefix.
    const blobs = Array.from({ length: 1500 }, (_, i) => join(fx.root, 'blobs', `b${i}`));
    blobs.forEach((file, i) => write(fx.root, join('blobs', `b${i}`), `blob ${i}\n`));
    const written = git(fx.work, 'hash-object', '-w', ...blobs).trim().split('\n');
    const seen = new Map<string, string>();
    const prefix = written.map((s) => s.slice(0, 4)).find((p) => (seen.has(p) ? true : (seen.set(p, p), false)))!;
    expect(prefix).toBeDefined();
    const ambiguous = await ok('git_commit_exists', { repo: 'app', sha: prefix });
    expect(ambiguous).toMatchObject({ exists: true, ambiguous: true, sha: null });
    expect(ambiguous.candidates.length).toBeGreaterThanOrEqual(2);
    expect(ambiguous.candidates.every((c: Data) => c.sha.startsWith(prefix))).toBe(true);
    expect((await fails('git_commit_exists', { repo: 'app', sha: 'xyz' })).code).toBe('invalid_input');
  });
});

describe('git_branch_list and git_diff', () => {
  it('lists local and remote branches with a pattern', async () => {
    git(fx.work, 'branch', 'aa-release-2026-01-31');
    git(fx.work, 'branch', 'feature-x');
    git(fx.work, 'push', '-q', 'origin', 'aa-release-2026-01-31');
    git(fx.work, 'fetch', '-q', 'origin');
    const all = await ok('git_branch_list', { repo: 'app' });
    expect(all.current).toBe('master');
    expect(all.local.map((b: Data) => b.name).sort()).toEqual(['aa-release-2026-01-31', 'feature-x', 'master']);
    const filtered = await ok('git_branch_list', { repo: 'app', pattern: 'aa-release-*' });
    expect(filtered.local.map((b: Data) => b.name)).toEqual(['aa-release-2026-01-31']);
    expect(filtered.remote).toEqual([expect.objectContaining({ remote: 'origin', name: 'aa-release-2026-01-31', ref: 'origin/aa-release-2026-01-31' })]);
  });

  it('gives stat and patch, and trims a large patch with a note', async () => {
    write(fx.work, 'src/app.py', 'print("v2")\n');
    const small = await ok('git_diff', { repo: 'app' });
    expect(small.files).toEqual([{ path: 'src/app.py', added: 1, deleted: 1 }]);
    expect(small.patch).toContain('+print("v2")');
    expect(small.truncated).toBe(false);
    write(fx.work, 'README.md', Array.from({ length: 400 }, (_, i) => `line ${i} of a long readme`).join('\n'));
    const big = await ok('git_diff', { repo: 'app', max_bytes: 1000 });
    expect(big.truncated).toBe(true);
    expect(Buffer.byteLength(big.patch)).toBeLessThanOrEqual(1000);
    expect(big.patch_bytes).toBeGreaterThan(1000);
    expect(big.note).toMatch(/trimmed/);
    git(fx.work, 'add', 'src/app.py');
    expect((await ok('git_diff', { repo: 'app', staged: true })).files.map((f: Data) => f.path)).toEqual(['src/app.py']);
    expect((await ok('git_diff', { repo: 'app', range: 'upstream/master..HEAD' })).files).toEqual([]);
  });
});

describe('git_fetch', () => {
  it('fetches the upstream remote and reports moved refs', async () => {
    const sha = commitFile(fx.other, 'x.txt', 'x\n', 'new upstream work');
    git(fx.other, 'push', '-q', 'upstream', 'master');
    const result = await ok('git_fetch', { repo: 'app' });
    expect(result.remote).toBe('upstream');
    expect(result.updated).toEqual([expect.objectContaining({ ref: 'upstream/master', to: sha })]);
    expect((await ok('git_fetch', { repo: 'app', remote: 'upstream' })).updated).toEqual([]);
  });

  it('fails with not_found for an unknown remote, network for an unreachable one, auth without prompting', async () => {
    expect((await fails('git_fetch', { repo: 'app', remote: 'nope' })).code).toBe('not_found');
    git(fx.work, 'remote', 'add', 'gone', join(fx.root, 'no-such-repo.git'));
    expect((await fails('git_fetch', { repo: 'app', remote: 'gone' })).code).toBe('network');
    const server = createServer((_req, res) => {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' });
      res.end('unauthorized');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      git(fx.work, 'remote', 'add', 'private', `http://127.0.0.1:${(server.address() as AddressInfo).port}/group/repo.git`);
      const error = await fails('git_fetch', { repo: 'app', remote: 'private' });
      expect(error.code).toBe('auth');
    } finally {
      server.close();
    }
  });

  it('stops a fetch that hangs after git.timeout_ms with a timeout error', async () => {
    const server = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await mcp.close();
      await start({ git: { ...(fx.config.git as object), timeout_ms: 500 } });
      git(fx.work, 'remote', 'add', 'slow', `http://127.0.0.1:${(server.address() as AddressInfo).port}/repo.git`);
      const started = Date.now();
      expect((await fails('git_fetch', { repo: 'app', remote: 'slow' })).code).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('git_checkout and git_rebase', () => {
  it('creates a branch from a start point, switches to existing ones, and refuses a duplicate', async () => {
    const created = await ok('git_checkout', { repo: 'app', branch: 'aa-release-2026-01-31', create: true, start_point: 'upstream/master' });
    expect(created).toMatchObject({ branch: 'aa-release-2026-01-31', previous: 'master', created: true, sha: head(fx.work) });
    expect(await ok('git_checkout', { repo: 'app', branch: 'master' })).toMatchObject({ branch: 'master', created: false });
    expect((await fails('git_checkout', { repo: 'app', branch: 'aa-release-2026-01-31', create: true })).code).toBe('conflict');
    expect((await fails('git_checkout', { repo: 'app', branch: 'no-such-branch' })).code).toBe('not_found');
    expect((await fails('git_checkout', { repo: 'app', branch: 'x', create: true, start_point: 'upstream/nope' })).code).toBe('not_found');
  });

  it('refuses to check out over local changes it would overwrite', async () => {
    git(fx.work, 'checkout', '-q', '-b', 'other');
    commitFile(fx.work, 'README.md', 'other\n', 'other readme');
    git(fx.work, 'checkout', '-q', 'master');
    write(fx.work, 'README.md', 'local edit\n');
    const error = await fails('git_checkout', { repo: 'app', branch: 'other' });
    expect(error.code).toBe('precondition');
    expect(readFileSync(join(fx.work, 'README.md'), 'utf8')).toBe('local edit\n');
  });

  it('rebases onto upstream', async () => {
    git(fx.work, 'checkout', '-q', '-b', 'feature');
    commitFile(fx.work, 'feature.txt', 'f\n', 'feature');
    const upstreamSha = commitFile(fx.other, 'up.txt', 'u\n', 'upstream');
    git(fx.other, 'push', '-q', 'upstream', 'master');
    git(fx.work, 'fetch', '-q', 'upstream');
    const result = await ok('git_rebase', { repo: 'app', onto: 'upstream/master' });
    expect(result.changed).toBe(true);
    expect(git(fx.work, 'rev-parse', 'HEAD~1').trim()).toBe(upstreamSha);
    expect((await ok('git_rebase', { repo: 'app', onto: 'upstream/master' })).changed).toBe(false);
  });

  it('aborts a conflicting rebase, names the files and leaves the repository as it was', async () => {
    git(fx.work, 'checkout', '-q', '-b', 'feature');
    commitFile(fx.work, 'README.md', 'ours\n', 'ours');
    const before = head(fx.work);
    commitFile(fx.other, 'README.md', 'theirs\n', 'theirs');
    git(fx.other, 'push', '-q', 'upstream', 'master');
    git(fx.work, 'fetch', '-q', 'upstream');
    const error = await fails('git_rebase', { repo: 'app', onto: 'upstream/master' });
    expect(error.code).toBe('conflict');
    expect(error.details?.files).toEqual(['README.md']);
    expect(head(fx.work)).toBe(before);
    const status = await ok('git_status', { repo: 'app' });
    expect(status).toMatchObject({ clean: true, rebase_in_progress: false, branch: 'feature' });
    expect(readFileSync(join(fx.work, 'README.md'), 'utf8')).toBe('ours\n');
  });

  it('refuses to rebase a dirty tree', async () => {
    write(fx.work, 'README.md', 'dirty\n');
    expect((await fails('git_rebase', { repo: 'app', onto: 'upstream/master' })).code).toBe('precondition');
  });
});

describe('git_add, git_commit and git_tag', () => {
  it('builds the message from commit_format with the issue key from the branch name', async () => {
    git(fx.work, 'checkout', '-q', '-b', 'AAP-4321-fix-login');
    write(fx.work, 'src/app.py', 'print("fixed")\n');
    expect((await ok('git_add', { repo: 'app', files: ['src/app.py'] })).staged).toEqual(['src/app.py']);
    const result = await ok('git_commit', { repo: 'app', type: 'fix', scope: 'auth', subject: 'accept SSO tokens' });
    expect(result.message).toBe('fix(auth): accept SSO tokens\n\nAAP-4321');
    expect(result.issue_key).toBe('AAP-4321');
    expect(result.sha).toBe(head(fx.work));
    expect(git(fx.work, 'log', '-1', '--format=%an <%ae>').trim()).toBe('Release Bot <release-bot@example.com>');
    expect(git(fx.work, 'log', '-1', '--format=%B').trim()).toBe(result.message);
  });

  it('keeps a given message and adds the issue key after a blank line', async () => {
    write(fx.work, 'deploy.yml', 'ref: abc\n');
    await ok('git_add', { repo: 'app', all: true });
    const result = await ok('git_commit', { repo: 'app', message: 'chore(release): release abc1234 to production', issue_key: 'AAP-123' });
    expect(git(fx.work, 'log', '-1', '--format=%B').trim()).toBe('chore(release): release abc1234 to production\n\nAAP-123');
    expect(result.files).toEqual(['deploy.yml']);
  });

  it('keeps message lines that start with # (they are not comments here)', async () => {
    write(fx.work, 'notes.md', 'n\n');
    await ok('git_add', { repo: 'app', all: true });
    await ok('git_commit', { repo: 'app', message: 'fix: handle empty reports\n\n#123 was the symptom' });
    expect(git(fx.work, 'log', '-1', '--format=%B').trim()).toBe('fix: handle empty reports\n\n#123 was the symptom');
  });

  it('refuses an empty commit, an unknown type, and a commit without a message', async () => {
    const before = head(fx.work);
    const empty = await fails('git_commit', { repo: 'app', message: 'nothing' });
    expect(empty.code).toBe('precondition');
    write(fx.work, 'a.txt', 'a\n');
    await ok('git_add', { repo: 'app', files: ['a.txt'] });
    expect((await fails('git_commit', { repo: 'app', type: 'yolo', subject: 'x' })).code).toBe('invalid_input');
    expect((await fails('git_commit', { repo: 'app', scope: 'x' })).code).toBe('invalid_input');
    expect(head(fx.work)).toBe(before);
  });

  it('creates an annotated tag and refuses an existing one', async () => {
    const sha = head(fx.work);
    const result = await ok('git_tag', { repo: 'app', tag: 'v2026.01.31-abc1234', message: 'Release 2026-01-31' });
    expect(result).toMatchObject({ tag: 'v2026.01.31-abc1234', sha });
    expect(git(fx.work, 'cat-file', '-t', 'v2026.01.31-abc1234').trim()).toBe('tag');
    expect(git(fx.work, 'tag', '-l', '--format=%(contents)', 'v2026.01.31-abc1234').trim()).toBe('Release 2026-01-31');
    expect((await fails('git_tag', { repo: 'app', tag: 'v2026.01.31-abc1234', message: 'again' })).code).toBe('conflict');
  });
});

describe('git_push', () => {
  it('pushes a branch with set_upstream', async () => {
    git(fx.work, 'checkout', '-q', '-b', 'aa-release-2026-01-31');
    const sha = commitFile(fx.work, 'deploy.yml', 'ref: 1\n', 'release');
    const result = await ok('git_push', { repo: 'app', set_upstream: true });
    expect(result).toEqual({ remote: 'origin', branch: 'aa-release-2026-01-31', tag: null, sha, upstream_set: true, forced: false });
    expect(git(fx.origin, 'rev-parse', 'refs/heads/aa-release-2026-01-31').trim()).toBe(sha);
    expect(git(fx.work, 'rev-parse', '--abbrev-ref', '@{upstream}').trim()).toBe('origin/aa-release-2026-01-31');
  });

  it('reports a non-fast-forward rejection as a conflict with a hint, and force only with lease', async () => {
    git(fx.work, 'checkout', '-q', '-b', 'topic');
    commitFile(fx.work, 'a.txt', 'a\n', 'a');
    await ok('git_push', { repo: 'app', set_upstream: true });
    // Someone else pushes to the same branch.
    git(fx.other, 'remote', 'add', 'origin', fx.origin);
    git(fx.other, 'fetch', '-q', 'origin');
    git(fx.other, 'checkout', '-q', '-b', 'topic', 'origin/topic');
    const theirs = commitFile(fx.other, 'b.txt', 'b\n', 'b');
    git(fx.other, 'push', '-q', 'origin', 'topic');
    commitFile(fx.work, 'c.txt', 'c\n', 'c');
    const rejected = await fails('git_push', { repo: 'app' });
    expect(rejected.code).toBe('conflict');
    expect(rejected.hint).toMatch(/fetch.*rebase/);
    expect(git(fx.origin, 'rev-parse', 'refs/heads/topic').trim()).toBe(theirs);
    // Lease: our view of origin/topic is stale, so even force is refused.
    const stale = await fails('git_push', { repo: 'app', force: true });
    expect(stale.code).toBe('conflict');
    expect(git(fx.origin, 'rev-parse', 'refs/heads/topic').trim()).toBe(theirs);
    // After fetching we have seen their commit: force-with-lease goes through.
    git(fx.work, 'fetch', '-q', 'origin');
    const forced = await ok('git_push', { repo: 'app', force: true });
    expect(forced.forced).toBe(true);
    expect(git(fx.origin, 'rev-parse', 'refs/heads/topic').trim()).toBe(head(fx.work));
  });

  it('fails with network for an unreachable remote', async () => {
    git(fx.work, 'remote', 'set-url', 'origin', join(fx.root, 'missing.git'));
    expect((await fails('git_push', { repo: 'app' })).code).toBe('network');
  });

  it('pushes a tag; the same tag again changes nothing; a tag the remote has elsewhere is a conflict', async () => {
    const first = head(fx.work);
    await ok('git_tag', { repo: 'app', tag: 'v2026.01.31-abc1234', message: 'Release' });
    const pushed = await ok('git_push', { repo: 'app', tag: 'v2026.01.31-abc1234' });
    expect(pushed).toEqual({ remote: 'origin', branch: null, tag: 'v2026.01.31-abc1234', sha: first, upstream_set: false, forced: false });
    expect(git(fx.origin, 'rev-list', '-n', '1', 'v2026.01.31-abc1234').trim()).toBe(first);
    expect(git(fx.origin, 'for-each-ref', '--format=%(refname)', 'refs/heads/').trim()).toBe('refs/heads/master');
    expect((await ok('git_push', { repo: 'app', tag: 'v2026.01.31-abc1234' })).sha).toBe(first);

    // Someone pushed the same tag name on another commit.
    const other = commitFile(fx.work, 'x.txt', 'x\n', 'x');
    git(fx.work, 'tag', '-a', '-m', 'theirs', 'v2026.02.01-x', other);
    git(fx.work, 'push', '-q', 'origin', 'refs/tags/v2026.02.01-x');
    git(fx.work, 'tag', '-d', 'v2026.02.01-x');
    await ok('git_tag', { repo: 'app', tag: 'v2026.02.01-x', message: 'ours', ref: first });
    const conflict = await fails('git_push', { repo: 'app', tag: 'v2026.02.01-x' });
    expect(conflict.code).toBe('conflict');
    expect(conflict.hint).toMatch(/tags are not moved/);
    expect(git(fx.origin, 'rev-list', '-n', '1', 'v2026.02.01-x').trim()).toBe(other);

    expect((await fails('git_push', { repo: 'app', tag: 'v9-missing' })).code).toBe('not_found');
    expect((await fails('git_push', { repo: 'app', tag: 'v2026.01.31-abc1234', branch: 'master' })).code).toBe('invalid_input');
  });
});

describe('path policy and option-like arguments', () => {
  it('accepts configured names, paths under workspace_roots and names relative to them', async () => {
    expect((await ok('git_status', { repo: fx.work })).path).toBe(fx.work);
    expect((await ok('git_status', { repo: join(fx.workspace, 'plain') })).clean).toBe(true);
    expect((await ok('git_log', { repo: 'plain' })).commits[0].subject).toBe('plain: first');
  });

  it('refuses paths outside repositories and workspace_roots unless allow_any_path', async () => {
    const error = await fails('git_status', { repo: join(fx.root, 'outside') });
    expect(error.code).toBe('forbidden');
    expect(error.hint).toMatch(/workspace_roots/);
    expect((await fails('git_status', { repo: join(fx.root, 'nowhere') })).code).toBe('not_found');
    expect((await fails('git_status', { repo: 'unknown-name' })).code).toBe('not_found');
    await mcp.close();
    await start({ git: { allow_any_path: true } });
    expect((await ok('git_status', { repo: join(fx.root, 'outside') })).branch).toBe('master');
    expect((await fails('git_status', { repo: fx.root })).code).toBe('not_found');
  });

  it('refuses arguments that git would read as options, and changes nothing', async () => {
    const before = head(fx.work);
    const cases: [string, Record<string, unknown>][] = [
      ['git_status', { repo: '--help' }],
      ['git_checkout', { repo: 'app', branch: '-D' }],
      ['git_checkout', { repo: 'app', branch: 'x', create: true, start_point: '--orphan' }],
      ['git_log', { repo: 'app', range: '--output=/tmp/pwned' }],
      ['git_log', { repo: 'app', range: 'HEAD..--all' }],
      ['git_diff', { repo: 'app', path: '--output=x' }],
      ['git_add', { repo: 'app', files: ['-A'] }],
      ['git_rebase', { repo: 'app', onto: '--exec=touch pwned' }],
      ['git_push', { repo: 'app', remote: '--receive-pack=evil' }],
      ['git_tag', { repo: 'app', tag: '-d', message: 'x' }],
      ['git_fetch', { repo: 'app', remote: '--upload-pack=evil' }],
    ];
    for (const [name, args] of cases) expect((await fails(name, args)).code, `${name} ${JSON.stringify(args)}`).toBe('invalid_input');
    expect(head(fx.work)).toBe(before);
    expect(existsSync(join(fx.work, 'pwned'))).toBe(false);
    expect(existsSync('/tmp/pwned')).toBe(false);
  });

  it('says when a configured repository is not a git checkout', async () => {
    writeFileSync(join(fx.workspace, 'file.txt'), 'x');
    await mcp.close();
    await start({ repositories: { ...(fx.config.repositories as object), notgit: { path: fx.workspace } } });
    const error = await fails('git_status', { repo: 'notgit' });
    expect(error.code).toBe('not_found');
    expect(error.message).toMatch(/not a git repository/);
  });
});
