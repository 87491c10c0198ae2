import { execFileSync } from 'node:child_process';
import { ServiceEmulator, type EmulatedRequest, type EmulatedResponse } from './base.js';

export interface EmulatedProject {
  id: number;
  path_with_namespace: string;
  name: string;
  default_branch: string;
  web_url: string;
  /** The project this one was forked from (GitLab's forked_from_project). */
  forked_from_project_id?: number;
  /** A bare git repository whose branches are this project's (what was pushed to it), instead of `refs`. */
  repository?: string;
}

export interface EmulatedUser {
  id: number;
  username: string;
  name: string;
}

export interface EmulatedMergeRequest {
  id: number;
  iid: number;
  project_id: number;
  source_project_id: number;
  target_project_id: number;
  title: string;
  description: string | null;
  state: 'opened' | 'closed' | 'merged' | 'locked';
  source_branch: string;
  target_branch: string;
  web_url: string;
  draft: boolean;
  merge_status: string;
  detailed_merge_status: string;
  has_conflicts: boolean;
  author: { id: number; username: string };
  assignees: Array<{ id: number; username: string }>;
  reviewers: Array<{ id: number; username: string }>;
  labels: string[];
  sha: string;
  force_remove_source_branch: boolean;
  created_at: string;
  approved_by: string[];
  approvals_required: number;
}

/**
 * Which approvals answer the emulator gives: `premium` (approval rules: approvals_required and
 * approvals_left) or `ce` (GitLab CE/Free: user_has_approved, user_can_approve, approved, approved_by).
 */
export type GitlabEdition = 'premium' | 'ce';

export interface EmulatedPipeline {
  id: number;
  project_id: number;
  status: string;
  ref: string;
  sha: string;
  web_url: string;
  created_at: string;
}

export interface EmulatedPipelineVariable {
  key: string;
  value: string;
  variable_type: string;
}

export interface EmulatedJob {
  id: number;
  name: string;
  stage: string;
  status: string;
  failure_reason?: string;
  web_url: string;
}

const unauthorized: EmulatedResponse = { status: 401, body: { message: '401 Unauthorized' } };
const notFound = (what: string): EmulatedResponse => ({ status: 404, body: { message: `404 ${what} Not Found` } });

/**
 * GitLab REST v4 as @gitbeaker/rest calls it: projects by id or URL-encoded path, merge
 * requests (create, list, show, approvals), pipelines and their jobs, users by username.
 * Auth by PRIVATE-TOKEN or `Authorization: Bearer`, answering 401 as GitLab does.
 */
export class GitlabEmulator extends ServiceEmulator {
  readonly projects: EmulatedProject[] = [];
  readonly users: EmulatedUser[] = [];
  readonly mergeRequests: EmulatedMergeRequest[] = [];
  readonly pipelines: EmulatedPipeline[] = [];
  readonly jobs = new Map<number, EmulatedJob[]>();
  /** Variables of pipelines started through the API, by pipeline id. */
  readonly pipelineVariables = new Map<number, EmulatedPipelineVariable[]>();
  /**
   * Statuses a pipeline started through the API goes through, one per GET of that pipeline
   * (e.g. ["running", "success"]); empty: it stays "created".
   */
  startedPipelineStatuses: string[] = [];
  private readonly progressions = new Map<number, string[]>();
  /** Branches and tags per project id: ref -> sha. A project starts with its default branch. */
  readonly refs = new Map<number, Map<string, string>>();
  /** token -> username of its owner */
  private readonly tokens = new Map<string, string>();
  edition: GitlabEdition = 'premium';
  private nextId = 1000;
  private clock = Date.parse('2026-01-01T00:00:00Z');

  constructor() {
    super('gitlab');
    const api = '/api/v4';
    this.server
      .route('GET', `${api}/projects/:project`, (req) => this.authed(req, () => this.withProject(req, (p) => ({ status: 200, body: this.renderProject(p) }))))
      .route('GET', `${api}/projects/:project/merge_requests`, (req) => this.authed(req, () => this.withProject(req, (p) => this.listMergeRequests(p, req))))
      .route('POST', `${api}/projects/:project/merge_requests`, (req) => this.authed(req, (user) => this.withProject(req, (p) => this.createMergeRequest(p, user, req))))
      .route('GET', `${api}/projects/:project/merge_requests/:iid`, (req) => this.authed(req, () => this.withMergeRequest(req, (mr) => ({ status: 200, body: this.render(mr, true) }))))
      .route('GET', `${api}/projects/:project/merge_requests/:iid/approvals`, (req) => this.authed(req, (user) => this.withMergeRequest(req, (mr) => ({ status: 200, body: this.approvals(mr, user) }))))
      .route('GET', `${api}/projects/:project/pipelines`, (req) => this.authed(req, () => this.withProject(req, (p) => this.listPipelines(p, req))))
      .route('POST', `${api}/projects/:project/pipeline`, (req) => this.authed(req, (user) => this.withProject(req, (p) => this.createPipeline(p, user, req))))
      .route('GET', `${api}/projects/:project/pipelines/:pipeline`, (req) =>
        this.authed(req, () =>
          this.withProject(req, (p) => {
            const pipeline = this.pipelines.find((pl) => pl.project_id === p.id && pl.id === Number(req.params.pipeline));
            if (!pipeline) return notFound('');
            const next = this.progressions.get(pipeline.id);
            if (next?.length) pipeline.status = next.shift()!;
            return { status: 200, body: pipeline };
          }),
        ),
      )
      .route('GET', `${api}/projects/:project/pipelines/:pipeline/jobs`, (req) =>
        this.authed(req, () =>
          this.withProject(req, (p) => {
            const pipeline = this.pipelines.find((pl) => pl.project_id === p.id && pl.id === Number(req.params.pipeline));
            if (!pipeline) return notFound('Pipeline');
            const scopes = [...req.query.getAll('scope[]'), ...req.query.getAll('scope')];
            const jobs = (this.jobs.get(pipeline.id) ?? []).filter((j) => scopes.length === 0 || scopes.includes(j.status));
            return { status: 200, body: jobs };
          }),
        ),
      )
      .route('GET', `${api}/users`, (req) =>
        this.authed(req, () => {
          const username = req.query.get('username');
          return { status: 200, body: this.users.filter((u) => !username || u.username.toLowerCase() === username.toLowerCase()) };
        }),
      );
  }

  addToken(token: string, username: string): this {
    this.tokens.set(token, username);
    if (!this.users.some((u) => u.username === username)) this.addUser(username);
    return this;
  }

  addUser(username: string): EmulatedUser {
    const user = { id: this.nextId++, username, name: username };
    this.users.push(user);
    return user;
  }

  addProject(path: string, options: { id?: number; default_branch?: string; forked_from?: string; repository?: string } = {}): EmulatedProject {
    const parent = options.forked_from ? this.findProject(options.forked_from) : undefined;
    if (options.forked_from && !parent) throw new Error(`no project ${options.forked_from} to fork`);
    const project: EmulatedProject = {
      id: options.id ?? this.nextId++,
      path_with_namespace: path,
      name: path.split('/').pop()!,
      default_branch: options.default_branch ?? 'master',
      web_url: `${this.server.url}/${path}`,
      ...(parent ? { forked_from_project_id: parent.id } : {}),
      ...(options.repository ? { repository: options.repository } : {}),
    };
    this.projects.push(project);
    this.refs.set(project.id, new Map([[project.default_branch, 'b'.repeat(40)]]));
    return project;
  }

  /** A branch or tag the project has, so a pipeline can be started on it. */
  addRef(projectPath: string, ref: string, sha: string): void {
    const project = this.findProject(projectPath);
    if (!project) throw new Error(`no project ${projectPath}`);
    this.refs.get(project.id)!.set(ref, sha);
  }

  /** Add a pipeline (the newest added is the latest) and optionally its jobs. */
  setPipeline(projectPath: string, pipeline: { ref: string; sha: string; status: string; jobs?: Array<Omit<EmulatedJob, 'id' | 'web_url'>> }): EmulatedPipeline {
    const project = this.findProject(projectPath);
    if (!project) throw new Error(`no project ${projectPath}`);
    const id = this.nextId++;
    const created = { id, project_id: project.id, status: pipeline.status, ref: pipeline.ref, sha: pipeline.sha, web_url: `${project.web_url}/-/pipelines/${id}`, created_at: this.tick() };
    this.pipelines.push(created);
    this.jobs.set(
      id,
      (pipeline.jobs ?? []).map((job) => {
        const jobId = this.nextId++;
        return { ...job, id: jobId, web_url: `${project.web_url}/-/jobs/${jobId}` };
      }),
    );
    return created;
  }

  /** Whether the project has the branch: in its backing bare repository when it has one, else in `refs`. */
  hasBranch(project: EmulatedProject, branch: string): boolean {
    if (project.repository) {
      try {
        execFileSync('git', ['--git-dir', project.repository, 'rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    }
    return this.refs.get(project.id)?.has(branch) ?? false;
  }

  private renderProject(project: EmulatedProject): Record<string, unknown> {
    const { forked_from_project_id: parentId, repository: _r, ...rest } = project;
    const parent = parentId === undefined ? undefined : this.projects.find((p) => p.id === parentId);
    return { ...rest, ...(parent ? { forked_from_project: { id: parent.id, path_with_namespace: parent.path_with_namespace, name: parent.name, web_url: parent.web_url } } : {}) };
  }

  /** GET .../approvals: Premium has approval rules (required/left); CE/Free answers without them. */
  private approvals(mr: EmulatedMergeRequest, user: EmulatedUser): Record<string, unknown> {
    const approvedBy = mr.approved_by.map((username) => ({ user: { username, name: username } }));
    const hasApproved = mr.approved_by.includes(user.username);
    if (this.edition === 'ce') return { user_has_approved: hasApproved, user_can_approve: !hasApproved, approved: mr.approved_by.length > 0, approved_by: approvedBy };
    return {
      id: mr.id,
      iid: mr.iid,
      project_id: mr.project_id,
      approved: mr.approved_by.length >= mr.approvals_required,
      approvals_required: mr.approvals_required,
      approvals_left: Math.max(0, mr.approvals_required - mr.approved_by.length),
      approved_by: approvedBy,
      user_has_approved: hasApproved,
      user_can_approve: !hasApproved,
    };
  }

  private tick(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString();
  }

  findProject(idOrPath: string): EmulatedProject | undefined {
    return this.projects.find((p) => String(p.id) === idOrPath || p.path_with_namespace === idOrPath);
  }

  private authed(req: EmulatedRequest, handle: (user: EmulatedUser) => EmulatedResponse): EmulatedResponse {
    const header = req.headers['private-token'] ?? req.headers.authorization?.replace(/^Bearer\s+/i, '');
    const token = Array.isArray(header) ? header[0] : header;
    const username = token ? this.tokens.get(token) : undefined;
    const user = username ? this.users.find((u) => u.username === username) : undefined;
    return user ? handle(user) : unauthorized;
  }

  private withProject(req: EmulatedRequest, handle: (project: EmulatedProject) => EmulatedResponse): EmulatedResponse {
    const project = this.findProject(req.params.project!);
    return project ? handle(project) : notFound('Project');
  }

  private withMergeRequest(req: EmulatedRequest, handle: (mr: EmulatedMergeRequest) => EmulatedResponse): EmulatedResponse {
    return this.withProject(req, (project) => {
      const mr = this.mergeRequests.find((m) => m.project_id === project.id && m.iid === Number(req.params.iid));
      return mr ? handle(mr) : notFound('');
    });
  }

  private render(mr: EmulatedMergeRequest, single = false): Record<string, unknown> {
    const { approved_by: _a, approvals_required: _r, ...rest } = mr;
    if (!single) return rest;
    const pipeline = [...this.pipelines].reverse().find((p) => p.project_id === mr.project_id && p.sha === mr.sha);
    return { ...rest, head_pipeline: pipeline ? { id: pipeline.id, status: pipeline.status, web_url: pipeline.web_url, sha: pipeline.sha, ref: pipeline.ref } : null };
  }

  private page<T>(items: T[], req: EmulatedRequest): EmulatedResponse {
    const perPage = Math.min(Number(req.query.get('per_page') ?? 20) || 20, 100);
    const page = Math.max(Number(req.query.get('page') ?? 1) || 1, 1);
    const slice = items.slice((page - 1) * perPage, page * perPage);
    const totalPages = Math.max(1, Math.ceil(items.length / perPage));
    return {
      status: 200,
      body: slice,
      headers: {
        'x-total': String(items.length),
        'x-total-pages': String(totalPages),
        'x-per-page': String(perPage),
        'x-page': String(page),
        'x-next-page': page < totalPages ? String(page + 1) : '',
      },
    };
  }

  private listMergeRequests(project: EmulatedProject, req: EmulatedRequest): EmulatedResponse {
    const state = req.query.get('state');
    const source = req.query.get('source_branch');
    const target = req.query.get('target_branch');
    const author = req.query.get('author_username');
    // GitLab's `search` (fuzzy_search over title and description, `in` narrows the columns): every
    // word of 3+ characters must appear in one of them, case-insensitive; shorter words are ignored.
    const words = (req.query.get('search') ?? '').toLowerCase().split(/\s+/).filter((w) => w.length >= 3);
    const columns = (req.query.get('in') ?? 'title,description').split(',').map((c) => c.trim());
    const searched = (m: EmulatedMergeRequest) => {
      const texts = [columns.includes('title') ? m.title : '', columns.includes('description') ? (m.description ?? '') : ''].map((t) => t.toLowerCase());
      return words.every((w) => texts.some((t) => t.includes(w)));
    };
    const list = this.mergeRequests
      .filter((m) => m.project_id === project.id)
      .filter((m) => !state || state === 'all' || m.state === state)
      .filter((m) => !source || m.source_branch === source)
      .filter((m) => !target || m.target_branch === target)
      .filter(searched)
      .filter((m) => !author || m.author.username === author)
      .sort((a, b) => (req.query.get('sort') === 'asc' ? a.id - b.id : b.id - a.id));
    return this.page(list.map((m) => this.render(m)), req);
  }

  /**
   * POST /projects/:id/merge_requests is called on the SOURCE project; target_project_id names the
   * project that receives the MR (the source's fork parent, or the source itself). The MR lives in
   * the target project. The source branch must exist in the source project.
   */
  private createMergeRequest(sourceProject: EmulatedProject, user: EmulatedUser, req: EmulatedRequest): EmulatedResponse {
    const body = (req.body ?? {}) as Record<string, unknown>;
    for (const field of ['source_branch', 'target_branch', 'title']) {
      if (typeof body[field] !== 'string' || !(body[field] as string).trim()) return { status: 400, body: { error: `${field} is missing` } };
    }
    const source = body.source_branch as string;
    const target = body.target_branch as string;
    const targetId = body.target_project_id === undefined ? sourceProject.id : Number(body.target_project_id);
    const project = this.projects.find((p) => p.id === targetId);
    if (!project) return notFound('Project');
    if (project.id !== sourceProject.id && sourceProject.forked_from_project_id !== project.id) {
      return { status: 422, body: { message: ['Source project is not a fork of the target project'] } };
    }
    if (project.id === sourceProject.id && source === target) return { status: 422, body: { message: ['You can\'t use same project/branch for source and target'] } };
    if (!this.hasBranch(sourceProject, source)) return { status: 400, body: { message: [`Source branch "${source}" does not exist`] } };
    // GitLab refuses a second open MR for the same source project/branch and target branch (MergeRequest#validate_branches).
    const open = this.mergeRequests.find(
      (m) => m.project_id === project.id && m.source_project_id === sourceProject.id && m.source_branch === source && m.target_branch === target && m.state === 'opened',
    );
    if (open) return { status: 409, body: { message: [`Another open merge request already exists for this source branch: !${open.iid}`] } };
    const people = (ids: unknown) => (Array.isArray(ids) ? ids.map(Number) : []).map((id) => this.users.find((u) => u.id === id)).filter((u): u is EmulatedUser => !!u).map((u) => ({ id: u.id, username: u.username }));
    const title = body.title as string;
    const iid = this.mergeRequests.filter((m) => m.project_id === project.id).reduce((max, m) => Math.max(max, m.iid), 0) + 1;
    const mr: EmulatedMergeRequest = {
      id: this.nextId++,
      iid,
      project_id: project.id,
      source_project_id: sourceProject.id,
      target_project_id: project.id,
      title,
      description: typeof body.description === 'string' ? body.description : null,
      state: 'opened',
      source_branch: source,
      target_branch: target,
      web_url: `${project.web_url}/-/merge_requests/${iid}`,
      draft: /^(draft:|\[draft\]|\(draft\))/i.test(title),
      merge_status: 'can_be_merged',
      detailed_merge_status: 'mergeable',
      has_conflicts: false,
      author: { id: user.id, username: user.username },
      assignees: people(body.assignee_ids),
      reviewers: people(body.reviewer_ids),
      labels: typeof body.labels === 'string' ? body.labels.split(',').filter(Boolean) : Array.isArray(body.labels) ? (body.labels as string[]) : [],
      sha: 'a'.repeat(40),
      force_remove_source_branch: body.remove_source_branch === true,
      created_at: this.tick(),
      approved_by: [],
      approvals_required: 1,
    };
    this.mergeRequests.push(mr);
    return { status: 201, body: this.render(mr) };
  }

  /** POST /projects/:id/pipeline as GitLab answers it: 201 with the new pipeline (status created), 400 for a missing or unknown ref. */
  private createPipeline(project: EmulatedProject, user: EmulatedUser, req: EmulatedRequest): EmulatedResponse {
    const body = (req.body ?? {}) as { ref?: unknown; variables?: unknown };
    const ref = typeof body.ref === 'string' ? body.ref : req.query.get('ref');
    if (!ref) return { status: 400, body: { error: 'ref is missing' } };
    const sha = this.refs.get(project.id)?.get(ref);
    if (!sha) return { status: 400, body: { message: { base: ['Reference not found'] } } };
    const raw = Array.isArray(body.variables) ? (body.variables as Array<Record<string, unknown>>) : [];
    if (raw.some((v) => typeof v.key !== 'string' || !v.key)) return { status: 400, body: { error: 'variables[key] is missing' } };
    const id = this.nextId++;
    const created = { id, project_id: project.id, status: 'created', ref, sha, web_url: `${project.web_url}/-/pipelines/${id}`, created_at: this.tick() };
    this.pipelines.push(created);
    this.jobs.set(id, []);
    this.progressions.set(id, [...this.startedPipelineStatuses]);
    this.pipelineVariables.set(id, raw.map((v) => ({ key: String(v.key), value: String(v.value ?? ''), variable_type: String(v.variable_type ?? 'env_var') })));
    return { status: 201, body: { ...created, iid: this.pipelines.filter((p) => p.project_id === project.id).length, source: 'api', tag: false, before_sha: '0'.repeat(40), user: { id: user.id, username: user.username }, yaml_errors: null } };
  }

  private listPipelines(project: EmulatedProject, req: EmulatedRequest): EmulatedResponse {
    const ref = req.query.get('ref');
    const sha = req.query.get('sha');
    const list = this.pipelines
      .filter((p) => p.project_id === project.id)
      .filter((p) => !ref || p.ref === ref)
      .filter((p) => !sha || p.sha === sha)
      .sort((a, b) => (req.query.get('sort') === 'asc' ? a.id - b.id : b.id - a.id));
    return this.page(list, req);
  }
}
