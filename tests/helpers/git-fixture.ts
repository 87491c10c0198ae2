import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from './harness.js';

const IDENTITY = ['-c', 'user.name=Fixture', '-c', 'user.email=fixture@example.com', '-c', 'init.defaultBranch=master', '-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false'];

/** Run git in a directory for test setup (not the code under test). */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', [...IDENTITY, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' } });
}

export function write(root: string, file: string, text: string): void {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), text);
}

export function commitFile(cwd: string, file: string, text: string, message: string): string {
  write(cwd, file, text);
  git(cwd, 'add', '--', file);
  git(cwd, 'commit', '-q', '-m', message);
  return git(cwd, 'rev-parse', 'HEAD').trim();
}

/** Create each remote as a bare repository beside the clone, add it to `work`, push master and fetch it. */
export function publishTo(work: string, remotes: Record<string, string>): void {
  for (const [name, bare] of Object.entries(remotes)) {
    git(dirname(bare), 'init', '-q', '--bare', bare);
    git(work, 'remote', 'add', name, bare);
    git(work, 'push', '-q', name, 'master');
    git(work, 'fetch', '-q', name);
  }
}

export interface GitFixture {
  root: string;
  /** Working clone with remotes `upstream` and `origin` (both bare, in the temp dir). */
  work: string;
  upstream: string;
  origin: string;
  /** A second clone of upstream, to make commits the work clone has not seen. */
  other: string;
  /** A folder under workspace_roots holding a plain repository. */
  workspace: string;
  config: Record<string, unknown>;
  cleanup(): void;
}

/** Two bare remotes, a working clone of them, a second clone, and a config that names it `app`. */
export function gitFixture(files: Record<string, string> = { 'README.md': 'hello\n' }): GitFixture {
  const tmp = tempDir('release-mcp-git-');
  const root = tmp.path;
  const upstream = join(root, 'upstream.git');
  const origin = join(root, 'origin.git');
  const work = join(root, 'work');
  const other = join(root, 'other');
  const workspace = join(root, 'ws');
  git(root, 'init', '-q', work);
  for (const [file, text] of Object.entries(files)) write(work, file, text);
  git(work, 'add', '--all');
  git(work, 'commit', '-q', '-m', 'initial commit');
  publishTo(work, { upstream, origin });
  git(root, 'clone', '-q', '-o', 'upstream', upstream, other);
  mkdirSync(join(workspace, 'plain'), { recursive: true });
  git(join(workspace, 'plain'), 'init', '-q');
  commitFile(join(workspace, 'plain'), 'a.txt', 'a\n', 'plain: first');
  mkdirSync(join(root, 'outside'), { recursive: true });
  git(join(root, 'outside'), 'init', '-q');
  const config = {
    repositories: { app: { path: work, remote: 'origin', upstream: 'upstream', default_branch: 'master' } },
    workspace_roots: [workspace],
    git: { user_name: 'Release Bot', user_email: 'release-bot@example.com', timeout_ms: 30_000 },
  };
  return { root, work, upstream, origin, other, workspace, config, cleanup: tmp.cleanup };
}
