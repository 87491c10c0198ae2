import type { Config, Secrets } from '../config.js';
import { ToolError } from '../errors.js';
import { callWithin, requestFailureToToolError, statusToToolError, tokenHint } from './http-errors.js';

export interface GitlabSettings {
  url: string;
  token: string;
  timeoutMs: number;
}

const SERVICE = 'GitLab';

/** GitLab settings from config and secrets; a missing URL or token is a `config` error naming what to set. */
export function gitlabSettings(config: Config, secrets: Secrets): GitlabSettings {
  if (!config.gitlab.url) throw new ToolError('config', 'GitLab is not configured: gitlab.url is missing', { hint: 'add "gitlab": { "url": "https://gitlab.example.com" } to config.json' });
  if (!secrets.GITLAB_TOKEN) throw new ToolError('config', 'GITLAB_TOKEN is not set', { hint: 'export GITLAB_TOKEN with a personal access token that has the api scope' });
  return { url: config.gitlab.url.replace(/\/+$/, ''), token: secrets.GITLAB_TOKEN, timeoutMs: config.gitlab.timeout_ms };
}

/** GitLab error bodies: {"message": "..."}, {"message": ["..."]}, {"message": {"field": ["..."]}} or {"error": "..."}. */
export function gitlabErrorText(body: unknown): string {
  if (typeof body === 'string') return body.trim();
  if (!body || typeof body !== 'object') return '';
  const raw = (body as { message?: unknown; error?: unknown }).message ?? (body as { error?: unknown }).error;
  if (typeof raw === 'string') return raw;
  if (Array.isArray(raw)) return raw.map(String).join('; ');
  if (raw && typeof raw === 'object') {
    return Object.entries(raw)
      .map(([field, problems]) => `${field} ${Array.isArray(problems) ? problems.join(', ') : String(problems)}`)
      .join('; ');
  }
  return '';
}

async function readBody(response: Response): Promise<unknown> {
  const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
  const text = await response.text();
  if (type === 'application/json' && text) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** A non-2xx answer, turned into a ToolError by the client call that knows what was asked. */
class GitlabHttpFailure extends Error {
  override readonly name = 'GitlabHttpFailure';
  constructor(
    readonly status: number,
    readonly body: string,
    readonly retryAfter: string | null,
  ) {
    super(`GitLab answered ${status}`);
  }
}

/**
 * The HTTP step of gitbeaker, replaced so that errors become ToolErrors with the status,
 * GitLab's message and Retry-After (gitbeaker's own handler retries 429 ten times in a
 * quarter second and drops Retry-After). Request building stays gitbeaker's.
 */
function requestHandler(timeoutMs: number, trustedFetch: typeof fetch) {
  return async (endpoint: string, options: Record<string, unknown> = {}) => {
    const { prefixUrl, searchParams, method, asStream: _s, rateLimiters: _r, agent: _a, ...init } = options as {
      prefixUrl: string;
      searchParams?: string;
      method: string;
      [key: string]: unknown;
    };
    const url = new URL(endpoint, prefixUrl.endsWith('/') ? prefixUrl : `${prefixUrl}/`);
    url.search = searchParams ?? '';
    let response: Response;
    try {
      response = await trustedFetch(new Request(url, { ...(init as RequestInit), method }));
    } catch (error) {
      throw requestFailureToToolError(error, { service: SERVICE, timeoutMs: timeoutMs });
    }
    const body = response.status === 204 ? null : await readBody(response);
    if (!response.ok) throw new GitlabHttpFailure(response.status, gitlabErrorText(body), response.headers.get('retry-after'));
    return { body: body as never, headers: Object.fromEntries(response.headers.entries()), status: response.status };
  };
}

export interface MergeRequest {
  id: number;
  iid: number;
  title: string;
  description: string | null;
  state: string;
  source_branch: string;
  target_branch: string;
  web_url: string;
  draft?: boolean;
  merge_status?: string;
  detailed_merge_status?: string;
  has_conflicts?: boolean;
  author?: { username: string } | null;
  labels?: string[];
  sha?: string | null;
  created_at?: string;
  head_pipeline?: { id: number; status: string; web_url?: string } | null;
  source_project_id?: number;
  target_project_id?: number;
}

/** GitLab CE/Free answers approvals without approvals_required/approvals_left (no approval rules there). */
export interface Approvals {
  approved?: boolean;
  approvals_required?: number;
  approvals_left?: number;
  approved_by?: Array<{ user: { username: string } }>;
}

export interface Project {
  id: number;
  path_with_namespace: string;
  forked_from_project?: { id: number; path_with_namespace: string } | null;
}

export interface Pipeline {
  id: number;
  status: string;
  ref: string;
  sha: string;
  web_url: string;
  created_at?: string;
}

export interface Job {
  id: number;
  name: string;
  stage: string;
  status: string;
  web_url: string;
  failure_reason?: string;
}

export interface CreateMergeRequestOptions {
  description?: string;
  labels?: string[];
  assigneeIds?: number[];
  reviewerIds?: number[];
  removeSourceBranch?: boolean;
  /** Set when the source branch is in a fork: the MR is created on the fork and targets this project. */
  targetProjectId?: number;
}

/** The GitLab calls release-mcp makes, over gitbeaker, with one error and retry policy. */
export class GitlabClient {
  constructor(
    // gitbeaker's resource types are deeply generic; the calls below are typed by their results.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    private readonly api: any,
    readonly settings: GitlabSettings,
  ) {}

  private call<T>(what: string, run: () => Promise<unknown>): Promise<T> {
    return callWithin(this.settings.timeoutMs, run as () => Promise<T>, (error) => {
      if (error instanceof GitlabHttpFailure) {
        return statusToToolError(error.status, { service: SERVICE, what, body: error.body, retryAfter: error.retryAfter, authHint: tokenHint('GITLAB_TOKEN', SERVICE) });
      }
      return requestFailureToToolError(error, { service: SERVICE, timeoutMs: this.settings.timeoutMs });
    });
  }

  createMergeRequest(project: string, source: string, target: string, title: string, options: CreateMergeRequestOptions): Promise<MergeRequest> {
    return this.call(`create merge request in ${project}`, () =>
      this.api.MergeRequests.create(project, source, target, title, {
        ...(options.description !== undefined ? { description: options.description } : {}),
        ...(options.labels?.length ? { labels: options.labels.join(',') } : {}),
        ...(options.assigneeIds?.length ? { assigneeIds: options.assigneeIds } : {}),
        ...(options.reviewerIds?.length ? { reviewerIds: options.reviewerIds } : {}),
        ...(options.removeSourceBranch !== undefined ? { removeSourceBranch: options.removeSourceBranch } : {}),
        ...(options.targetProjectId !== undefined ? { targetProjectId: options.targetProjectId } : {}),
      }),
    );
  }

  getProject(project: string): Promise<Project> {
    return this.call(`project ${project}`, () => this.api.Projects.show(project));
  }

  listMergeRequests(project: string, filter: { sourceBranch?: string; targetBranch?: string; search?: string; state?: string; authorUsername?: string; limit: number }): Promise<MergeRequest[]> {
    return this.call(`list merge requests of ${project}`, () =>
      this.api.MergeRequests.all({
        projectId: project,
        ...(filter.sourceBranch ? { sourceBranch: filter.sourceBranch } : {}),
        ...(filter.targetBranch ? { targetBranch: filter.targetBranch } : {}),
        ...(filter.search ? { search: filter.search } : {}),
        ...(filter.state ? { state: filter.state } : {}),
        ...(filter.authorUsername ? { authorUsername: filter.authorUsername } : {}),
        orderBy: 'created_at',
        sort: 'desc',
        perPage: filter.limit,
        maxPages: 1,
      }),
    );
  }

  getMergeRequest(project: string, iid: number): Promise<MergeRequest> {
    return this.call(`merge request !${iid} of ${project}`, () => this.api.MergeRequests.show(project, iid));
  }

  getApprovals(project: string, iid: number): Promise<Approvals> {
    return this.call(`approvals of !${iid} in ${project}`, () => this.api.MergeRequestApprovals.showConfiguration(project, { mergerequestIId: iid }));
  }

  latestPipeline(project: string, filter: { ref?: string; sha?: string }): Promise<Pipeline | undefined> {
    return this.call<Pipeline[]>(`pipelines of ${project}`, () =>
      this.api.Pipelines.all(project, { ...(filter.ref ? { ref: filter.ref } : {}), ...(filter.sha ? { sha: filter.sha } : {}), orderBy: 'id', sort: 'desc', perPage: 1, maxPages: 1 }),
    ).then((pipelines) => pipelines[0]);
  }

  /** POST /projects/:id/pipeline: a new pipeline for `ref`, with CI/CD variables. Not idempotent. */
  createPipeline(project: string, ref: string, variables: Record<string, string>): Promise<Pipeline> {
    const list = Object.entries(variables).map(([key, value]) => ({ key, value, variable_type: 'env_var' }));
    return this.call(`create pipeline for ${ref} in ${project}`, () => this.api.Pipelines.create(project, ref, list.length ? { variables: list } : {}));
  }

  getPipeline(project: string, pipelineId: number): Promise<Pipeline> {
    return this.call(`pipeline ${pipelineId} of ${project}`, () => this.api.Pipelines.show(project, pipelineId));
  }

  failedJobs(project: string, pipelineId: number): Promise<Job[]> {
    return this.call(`jobs of pipeline ${pipelineId}`, () => this.api.Jobs.all(project, { pipelineId, scope: ['failed'], perPage: 100, maxPages: 1 }));
  }

  /** A user's id from the username; not_found when no such user. */
  async userId(username: string): Promise<number> {
    const users = await this.call<Array<{ id: number; username: string }>>(`user ${username}`, () => this.api.Users.all({ username, perPage: 1, maxPages: 1 }));
    const user = users.find((u) => u.username.toLowerCase() === username.toLowerCase()) ?? users[0];
    if (!user) throw new ToolError('not_found', `GitLab has no user named "${username}"`, { hint: 'use the GitLab username (the part after @), not the display name' });
    return user.id;
  }
}

/** Build the client; @gitbeaker/rest is imported here, on first use, not at server start. */
export async function createGitlabClient(settings: GitlabSettings, trustedFetch: typeof fetch = fetch): Promise<GitlabClient> {
  const [{ Gitlab }, { createRequesterFn }] = await Promise.all([import('@gitbeaker/rest'), import('@gitbeaker/requester-utils')]);
  const api = new Gitlab({
    host: settings.url,
    token: settings.token,
    queryTimeout: settings.timeoutMs,
    // gitbeaker builds each request (auth header, query, JSON body) as @gitbeaker/rest does; only the HTTP step is ours.
    requesterFn: createRequesterFn((_service, options) => Promise.resolve(options), requestHandler(settings.timeoutMs, trustedFetch)),
  });
  return new GitlabClient(api, settings);
}

/** A merge request as tools report it. */
export function mergeRequestSummary(mr: MergeRequest) {
  return {
    iid: mr.iid,
    id: mr.id,
    title: mr.title,
    state: mr.state,
    draft: mr.draft ?? /^(draft:|\[draft\]|wip:)/i.test(mr.title),
    source_branch: mr.source_branch,
    target_branch: mr.target_branch,
    web_url: mr.web_url,
    author: mr.author?.username ?? null,
    labels: mr.labels ?? [],
    created_at: mr.created_at ?? null,
  };
}
