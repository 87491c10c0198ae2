import { z } from 'zod';
import {
  checkout,
  commit,
  fetchRemote,
  listBranches,
  lookupCommit,
  openRepo,
  pushBranch,
  pushTag,
  readDiff,
  readLog,
  readStatus,
  rebase,
  stage,
  tag,
  type GitRunner,
} from '../git/index.js';
import { ToolError } from '../errors.js';
import { notOption } from './fields.js';
import { defineTool, type ToolContext } from './registry.js';

const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;
const local = (idempotent: boolean) => ({ readOnlyHint: false, destructiveHint: false, idempotentHint: idempotent, openWorldHint: false }) as const;

const repo = notOption('repo').describe('A repository named in config repositories, or a checkout path');
const ref = (what: string) => notOption(what);

const open = (ctx: ToolContext, name: string): Promise<GitRunner> => openRepo(ctx.config, name, { signal: ctx.signal });

const fileChange = z.object({ path: z.string(), change: z.string(), from: z.string().optional() });
const commitSchema = z.object({ sha: z.string(), short: z.string(), author: z.string(), email: z.string(), date: z.string(), subject: z.string() });

export const gitStatus = defineTool({
  name: 'git_status',
  family: 'git',
  title: 'Repository status',
  description: 'Branch, upstream, ahead/behind, staged, unstaged and untracked files, `clean`, and whether a rebase or merge is in progress.',
  input: z.object({ repo }),
  output: z.object({
    path: z.string(),
    branch: z.string().nullable().describe('null on a detached HEAD'),
    detached: z.boolean(),
    head: z.string().nullable(),
    upstream: z.string().nullable(),
    ahead: z.number().int(),
    behind: z.number().int(),
    staged: z.array(fileChange),
    unstaged: z.array(fileChange),
    untracked: z.array(z.string()),
    conflicted: z.array(z.string()),
    clean: z.boolean(),
    rebase_in_progress: z.boolean(),
    merge_in_progress: z.boolean(),
  }),
  annotations: readOnly,
  handler: async (args, ctx) => readStatus(await open(ctx, args.repo)),
  summarize: (r) => `${r.branch ?? 'detached HEAD'}${r.upstream ? ` (${r.upstream} +${r.ahead}/-${r.behind})` : ''}: ${r.clean ? 'clean' : `${r.staged.length} staged, ${r.unstaged.length} unstaged, ${r.untracked.length} untracked`}`,
});

export const gitLog = defineTool({
  name: 'git_log',
  family: 'git',
  title: 'Commit log',
  description: 'Commits newest first (sha, short, author, date, subject), optionally for a range `A..B`, since a date, or touching a path.',
  input: z.object({
    repo,
    range: ref('range').optional().describe('Revision or range, e.g. upstream/master..HEAD or v1.2..v1.3'),
    limit: z.number().int().min(1).max(1000).default(20),
    since: z.string().trim().min(1).max(100).optional().describe('e.g. 2026-01-31 or "2 weeks ago"'),
    path: ref('path').optional().describe('Only commits touching this path'),
  }),
  output: z.object({ commits: z.array(commitSchema), count: z.number().int(), more: z.boolean().describe('true when limit cut the list') }),
  annotations: readOnly,
  handler: async (args, ctx) => {
    const { commits, more } = await readLog(await open(ctx, args.repo), args);
    return { commits, count: commits.length, more };
  },
  summarize: (r) => [`${r.count} commit(s)${r.more ? ' (more available)' : ''}`, ...r.commits.map((c) => `${c.short} ${c.date} ${c.author}: ${c.subject}`)].join('\n'),
});

export const gitCommitExists = defineTool({
  name: 'git_commit_exists',
  family: 'git',
  title: 'Does a commit exist',
  description: 'Whether an object exists for a full or short SHA, and its type; an ambiguous short SHA says so and lists the candidates. Fetch first for commits new upstream.',
  input: z.object({ repo, sha: z.string().trim().regex(/^[0-9a-fA-F]{4,40}$/, 'expected 4 to 40 hex characters') }),
  output: z.object({
    query: z.string(),
    exists: z.boolean(),
    ambiguous: z.boolean(),
    sha: z.string().nullable().describe('Full SHA when exactly one object matches'),
    type: z.string().nullable().describe('commit, tree, blob or tag'),
    candidates: z.array(z.object({ sha: z.string(), type: z.string() })).describe('Every match of an ambiguous short SHA'),
  }),
  annotations: readOnly,
  handler: async (args, ctx) => lookupCommit(await open(ctx, args.repo), args.sha),
  summarize: (r) => (r.ambiguous ? `${r.query} is ambiguous (${r.candidates.length} objects)` : r.exists ? `${r.sha} exists (${r.type})` : `${r.query} does not exist`),
});

export const gitBranchList = defineTool({
  name: 'git_branch_list',
  family: 'git',
  title: 'List branches',
  description: 'Local and remote-tracking branches, optionally filtered by a glob on the branch name (e.g. "aa-release-*").',
  input: z.object({ repo, pattern: z.string().trim().min(1).max(200).optional().describe('Glob; * matches anything') }),
  output: z.object({
    current: z.string().nullable(),
    local: z.array(z.object({ name: z.string(), sha: z.string(), upstream: z.string().nullable(), current: z.boolean() })),
    remote: z.array(z.object({ remote: z.string(), name: z.string(), ref: z.string().describe('e.g. origin/master'), sha: z.string() })),
  }),
  annotations: readOnly,
  handler: async (args, ctx) => listBranches(await open(ctx, args.repo), args.pattern),
  summarize: (r) =>
    [
      `${r.local.length} local, ${r.remote.length} remote branch(es); current ${r.current ?? 'none'}`,
      ...r.local.map((b) => `${b.current ? '*' : ' '} ${b.name} ${b.sha.slice(0, 7)}${b.upstream ? ` -> ${b.upstream}` : ''}`),
      ...r.remote.map((b) => `  ${b.ref} ${b.sha.slice(0, 7)}`),
    ].join('\n'),
});

export const gitDiff = defineTool({
  name: 'git_diff',
  family: 'git',
  title: 'Diff',
  description: 'Stat and patch of uncommitted changes (or the index with `staged`, or a `range`), the patch trimmed to max_bytes with a note when trimmed.',
  input: z.object({
    repo,
    range: ref('range').optional().describe('e.g. upstream/master...HEAD'),
    staged: z.boolean().default(false),
    path: ref('path').optional(),
    max_bytes: z.number().int().min(1000).max(5_000_000).optional().describe('Default: config git.diff_max_bytes'),
  }),
  output: z.object({
    compared: z.string(),
    files: z.array(z.object({ path: z.string(), added: z.number().int().nullable(), deleted: z.number().int().nullable() })),
    insertions: z.number().int(),
    deletions: z.number().int(),
    patch: z.string(),
    patch_bytes: z.number().int(),
    truncated: z.boolean(),
    note: z.string().nullable(),
  }),
  annotations: readOnly,
  handler: async (args, ctx) => readDiff(await open(ctx, args.repo), { ...args, maxBytes: args.max_bytes ?? ctx.config.git.diff_max_bytes }),
  // The patch is what a reviewer reads: the report carries it (already trimmed to max_bytes).
  summarize: (r) =>
    [
      `${r.compared}: ${r.files.length} file(s), +${r.insertions}/-${r.deletions}${r.truncated ? ` (patch trimmed${r.note ? `: ${r.note}` : ''})` : ''}`,
      ...r.files.map((f) => `  ${f.path} +${f.added ?? '?'}/-${f.deleted ?? '?'}`),
      ...(r.patch ? ['', r.patch] : []),
    ].join('\n'),
});

export const gitFetch = defineTool({
  name: 'git_fetch',
  family: 'git',
  title: 'Fetch a remote',
  description: "Fetch a remote (default: the repository's upstream remote) and report which remote branches moved. Never prompts for credentials.",
  input: z.object({ repo, remote: ref('remote').optional(), prune: z.boolean().default(false) }),
  output: z.object({
    remote: z.string(),
    updated: z.array(z.object({ ref: z.string(), from: z.string().nullable(), to: z.string() })),
    pruned: z.array(z.string()),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async (args, ctx) => fetchRemote(await open(ctx, args.repo), args.remote, args.prune),
  summarize: (r) => `fetched ${r.remote}: ${r.updated.length} ref(s) updated${r.pruned.length ? `, ${r.pruned.length} pruned` : ''}`,
});

export const gitCheckout = defineTool({
  name: 'git_checkout',
  family: 'git',
  title: 'Check out a branch',
  description: 'Switch to an existing branch, or create one (`create: true`) from `start_point` (default HEAD). Refuses when local changes would be overwritten.',
  input: z.object({ repo, branch: ref('branch'), create: z.boolean().default(false), start_point: ref('start_point').optional().describe('e.g. upstream/master') }),
  output: z.object({ branch: z.string(), previous: z.string().nullable(), sha: z.string(), created: z.boolean() }),
  annotations: local(true),
  handler: async (args, ctx) => checkout(await open(ctx, args.repo), args.branch, args.create, args.start_point),
  summarize: (r) => `${r.created ? 'created and switched to' : 'switched to'} ${r.branch} at ${r.sha.slice(0, 7)}`,
});

export const gitRebase = defineTool({
  name: 'git_rebase',
  family: 'git',
  title: 'Rebase the current branch',
  description: 'Rebase the current branch onto `onto`. On conflict the rebase is aborted, the repository is left as it was, and the error lists the conflicting files.',
  input: z.object({ repo, onto: ref('onto').describe('e.g. upstream/master') }),
  output: z.object({ branch: z.string().nullable(), onto: z.string(), before: z.string(), after: z.string(), changed: z.boolean() }),
  annotations: local(true),
  handler: async (args, ctx) => rebase(await open(ctx, args.repo), args.onto),
  summarize: (r) => (r.changed ? `rebased ${r.branch ?? 'HEAD'} onto ${r.onto}: ${r.after.slice(0, 7)}` : `${r.branch ?? 'HEAD'} already up to date with ${r.onto}`),
});

export const gitAdd = defineTool({
  name: 'git_add',
  family: 'git',
  title: 'Stage files',
  description: 'Stage files (paths relative to the repository root), or every change with `all: true`.',
  input: z.object({ repo, files: z.array(ref('file')).default([]), all: z.boolean().default(false) }),
  output: z.object({ staged: z.array(z.string()).describe('Every staged path after the call') }),
  annotations: local(true),
  handler: async (args, ctx) => ({ staged: await stage(await open(ctx, args.repo), args.files, args.all) }),
  summarize: (r) => `${r.staged.length} file(s) staged`,
});

export const gitCommit = defineTool({
  name: 'git_commit',
  family: 'git',
  title: 'Commit staged changes',
  description:
    'Commit what is staged, with `message`, or a message built from config commit_format out of type, scope, subject and issue_key (from the branch name when absent). Refuses an empty commit.',
  input: z.object({
    repo,
    message: z.string().trim().min(1).max(20_000).optional(),
    type: z.string().trim().min(1).max(40).optional().describe('e.g. chore, fix, feat (config commit_format.types)'),
    scope: z.string().trim().max(80).optional(),
    subject: z.string().trim().min(1).max(500).optional(),
    issue_key: z.string().trim().regex(/^[A-Z][A-Z0-9]+-\d+$/, 'expected an issue key like AAP-123').optional(),
  }),
  output: z.object({ sha: z.string(), short: z.string(), branch: z.string().nullable(), message: z.string(), issue_key: z.string().nullable(), files: z.array(z.string()) }),
  annotations: local(false),
  handler: async (args, ctx) => commit(await open(ctx, args.repo), ctx.config.commit_format, args),
  summarize: (r) => `committed ${r.short} on ${r.branch ?? 'detached HEAD'}: ${r.message.split('\n')[0]}`,
});

export const gitPush = defineTool({
  name: 'git_push',
  family: 'git',
  title: 'Push a branch or a tag',
  description:
    "Push a branch (default: current) or one `tag` to a remote (default: the push remote). `force` is --force-with-lease, never for tags; a rejected push is a conflict.",
  input: z.object({
    repo,
    branch: ref('branch').optional(),
    tag: ref('tag').optional().describe('Push this local tag instead of a branch (not with branch, set_upstream or force)'),
    remote: ref('remote').optional(),
    set_upstream: z.boolean().default(false),
    force: z.boolean().default(false).describe('Force with lease: overwrite the remote branch only if it is where we last saw it'),
  }),
  output: z.object({
    remote: z.string(),
    branch: z.string().nullable().describe('null when a tag was pushed'),
    tag: z.string().nullable().describe('The tag pushed; null for a branch push'),
    sha: z.string(),
    upstream_set: z.boolean(),
    forced: z.boolean(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handler: async (args, ctx) => {
    if (args.tag !== undefined) {
      const extra = (['branch', 'set_upstream', 'force'] as const).filter((k) => (k === 'branch' ? args.branch !== undefined : args[k]));
      if (extra.length) throw new ToolError('invalid_input', `tag cannot be combined with ${extra.join(', ')}`, { hint: 'push the tag and the branch in two calls' });
      const pushed = await pushTag(await open(ctx, args.repo), { remote: args.remote, tag: args.tag });
      return { remote: pushed.remote, branch: null, tag: pushed.tag, sha: pushed.sha, upstream_set: false, forced: false };
    }
    const pushed = await pushBranch(await open(ctx, args.repo), { remote: args.remote, branch: args.branch, setUpstream: args.set_upstream, force: args.force });
    return { ...pushed, tag: null };
  },
  summarize: (r) =>
    r.tag
      ? `pushed tag ${r.tag} (${r.sha.slice(0, 7)}) to ${r.remote}`
      : `pushed ${r.branch} (${r.sha.slice(0, 7)}) to ${r.remote}${r.forced ? ' with force-with-lease' : ''}${r.upstream_set ? ', upstream set' : ''}`,
});

export const gitTag = defineTool({
  name: 'git_tag',
  family: 'git',
  title: 'Create an annotated tag',
  description: 'Create an annotated tag with a message on `ref` (default HEAD). An existing tag is refused, never moved.',
  input: z.object({ repo, tag: ref('tag').describe('e.g. v2026.01.31-abc1234'), message: z.string().trim().min(1).max(20_000), ref: ref('ref').optional() }),
  output: z.object({ tag: z.string(), sha: z.string(), message: z.string() }),
  annotations: local(false),
  handler: async (args, ctx) => tag(await open(ctx, args.repo), args.tag, args.message, args.ref),
  summarize: (r) => `tagged ${r.sha.slice(0, 7)} as ${r.tag}`,
});

export const gitTools = [gitStatus, gitLog, gitCommitExists, gitBranchList, gitDiff, gitFetch, gitCheckout, gitRebase, gitAdd, gitCommit, gitPush, gitTag] as const;
