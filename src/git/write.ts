import type { Config } from '../config.js';
import { ToolError } from '../errors.js';
import { safeArg, safeRefName } from './args.js';
import type { GitRunner } from './client.js';
import { buildCommitMessage, type CommitParts } from './commit-message.js';
import { currentBranch, readStatus, resolveRef } from './status.js';

export interface CheckoutResult {
  branch: string;
  previous: string | null;
  sha: string;
  created: boolean;
}

/** Switch to an existing branch (a remote-tracking one is tracked), or create one from `startPoint`. */
export async function checkout(git: GitRunner, branch: string, create: boolean, startPoint?: string): Promise<CheckoutResult> {
  safeRefName(branch, 'branch');
  const previous = await currentBranch(git);
  if (create) {
    const start = startPoint ? safeArg(startPoint, 'start_point') : 'HEAD';
    if (!(await resolveRef(git, start))) throw new ToolError('not_found', `start_point "${start}" is not a commit`, { hint: 'fetch first if it is a remote branch' });
    if (await resolveRef(git, `refs/heads/${branch}`)) throw new ToolError('conflict', `branch "${branch}" already exists`, { hint: 'check it out without create, or choose another name' });
    await git.run(['checkout', '-b', branch, start, '--']);
  } else {
    await git.run(['checkout', branch, '--'], { hint: 'git_branch_list shows the branches; pass create: true to make a new one' });
  }
  const sha = (await resolveRef(git, 'HEAD')) ?? '';
  return { branch, previous, sha, created: create };
}

export interface RebaseResult {
  branch: string | null;
  onto: string;
  before: string;
  after: string;
  changed: boolean;
}

/** Rebase the current branch onto `onto`; on conflict abort, leave the repo as it was, and name the files. */
export async function rebase(git: GitRunner, onto: string): Promise<RebaseResult> {
  safeArg(onto, 'onto');
  const status = await readStatus(git);
  if (status.rebase_in_progress || status.merge_in_progress) {
    throw new ToolError('precondition', 'a rebase or merge is already in progress', { hint: 'finish or abort it first (git rebase --abort / git merge --abort)' });
  }
  if (status.staged.length || status.unstaged.length || status.conflicted.length) {
    throw new ToolError('precondition', 'the working tree has uncommitted changes', { hint: 'commit or stash them before rebasing', details: { staged: status.staged.length, unstaged: status.unstaged.length } });
  }
  if (!(await resolveRef(git, onto))) throw new ToolError('not_found', `"${onto}" is not a commit`, { hint: 'fetch first if it is a remote branch' });
  const before = (await resolveRef(git, 'HEAD')) ?? '';
  const attempt = await git.probe(['rebase', onto]);
  if (!attempt.ok) {
    const after = await readStatus(git);
    if (after.rebase_in_progress) {
      const files = (await git.run(['diff', '--name-only', '--diff-filter=U'])).split('\n').filter(Boolean);
      await git.run(['rebase', '--abort']);
      throw new ToolError('conflict', `rebase onto ${onto} stopped on conflicts in ${files.length} file(s): ${files.join(', ')}; it was aborted and the branch is as it was`, {
        hint: 'resolve these conflicts by hand (or ask the author), then rebase again',
        details: { files, onto },
      });
    }
    throw new ToolError('precondition', `git rebase failed: ${(attempt.stderr || attempt.stdout).trim()}`, {
      hint: 'no rebase was left in progress; git_status shows the state of the repository',
    });
  }
  const after = (await resolveRef(git, 'HEAD')) ?? '';
  return { branch: status.branch, onto, before, after, changed: before !== after };
}

/** Stage files (paths relative to the repository), or every change with `all`. */
export async function stage(git: GitRunner, files: string[], all: boolean): Promise<string[]> {
  if (!all && files.length === 0) throw new ToolError('invalid_input', 'name the files to add, or pass all: true');
  for (const file of files) safeArg(file, 'files');
  await git.run(all ? ['add', '--all'] : ['add', '--', ...files], { hint: 'paths are relative to the repository root' });
  return (await readStatus(git)).staged.map((f) => f.path);
}

export interface CommitResult {
  sha: string;
  short: string;
  branch: string | null;
  message: string;
  issue_key: string | null;
  files: string[];
}

/** Commit what is staged; an empty commit is refused. */
export async function commit(git: GitRunner, format: Config['commit_format'], parts: CommitParts): Promise<CommitResult> {
  const status = await readStatus(git);
  if (status.conflicted.length) {
    throw new ToolError('precondition', `unresolved conflicts in ${status.conflicted.join(', ')}`, { hint: 'resolve the conflicts and git_add the files, or abort the merge or rebase, before committing' });
  }
  if (!status.staged.length) {
    throw new ToolError('precondition', 'nothing is staged: refusing an empty commit', { hint: 'git_add the changed files first (git_status lists them)' });
  }
  const { message, issue_key } = buildCommitMessage(format, parts, status.branch);
  await git.run(['commit', '--cleanup=whitespace', '-m', message]);
  const sha = (await resolveRef(git, 'HEAD')) ?? '';
  const written = (await git.run(['log', '-1', '--format=%B', sha])).trim();
  return { sha, short: sha.slice(0, 7), branch: status.branch, message: written, issue_key, files: status.staged.map((f) => f.path) };
}

export interface TagResult {
  tag: string;
  sha: string;
  message: string;
}

/** Create an annotated tag; an existing tag is refused, never moved. */
export async function tag(git: GitRunner, name: string, message: string, ref = 'HEAD'): Promise<TagResult> {
  safeRefName(name, 'tag');
  safeArg(ref, 'ref');
  if ((await git.probe(['rev-parse', '--verify', '--quiet', `refs/tags/${name}`])).ok) {
    throw new ToolError('conflict', `tag "${name}" already exists`, { hint: 'tags are not moved: pick a new name' });
  }
  const sha = await resolveRef(git, ref);
  if (!sha) throw new ToolError('not_found', `"${ref}" is not a commit`, { hint: 'give a branch, tag or SHA that exists (git_log lists commits; fetch first for a remote branch)' });
  await git.run(['tag', '--annotate', '--cleanup=whitespace', '-m', message, name, sha]);
  return { tag: name, sha, message: message.trim() };
}
