import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { GitRunner } from './client.js';

export interface FileChange {
  path: string;
  /** added, modified, deleted, renamed, copied, type_changed, unmerged */
  change: string;
  from?: string;
}

export interface RepoStatus {
  path: string;
  branch: string | null;
  detached: boolean;
  head: string | null;
  upstream: string | null;
  ahead: number;
  behind: number;
  staged: FileChange[];
  unstaged: FileChange[];
  untracked: string[];
  conflicted: string[];
  clean: boolean;
  rebase_in_progress: boolean;
  merge_in_progress: boolean;
}

const CHANGE: Record<string, string> = { M: 'modified', A: 'added', D: 'deleted', R: 'renamed', C: 'copied', T: 'type_changed', U: 'unmerged' };

/** `git status --porcelain=v2 --branch -z`, parsed; plus whether a rebase or merge is under way. */
export async function readStatus(git: GitRunner): Promise<RepoStatus> {
  const out = await git.run(['status', '--porcelain=v2', '--branch', '-z', '--untracked-files=all']);
  const status: RepoStatus = {
    path: git.path,
    branch: null,
    detached: false,
    head: null,
    upstream: null,
    ahead: 0,
    behind: 0,
    staged: [],
    unstaged: [],
    untracked: [],
    conflicted: [],
    clean: true,
    rebase_in_progress: false,
    merge_in_progress: false,
  };
  const fields = out.split('\0');
  for (let i = 0; i < fields.length; i++) {
    const entry = fields[i]!;
    if (!entry) continue;
    if (entry.startsWith('# ')) {
      readHeader(status, entry);
      continue;
    }
    const kind = entry[0];
    if (kind === '?') status.untracked.push(entry.slice(2));
    else if (kind === 'u') status.conflicted.push(entry.split(' ').slice(10).join(' '));
    else if (kind === '1' || kind === '2') {
      const parts = entry.split(' ');
      const xy = parts[1] ?? '..';
      const path = parts.slice(kind === '1' ? 8 : 9).join(' ');
      const from = kind === '2' ? fields[++i] : undefined;
      const change = (letter: string): FileChange => ({ path, change: CHANGE[letter] ?? letter, ...(from ? { from } : {}) });
      if (xy[0] !== '.') status.staged.push(change(xy[0]!));
      if (xy[1] !== '.') status.unstaged.push(change(xy[1]!));
    }
  }
  const gitDir = (await git.run(['rev-parse', '--absolute-git-dir'])).trim();
  status.rebase_in_progress = existsSync(join(gitDir, 'rebase-merge')) || existsSync(join(gitDir, 'rebase-apply'));
  status.merge_in_progress = existsSync(join(gitDir, 'MERGE_HEAD'));
  status.clean = !status.staged.length && !status.unstaged.length && !status.untracked.length && !status.conflicted.length;
  return status;
}

function readHeader(status: RepoStatus, line: string): void {
  const [, key, ...rest] = line.split(' ');
  const value = rest.join(' ');
  if (key === 'branch.oid') status.head = value === '(initial)' ? null : value;
  else if (key === 'branch.head') {
    status.detached = value === '(detached)';
    status.branch = status.detached ? null : value;
  } else if (key === 'branch.upstream') status.upstream = value;
  else if (key === 'branch.ab') {
    const match = /^\+(\d+) -(\d+)$/.exec(value);
    if (match) {
      status.ahead = Number(match[1]);
      status.behind = Number(match[2]);
    }
  }
}

/** The current branch, or null on a detached HEAD. */
export async function currentBranch(git: GitRunner): Promise<string | null> {
  const probe = await git.probe(['symbolic-ref', '--quiet', '--short', 'HEAD']);
  return probe.ok ? probe.stdout.trim() : null;
}

/** The full SHA a ref points at, or null when it does not resolve. */
export async function resolveRef(git: GitRunner, ref: string): Promise<string | null> {
  const probe = await git.probe(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]);
  return probe.ok ? probe.stdout.trim() : null;
}
