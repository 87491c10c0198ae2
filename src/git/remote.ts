import { ToolError } from '../errors.js';
import { safeArg, safeRefName } from './args.js';
import type { GitRunner } from './client.js';
import { currentBranch, resolveRef } from './status.js';

/** The remotes of a repository; an unknown name is `not_found` listing the known ones. */
export async function requireRemote(git: GitRunner, remote: string): Promise<string> {
  safeArg(remote, 'remote');
  const remotes = (await git.run(['remote'])).split('\n').map((r) => r.trim()).filter(Boolean);
  if (!remotes.includes(remote)) {
    throw new ToolError('not_found', `no remote "${remote}" in ${git.path}`, { hint: remotes.length ? `remotes: ${remotes.join(', ')}` : 'the repository has no remotes' });
  }
  return remote;
}

async function remoteRefs(git: GitRunner, remote: string): Promise<Map<string, string>> {
  const out = await git.run(['for-each-ref', '--format=%(refname)%09%(objectname)', `refs/remotes/${remote}/`]);
  const refs = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [ref, sha] = line.split('\t');
    if (ref && sha) refs.set(ref.replace(/^refs\/remotes\//, ''), sha);
  }
  return refs;
}

export interface FetchResult {
  remote: string;
  updated: { ref: string; from: string | null; to: string }[];
  pruned: string[];
}

/** Fetch one remote (default: the repo's upstream, or its push remote when there is no upstream). */
export async function fetchRemote(git: GitRunner, remote: string | undefined, prune: boolean): Promise<FetchResult> {
  const name = remote ?? (await pickFetchRemote(git));
  await requireRemote(git, name);
  const before = await remoteRefs(git, name);
  await git.run(['fetch', ...(prune ? ['--prune'] : []), name], { remote: true });
  const after = await remoteRefs(git, name);
  const updated = [...after].filter(([ref, sha]) => before.get(ref) !== sha).map(([ref, sha]) => ({ ref, from: before.get(ref) ?? null, to: sha }));
  const pruned = [...before.keys()].filter((ref) => !after.has(ref));
  return { remote: name, updated, pruned };
}

async function pickFetchRemote(git: GitRunner): Promise<string> {
  const remotes = (await git.run(['remote'])).split('\n').map((r) => r.trim());
  return remotes.includes(git.repo.upstream) ? git.repo.upstream : git.repo.remote;
}

export interface PushOptions {
  remote?: string | undefined;
  branch?: string | undefined;
  setUpstream: boolean;
  force: boolean;
}

export interface PushResult {
  remote: string;
  branch: string;
  sha: string;
  upstream_set: boolean;
  forced: boolean;
}

/** Push a branch; `force` is only ever --force-with-lease, so it never overwrites work it has not seen. */
export async function pushBranch(git: GitRunner, options: PushOptions): Promise<PushResult> {
  const remote = await requireRemote(git, options.remote ?? git.repo.remote);
  const branch = options.branch ? safeRefName(options.branch, 'branch') : await currentBranch(git);
  if (!branch) throw new ToolError('precondition', 'HEAD is detached: name the branch to push', { hint: 'pass branch, or git_checkout a branch first' });
  const sha = await resolveRef(git, `refs/heads/${branch}`);
  if (!sha) throw new ToolError('not_found', `no local branch "${branch}"`, { hint: 'git_branch_list shows the local branches' });
  const args = ['push', '--porcelain', ...(options.setUpstream ? ['--set-upstream'] : []), ...(options.force ? ['--force-with-lease'] : []), remote, `refs/heads/${branch}:refs/heads/${branch}`];
  await git.run(args, { remote: true });
  return { remote, branch, sha, upstream_set: options.setUpstream, forced: options.force };
}

export interface TagPushResult {
  remote: string;
  tag: string;
  sha: string;
}

/**
 * Push one tag. The remote refuses to move a tag it already has with another value (a
 * conflict); pushing a tag the remote has with the same value changes nothing.
 */
export async function pushTag(git: GitRunner, options: { remote?: string | undefined; tag: string }): Promise<TagPushResult> {
  const remote = await requireRemote(git, options.remote ?? git.repo.remote);
  const name = safeRefName(options.tag, 'tag');
  const sha = await resolveRef(git, `refs/tags/${name}`);
  if (!sha) throw new ToolError('not_found', `no local tag "${name}"`, { hint: 'create it with git_tag first' });
  try {
    await git.run(['push', '--porcelain', remote, `refs/tags/${name}:refs/tags/${name}`], { remote: true });
  } catch (error) {
    if (error instanceof ToolError && error.code === 'conflict') {
      throw new ToolError('conflict', `${remote} already has a tag "${name}" on another commit`, { hint: 'tags are not moved: pick a new tag name', cause: error });
    }
    throw error;
  }
  return { remote, tag: name, sha };
}
