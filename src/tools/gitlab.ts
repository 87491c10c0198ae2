import { z } from 'zod';
import { ToolError } from '../errors.js';
import { openRepo } from '../git/index.js';
import { createGitlabClient, gitlabSettings, mergeRequestSummary, type GitlabClient, type MergeRequest, type Pipeline } from '../integrations/gitlab.js';
import { gitlabProjectFromRemoteUrl } from '../integrations/gitlab-remote.js';
import { withoutUrlCredentials } from '../integrations/http-errors.js';
import { defineTool, type ToolContext } from './registry.js';
import { httpsTrust } from './trust.js';

const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true } as const;

/** The GitLab client, built on first use; a missing URL or token fails here, at call time. */
function gitlab(ctx: ToolContext): Promise<GitlabClient> {
  const settings = gitlabSettings(ctx.config, ctx.secrets);
  const trust = httpsTrust(ctx);
  return ctx.clients.get('gitlab', () => createGitlabClient(settings, trust.fetch));
}

const project = z
  .union([z.string().trim().min(1), z.number().int().positive()])
  .transform(String)
  .describe('Project path (group/name, e.g. service/app-interface) or numeric id');
const branch = z.string().trim().min(1).max(255);
const iid = z.number().int().positive().describe('Merge request number within the project (the !N)');

const mergeRequestSchema = z.object({
  iid: z.number().int(),
  id: z.number().int(),
  title: z.string(),
  state: z.string().describe('opened, closed, merged or locked'),
  draft: z.boolean(),
  source_branch: z.string(),
  target_branch: z.string(),
  web_url: z.string(),
  author: z.string().nullable(),
  labels: z.array(z.string()),
  created_at: z.string().nullable(),
});

/** Where the source branch lives: the target project itself, or a fork of it (numeric ids once resolved). */
interface MergeRequestSides {
  sourceProject: string;
  /** Set when the source is a fork: the fork's and the target's ids. */
  fork?: { sourceId: number; targetId: number };
}

/**
 * The open MR from sourceBranch (of the source project) into targetBranch: GitLab allows one per
 * source and target pair. An MR of the same branch name from another fork is someone else's.
 */
async function openMergeRequestFor(client: GitlabClient, targetProject: string, sides: MergeRequestSides, sourceBranch: string, targetBranch: string): Promise<MergeRequest | undefined> {
  const open = await client.listMergeRequests(targetProject, { sourceBranch, state: 'opened', limit: 100 });
  const sameSource = (mr: MergeRequest) =>
    sides.fork ? mr.source_project_id === sides.fork.sourceId : mr.source_project_id === undefined || mr.source_project_id === mr.target_project_id;
  return open.find((mr) => mr.source_branch === sourceBranch && mr.target_branch === targetBranch && sameSource(mr));
}

/** The fork a configured checkout pushes to: repositories.<name>.gitlab_fork, else the GitLab project of its push remote's URL. */
async function forkOfRepository(ctx: ToolContext, name: string): Promise<string> {
  const configured = ctx.config.repositories[name];
  if (!configured) {
    throw new ToolError('invalid_input', `source_repo: "${name}" is not a repository in config`, { hint: `expected one of: ${Object.keys(ctx.config.repositories).join(', ') || '(none configured)'}` });
  }
  if (configured.gitlab_fork) return configured.gitlab_fork;
  const git = await openRepo(ctx.config, name, { signal: ctx.signal });
  const remoteUrl = (await git.run(['remote', 'get-url', '--push', configured.remote])).trim();
  const project = gitlabProjectFromRemoteUrl(remoteUrl, ctx.config.gitlab.url ?? '');
  if (!project) {
    throw new ToolError('config', `cannot tell the GitLab project of remote "${configured.remote}" of ${name} (${withoutUrlCredentials(remoteUrl)}): it is not on ${ctx.config.gitlab.url}`, {
      hint: `set repositories.${name}.gitlab_fork in config.json to the project the branch is pushed to, e.g. "jdoe/app-interface"`,
    });
  }
  return project;
}

async function mergeRequestSides(client: GitlabClient, ctx: ToolContext, targetProject: string, args: { source_project?: string | undefined; source_repo?: string | undefined }): Promise<MergeRequestSides> {
  if (args.source_project !== undefined && args.source_repo !== undefined) {
    throw new ToolError('invalid_input', 'give source_project or source_repo, not both', { hint: 'source_project names the fork directly; source_repo reads it from a configured checkout' });
  }
  const sourceProject = args.source_project ?? (args.source_repo !== undefined ? await forkOfRepository(ctx, args.source_repo) : targetProject);
  if (sourceProject === targetProject) return { sourceProject };
  const [source, target] = await Promise.all([client.getProject(sourceProject), client.getProject(targetProject)]);
  if (source.id === target.id) return { sourceProject };
  return { sourceProject: source.path_with_namespace, fork: { sourceId: source.id, targetId: target.id } };
}

/** GitLab's answer when the branch is not in the source project: say where to push it. */
function explainCreateFailure(error: unknown, sourceProject: string, sourceBranch: string): unknown {
  if (error instanceof ToolError && error.code === 'invalid_input' && /source[_ ]branch/i.test(error.message) && /does not exist/i.test(error.message)) {
    return new ToolError('invalid_input', error.message, {
      cause: error,
      hint: `push ${sourceBranch} to ${sourceProject} first (git_push), or name the fork that has it with source_project / source_repo`,
    });
  }
  return error;
}

export const gitlabMrCreate = defineTool({
  name: 'gitlab_mr_create',
  family: 'gitlab',
  title: 'Open a GitLab merge request',
  description:
    'Open a merge request from source_branch into project. From a fork, name it with source_project or source_repo (a configured checkout). Returns an open MR of the same branches with existing: true instead of failing.',
  input: z.object({
    project: project.describe('Project that receives the merge request (the upstream, e.g. service/app-interface): path or numeric id'),
    source_project: z.string().trim().min(1).optional().describe('Fork that holds source_branch (path, e.g. jdoe/app-interface); default: project itself'),
    source_repo: z.string().trim().min(1).optional().describe('Configured repository whose push remote is the fork (repositories.<name>.gitlab_fork, else its remote URL)'),
    source_branch: branch.describe('Branch with the changes (already pushed to the source project)'),
    target_branch: branch.optional().describe('Branch to merge into; default gitlab.default_target_branch from config'),
    title: z.string().trim().min(1).max(255),
    description: z.string().max(100_000).optional().describe('Markdown body of the MR'),
    labels: z.array(z.string().trim().min(1)).default([]),
    draft: z.boolean().default(false).describe('Open as a draft (title prefixed "Draft: ")'),
    assignees: z.array(z.string().trim().min(1)).default([]).describe('GitLab usernames to assign'),
    reviewers: z.array(z.string().trim().min(1)).default([]).describe('GitLab usernames to ask for review'),
    remove_source_branch: z.boolean().optional().describe('Delete the source branch when merged'),
  }),
  output: mergeRequestSchema.extend({
    source_project: z.string().describe('Project the source branch is in (the fork, or the target project itself)'),
    existing: z.boolean().describe('true when an open MR for this source and target branch already existed and was returned as is'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async (args, ctx) => {
    const client = await gitlab(ctx);
    const targetBranch = args.target_branch ?? ctx.config.gitlab.default_target_branch;
    const sides = await mergeRequestSides(client, ctx, args.project, args);
    const reply = (mr: MergeRequest, existing: boolean) => ({ ...mergeRequestSummary(mr), source_project: sides.sourceProject, existing });
    const found = await openMergeRequestFor(client, args.project, sides, args.source_branch, targetBranch);
    if (found) return reply(found, true);
    const [assigneeIds, reviewerIds] = await Promise.all([Promise.all(args.assignees.map((u) => client.userId(u))), Promise.all(args.reviewers.map((u) => client.userId(u)))]);
    const title = args.draft && !/^draft:/i.test(args.title) ? `Draft: ${args.title}` : args.title;
    try {
      // On a fork, GitLab creates the MR through the SOURCE project with target_project_id.
      const created = await client.createMergeRequest(sides.fork ? sides.sourceProject : args.project, args.source_branch, targetBranch, title, {
        ...(args.description !== undefined ? { description: args.description } : {}),
        labels: args.labels,
        assigneeIds,
        reviewerIds,
        ...(args.remove_source_branch !== undefined ? { removeSourceBranch: args.remove_source_branch } : {}),
        ...(sides.fork ? { targetProjectId: sides.fork.targetId } : {}),
      });
      return reply(created, false);
    } catch (error) {
      // Another caller opened one between our look-up and the create: GitLab answers 409.
      if (error instanceof ToolError && error.code === 'conflict') {
        const raced = await openMergeRequestFor(client, args.project, sides, args.source_branch, targetBranch);
        if (raced) return reply(raced, true);
      }
      throw explainCreateFailure(error, sides.sourceProject, args.source_branch);
    }
  },
  summarize: (r) => `${r.existing ? 'existing' : 'opened'} !${r.iid} (${r.state}) from ${r.source_project}:${r.source_branch}: ${r.web_url}`,
});

export const gitlabMrGet = defineTool({
  name: 'gitlab_mr_get',
  family: 'gitlab',
  title: 'Show a GitLab merge request',
  description: 'State, merge status, head pipeline status and approvals of one merge request.',
  input: z.object({ project, iid }),
  output: mergeRequestSchema.extend({
    merge_status: z.string().nullable().describe('detailed_merge_status when GitLab gives it (mergeable, ci_must_pass, ...), else merge_status'),
    has_conflicts: z.boolean(),
    sha: z.string().nullable(),
    pipeline: z.object({ id: z.number().int(), status: z.string(), web_url: z.string().nullable() }).nullable(),
    approvals: z
      .object({
        approved: z.boolean().nullable().describe('null when GitLab does not say (approval rules need GitLab Premium)'),
        required: z.number().int().nullable().describe('null on GitLab CE/Free, which has no approval rules'),
        left: z.number().int().nullable().describe('null on GitLab CE/Free, which has no approval rules'),
        approved_by: z.array(z.string()),
      })
      .nullable()
      .describe('null when the approvals API is not available to this token or edition'),
  }),
  annotations: readOnly,
  handler: async ({ project: projectId, iid: number }, ctx) => {
    const client = await gitlab(ctx);
    const [mr, approvals] = await Promise.all([
      client.getMergeRequest(projectId, number),
      client.getApprovals(projectId, number).catch((error: unknown) => {
        if (error instanceof ToolError && (error.code === 'not_found' || error.code === 'forbidden')) return null;
        throw error;
      }),
    ]);
    return {
      ...mergeRequestSummary(mr),
      merge_status: mr.detailed_merge_status ?? mr.merge_status ?? null,
      has_conflicts: mr.has_conflicts ?? false,
      sha: mr.sha ?? null,
      pipeline: mr.head_pipeline ? { id: mr.head_pipeline.id, status: mr.head_pipeline.status, web_url: mr.head_pipeline.web_url ?? null } : null,
      approvals: approvals
        ? {
            approved: approvals.approved ?? null,
            required: approvals.approvals_required ?? null,
            left: approvals.approvals_left ?? null,
            approved_by: (approvals.approved_by ?? []).map((a) => a.user.username),
          }
        : null,
    };
  },
  summarize: (r) => `!${r.iid} ${r.state}, merge ${r.merge_status ?? 'unknown'}, pipeline ${r.pipeline?.status ?? 'none'}: ${r.web_url}`,
});

export const gitlabMrList = defineTool({
  name: 'gitlab_mr_list',
  family: 'gitlab',
  title: 'List GitLab merge requests',
  description: 'Merge requests of a project, newest first, filtered by source and target branch, state, author and text in the title or description.',
  input: z.object({
    project,
    source_branch: branch.optional(),
    target_branch: branch.optional(),
    search: z.string().trim().min(3).max(255).optional().describe('Text in the title or description (GitLab `search`: every word of 3+ characters must appear, case-insensitive), e.g. a commit SHA'),
    state: z.enum(['opened', 'closed', 'merged', 'locked', 'all']).default('opened'),
    author: z.string().trim().min(1).optional().describe('Author username'),
    limit: z.number().int().min(1).max(100).default(20),
  }),
  output: z.object({ project: z.string(), count: z.number().int(), merge_requests: z.array(mergeRequestSchema) }),
  annotations: readOnly,
  handler: async (args, ctx) => {
    const client = await gitlab(ctx);
    const list = await client.listMergeRequests(args.project, {
      ...(args.source_branch ? { sourceBranch: args.source_branch } : {}),
      ...(args.target_branch ? { targetBranch: args.target_branch } : {}),
      ...(args.search ? { search: args.search } : {}),
      ...(args.state !== 'all' ? { state: args.state } : {}),
      ...(args.author ? { authorUsername: args.author } : {}),
      limit: args.limit,
    });
    const mergeRequests = list.slice(0, args.limit).map(mergeRequestSummary);
    return { project: args.project, count: mergeRequests.length, merge_requests: mergeRequests };
  },
  summarize: (r) => [`${r.count} merge request(s) in ${r.project}`, ...r.merge_requests.map((m) => `!${m.iid} ${m.state}${m.draft ? ' draft' : ''} ${m.source_branch} -> ${m.target_branch}: ${m.title} ${m.web_url}`)].join('\n'),
});

export const gitlabPipelineStatus = defineTool({
  name: 'gitlab_pipeline_status',
  family: 'gitlab',
  title: 'Latest GitLab pipeline',
  description: 'Status of the latest pipeline for a ref or commit SHA, with its failed jobs. status is "none" when there is no pipeline.',
  input: z.object({
    project,
    ref: z.string().trim().min(1).optional().describe('Branch or tag'),
    sha: z
      .string()
      .trim()
      .regex(/^[0-9a-f]{40}$/i, 'expected the full 40-character commit SHA: GitLab matches pipelines on the full SHA, so a short one finds none')
      .optional()
      .describe('Full 40-character commit SHA'),
  }),
  output: z.object({
    project: z.string(),
    status: z.string().describe('success, failed, running, pending, canceled, skipped, manual, ... or none'),
    pipeline: z.object({ id: z.number().int(), status: z.string(), ref: z.string(), sha: z.string(), web_url: z.string(), created_at: z.string().nullable() }).nullable(),
    failed_jobs: z.array(z.object({ id: z.number().int(), name: z.string(), stage: z.string(), web_url: z.string(), failure_reason: z.string().nullable() })),
  }),
  annotations: readOnly,
  handler: async (args, ctx) => {
    if (!args.ref && !args.sha) throw new ToolError('invalid_input', 'give ref or sha', { hint: 'pass ref (a branch or tag) or sha (a commit)' });
    const client = await gitlab(ctx);
    const pipeline = await client.latestPipeline(args.project, { ...(args.ref ? { ref: args.ref } : {}), ...(args.sha ? { sha: args.sha } : {}) });
    if (!pipeline) return { project: args.project, status: 'none', pipeline: null, failed_jobs: [] };
    const jobs = pipeline.status === 'success' ? [] : await client.failedJobs(args.project, pipeline.id);
    return {
      project: args.project,
      status: pipeline.status,
      pipeline: { id: pipeline.id, status: pipeline.status, ref: pipeline.ref, sha: pipeline.sha, web_url: pipeline.web_url, created_at: pipeline.created_at ?? null },
      failed_jobs: jobs.filter((j) => j.status === 'failed').map((j) => ({ id: j.id, name: j.name, stage: j.stage, web_url: j.web_url, failure_reason: j.failure_reason ?? null })),
    };
  },
  summarize: (r) => `pipeline ${r.pipeline ? `#${r.pipeline.id} ` : ''}${r.status}${r.failed_jobs.length ? `, failed: ${r.failed_jobs.map((j) => j.name).join(', ')}` : ''}`,
});

const PIPELINE_DONE = new Set(['success', 'failed', 'canceled', 'skipped']);

/** Poll a pipeline until it finishes or the wait ends; progress per poll, a cancel stops the wait (not the pipeline). */
async function waitForPipeline(client: GitlabClient, projectId: string, pipeline: Pipeline, waitMs: number, intervalMs: number, ctx: ToolContext): Promise<Pipeline> {
  const deadline = Date.now() + waitMs;
  let current = pipeline;
  while (!PIPELINE_DONE.has(current.status) && Date.now() < deadline) {
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(new ToolError('cancelled', `stopped waiting for pipeline #${pipeline.id}; the pipeline itself goes on`, { hint: current.web_url }));
      };
      const timer = setTimeout(() => {
        ctx.signal.removeEventListener('abort', onAbort);
        resolve();
      }, Math.min(intervalMs, Math.max(0, deadline - Date.now())));
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
    current = await client.getPipeline(projectId, pipeline.id);
    await ctx.progress({ progress: Math.min(waitMs, waitMs - (deadline - Date.now())), total: waitMs, message: `pipeline #${pipeline.id}: ${current.status}` }).catch(() => undefined);
  }
  return current;
}

export const gitlabPipelineTrigger = defineTool({
  name: 'gitlab_pipeline_trigger',
  family: 'gitlab',
  title: 'Start a GitLab pipeline',
  description:
    'Start a new pipeline for a branch or tag, with CI/CD variables (e.g. a deploy pipeline). Not idempotent: each call starts another. Returns its id, status and web_url.',
  input: z.object({
    project,
    ref: z.string().trim().min(1).max(255).describe('Branch or tag to run the pipeline on'),
    variables: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a CI/CD variable name like DEPLOY_ENV'), z.string().max(10_000))
      .default({})
      .describe('CI/CD variables of the pipeline, e.g. { "DEPLOY_ENV": "prod", "RELEASE_SHA": "..." }'),
    wait_minutes: z.number().min(0).max(720).default(0).describe('Wait up to this long for the pipeline to finish (0: return once started)'),
    interval_seconds: z.number().min(0.05).max(600).default(15).describe('Seconds between status polls while waiting'),
  }),
  output: z.object({
    project: z.string(),
    id: z.number().int(),
    status: z.string().describe('Usually created or pending right after the start'),
    ref: z.string(),
    sha: z.string(),
    web_url: z.string(),
    finished: z.boolean().describe('true when the pipeline reached success, failed, canceled or skipped before the wait ended'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  handler: async (args, ctx) => {
    const client = await gitlab(ctx);
    const started = await client.createPipeline(args.project, args.ref, args.variables);
    const pipeline = args.wait_minutes > 0 ? await waitForPipeline(client, args.project, started, args.wait_minutes * 60_000, args.interval_seconds * 1000, ctx) : started;
    return { project: args.project, id: pipeline.id, status: pipeline.status, ref: pipeline.ref, sha: pipeline.sha, web_url: pipeline.web_url, finished: PIPELINE_DONE.has(pipeline.status) };
  },
  summarize: (r) => `${r.finished ? 'pipeline' : 'started pipeline'} #${r.id} on ${r.ref}: ${r.status}, ${r.web_url}`,
});

export const gitlabTools = [gitlabMrCreate, gitlabMrGet, gitlabMrList, gitlabPipelineStatus, gitlabPipelineTrigger] as const;
