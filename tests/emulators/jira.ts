import { ServiceEmulator, type EmulatedRequest, type EmulatedResponse } from './base.js';

export interface EmulatedComment {
  id: string;
  body: string;
  author: { name: string; displayName: string };
  created: string;
  updated: string;
}

export interface EmulatedIssue {
  id: string;
  key: string;
  fields: {
    summary: string;
    description: string | null;
    project: { key: string };
    issuetype: { name: string };
    status: { name: string };
    resolution: { id: string; name: string } | null;
    labels: string[];
    components: Array<{ name: string }>;
    fixVersions: Array<{ name: string }>;
    assignee: { name: string; displayName: string } | null;
    reporter: { name: string; displayName: string };
    created: string;
    updated: string;
    issuelinks: unknown[];
  };
  comments: EmulatedComment[];
}

/** Resolutions of the emulated Jira (GET /rest/api/2/resolution on a default instance). */
export const RESOLUTIONS = [
  { id: '10000', name: 'Done' },
  { id: '10001', name: "Won't Do" },
  { id: '10002', name: 'Duplicate' },
];

/**
 * The workflow every emulated issue follows, as a Jira workflow does: each transition is valid
 * only from the statuses in `from`; one into Done has a transition screen with a required
 * Resolution; Reopen clears the resolution.
 */
export const WORKFLOW = [
  { id: '11', name: 'Stop Progress', from: ['In Progress'], to: 'To Do', requires: [] as string[] },
  { id: '21', name: 'Start Progress', from: ['To Do'], to: 'In Progress', requires: [] as string[] },
  { id: '31', name: 'Done', from: ['To Do', 'In Progress'], to: 'Done', requires: ['resolution'] },
  { id: '41', name: 'Reopen', from: ['Done'], to: 'To Do', requires: [] as string[] },
];

const resolutionField = { required: true, schema: { type: 'resolution', system: 'resolution' }, name: 'Resolution', key: 'resolution', operations: ['set'], allowedValues: RESOLUTIONS };

const ISSUE_TYPES = ['Story', 'Task', 'Bug', 'Epic'];
const noIssue: EmulatedResponse = { status: 404, body: { errorMessages: ['Issue does not exist or you do not have permission to see it.'], errors: {} } };
const badRequest = (errors: Record<string, string>, errorMessages: string[] = []): EmulatedResponse => ({ status: 400, body: { errorMessages, errors } });

type Predicate = (issue: EmulatedIssue) => boolean;

const unquote = (value: string) => value.trim().replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');

/** The JQL subset a release skill needs: field = v, != v, ~ "text", in (a, b), IS [NOT] EMPTY, AND, ORDER BY created|key ASC|DESC. */
export function compileJql(jql: string): { filter: Predicate; order: (a: EmulatedIssue, b: EmulatedIssue) => number } {
  const [where = '', orderBy] = jql.split(/\s+ORDER\s+BY\s+/i);
  const predicates: Predicate[] = [];
  for (const clause of where.trim() ? where.split(/\s+AND\s+/i) : []) {
    const m = /^\s*(\w+)\s*(=|!=|~|\bis\s+not\b|\bis\b|\bin\b)\s*(.+?)\s*$/i.exec(clause);
    if (!m) throw new Error(`Error in the JQL Query: unsupported clause '${clause.trim()}'`);
    const field = m[1]!.toLowerCase();
    const op = m[2]!.toLowerCase().replace(/\s+/g, ' ');
    const values = op === 'in' ? m[3]!.replace(/^\(|\)$/g, '').split(',').map(unquote) : [unquote(m[3]!)];
    const get = (issue: EmulatedIssue): string[] => {
      switch (field) {
        case 'project':
          return [issue.fields.project.key];
        case 'labels':
          return issue.fields.labels;
        case 'summary':
          return [issue.fields.summary];
        case 'status':
          return [issue.fields.status.name];
        case 'issuetype':
        case 'type':
          return [issue.fields.issuetype.name];
        case 'key':
        case 'issuekey':
          return [issue.key];
        case 'description':
          return issue.fields.description ? [issue.fields.description] : [];
        case 'resolution':
          return issue.fields.resolution ? [issue.fields.resolution.name] : [];
        case 'text':
          // Jira's text searches summary, description, environment and comments.
          return [issue.fields.summary, issue.fields.description ?? '', ...issue.comments.map((c) => c.body)];
        default:
          throw new Error(`Error in the JQL Query: Field '${m[1]}' does not exist or you do not have permission to view it.`);
      }
    };
    if (op === 'is' || op === 'is not') {
      // `field IS [NOT] EMPTY` (NULL is a synonym); any other operand is a JQL error, as in Jira.
      if (!/^(empty|null)$/i.test(values[0]!)) throw new Error(`Error in the JQL Query: expecting EMPTY or NULL after '${m[2]}' but got '${values[0]}'`);
      predicates.push(op === 'is' ? (issue) => get(issue).length === 0 : (issue) => get(issue).length > 0);
    } else if (field === 'resolution' && op === '=' && /^unresolved$/i.test(values[0]!)) predicates.push((issue) => get(issue).length === 0);
    else if (op === '~') predicates.push((issue) => get(issue).some((v) => v.toLowerCase().includes(values[0]!.toLowerCase())));
    else if (op === '!=') predicates.push((issue) => !get(issue).some((v) => v.toLowerCase() === values[0]!.toLowerCase()));
    else predicates.push((issue) => get(issue).some((v) => values.some((w) => v.toLowerCase() === w.toLowerCase())));
  }
  const sort = /^(created|key)\s*(ASC|DESC)?\s*$/i.exec(orderBy?.trim() ?? 'key DESC');
  if (!sort) throw new Error(`Error in the JQL Query: unsupported ORDER BY '${orderBy}'`);
  const direction = (sort[2] ?? 'ASC').toUpperCase() === 'DESC' ? -1 : 1;
  const order = (a: EmulatedIssue, b: EmulatedIssue) => direction * (Number(a.id) - Number(b.id));
  return { filter: (issue) => predicates.every((p) => p(issue)), order };
}

/**
 * Jira REST v2 as jira.js Version2Client calls it: issue create/get, comments, transitions,
 * search (Server/DC `/search` with startAt/total, Cloud `/search/jql` with nextPageToken).
 * Auth checked as the flavour does: Cloud basic (email:token), Server/DC bearer PAT.
 */
export class JiraEmulator extends ServiceEmulator {
  readonly issues: EmulatedIssue[] = [];
  readonly projects = new Set<string>();
  /** Largest page the search endpoints return, whatever maxResults asks. */
  maxPageSize = 50;
  private nextId = 10000;
  private clock = Date.parse('2026-01-01T00:00:00Z');
  private readonly keyCounters = new Map<string, number>();

  constructor(
    readonly auth: { flavor: 'cloud'; email: string; token: string } | { flavor: 'server'; token: string; username?: string },
  ) {
    super('jira');
    const api = '/rest/api/2';
    this.server
      .route('POST', `${api}/issue`, (req) => this.authed(req, () => this.create(req)))
      .route('GET', `${api}/issue/:key`, (req) => this.authed(req, () => this.withIssue(req, (issue) => ({ status: 200, body: this.render(issue, req.query.get('fields')) }))))
      .route('POST', `${api}/issue/:key/comment`, (req) => this.authed(req, () => this.withIssue(req, (issue) => this.comment(issue, req))))
      .route('GET', `${api}/issue/:key/transitions`, (req) =>
        this.authed(req, () => this.withIssue(req, (issue) => ({ status: 200, body: { expand: 'transitions', transitions: this.transitionsOf(issue, (req.query.get('expand') ?? '').split(',').includes('transitions.fields')) } }))),
      )
      .route('POST', `${api}/issue/:key/transitions`, (req) => this.authed(req, () => this.withIssue(req, (issue) => this.transition(issue, req))))
      .route('GET', `${api}/search`, (req) => this.authed(req, () => this.searchByOffset({ jql: req.query.get('jql') ?? '', startAt: req.query.get('startAt'), maxResults: req.query.get('maxResults'), fields: req.query.get('fields') })))
      .route('POST', `${api}/search`, (req) => this.authed(req, () => this.searchByOffset(req.body as Record<string, unknown>)))
      .route('POST', `${api}/search/jql`, (req) => this.authed(req, () => this.searchByToken(req.body as Record<string, unknown>)))
      .route('GET', `${api}/search/jql`, (req) =>
        this.authed(req, () => this.searchByToken({ jql: req.query.get('jql') ?? '', nextPageToken: req.query.get('nextPageToken'), maxResults: req.query.get('maxResults'), fields: req.query.get('fields') })),
      );
  }

  addProject(key: string): this {
    this.projects.add(key);
    return this;
  }

  /** Put an issue in place directly, as if created earlier. */
  addIssue(project: string, fields: { summary: string; labels?: string[]; status?: string; description?: string; issuetype?: string }): EmulatedIssue {
    this.projects.add(project);
    const n = (this.keyCounters.get(project) ?? 0) + 1;
    this.keyCounters.set(project, n);
    const now = this.tick();
    const issue: EmulatedIssue = {
      id: String(this.nextId++),
      key: `${project}-${n}`,
      fields: {
        summary: fields.summary,
        description: fields.description ?? null,
        project: { key: project },
        issuetype: { name: fields.issuetype ?? 'Story' },
        status: { name: fields.status ?? 'To Do' },
        resolution: fields.status === 'Done' ? RESOLUTIONS[0]! : null,
        labels: fields.labels ?? [],
        components: [],
        fixVersions: [],
        assignee: null,
        reporter: { name: 'release-bot', displayName: 'Release Bot' },
        created: now,
        updated: now,
        issuelinks: [],
      },
      comments: [],
    };
    this.issues.push(issue);
    return issue;
  }

  issue(key: string): EmulatedIssue | undefined {
    return this.issues.find((i) => i.key === key);
  }

  private tick(): string {
    this.clock += 60_000;
    return new Date(this.clock).toISOString().replace('Z', '+0000');
  }

  private authed(req: EmulatedRequest, handle: () => EmulatedResponse): EmulatedResponse {
    const header = req.headers.authorization ?? '';
    const expected =
      this.auth.flavor === 'cloud' ? `Basic ${Buffer.from(`${this.auth.email}:${this.auth.token}`).toString('base64')}` : `Bearer ${this.auth.token}`;
    if (header !== expected) {
      return this.auth.flavor === 'cloud'
        ? { status: 401, body: 'Client must be authenticated to access this resource.' }
        : { status: 401, body: { errorMessages: ['You are not authenticated. Authentication required to perform this operation.'], errors: {} } };
    }
    return handle();
  }

  private withIssue(req: EmulatedRequest, handle: (issue: EmulatedIssue) => EmulatedResponse): EmulatedResponse {
    const issue = this.issues.find((i) => i.key === req.params.key || i.id === req.params.key);
    return issue ? handle(issue) : noIssue;
  }

  private render(issue: EmulatedIssue, fields?: unknown): Record<string, unknown> {
    const all: Record<string, unknown> = {
      ...issue.fields,
      comment: { comments: issue.comments, maxResults: issue.comments.length, total: issue.comments.length, startAt: 0 },
    };
    const wanted = Array.isArray(fields) ? fields.map(String) : typeof fields === 'string' && fields ? fields.split(',') : ['*all'];
    const chosen = wanted.includes('*all') ? all : Object.fromEntries(Object.entries(all).filter(([k]) => wanted.includes(k)));
    return { expand: '', id: issue.id, self: `${this.server.url}/rest/api/2/issue/${issue.id}`, key: issue.key, fields: chosen };
  }

  private create(req: EmulatedRequest): EmulatedResponse {
    const fields = ((req.body as { fields?: Record<string, unknown> } | undefined)?.fields ?? {}) as Record<string, unknown>;
    const errors: Record<string, string> = {};
    const project = (fields.project as { key?: string } | undefined)?.key;
    if (!project || !this.projects.has(project)) errors.project = 'valid project is required';
    const type = (fields.issuetype as { name?: string } | undefined)?.name;
    if (!type || !ISSUE_TYPES.includes(type)) errors.issuetype = 'valid issue type is required';
    if (typeof fields.summary !== 'string' || !fields.summary.trim()) errors.summary = 'You must specify a summary of the issue.';
    if (Array.isArray(fields.labels) && fields.labels.some((l) => /\s/.test(String(l)))) errors.labels = 'The label can not contain spaces.';
    if (Object.keys(errors).length) return badRequest(errors);
    const issue = this.addIssue(project!, {
      summary: fields.summary as string,
      issuetype: type!,
      ...(typeof fields.description === 'string' ? { description: fields.description } : {}),
      ...(Array.isArray(fields.labels) ? { labels: fields.labels.map(String) } : {}),
    });
    if (Array.isArray(fields.components)) issue.fields.components = fields.components as Array<{ name: string }>;
    if (Array.isArray(fields.fixVersions)) issue.fields.fixVersions = fields.fixVersions as Array<{ name: string }>;
    const assignee = fields.assignee as { name?: string; accountId?: string } | undefined;
    if (assignee) issue.fields.assignee = { name: assignee.name ?? assignee.accountId ?? '', displayName: assignee.name ?? assignee.accountId ?? '' };
    return { status: 201, body: { id: issue.id, key: issue.key, self: `${this.server.url}/rest/api/2/issue/${issue.id}` } };
  }

  private comment(issue: EmulatedIssue, req: EmulatedRequest): EmulatedResponse {
    const body = (req.body as { body?: unknown } | undefined)?.body;
    if (typeof body !== 'string' || !body.trim()) return badRequest({ comment: 'Comment body can not be empty!' });
    const now = this.tick();
    const comment: EmulatedComment = { id: String(this.nextId++), body, author: { name: 'release-bot', displayName: 'Release Bot' }, created: now, updated: now };
    issue.comments.push(comment);
    issue.fields.updated = now;
    return { status: 201, body: { ...comment, self: `${this.server.url}/rest/api/2/issue/${issue.id}/comment/${comment.id}` } };
  }

  /** The transitions valid from the issue's status; with expand=transitions.fields, the fields of each one's screen. */
  private transitionsOf(issue: EmulatedIssue, withFields: boolean): Array<Record<string, unknown>> {
    return WORKFLOW.filter((t) => t.from.includes(issue.fields.status.name)).map((t) => ({
      id: t.id,
      name: t.name,
      to: { name: t.to },
      hasScreen: t.requires.length > 0,
      ...(withFields ? { fields: Object.fromEntries(t.requires.map((f) => [f, resolutionField])) } : {}),
    }));
  }

  /** POST .../transitions: 400 with errorMessages for a transition not valid from the current status, with errors.<field> for fields. */
  private transition(issue: EmulatedIssue, req: EmulatedRequest): EmulatedResponse {
    const body = (req.body ?? {}) as { transition?: { id?: string }; fields?: Record<string, unknown> };
    const id = body.transition?.id;
    const step = WORKFLOW.find((t) => t.id === String(id) && t.from.includes(issue.fields.status.name));
    if (!step) return badRequest({}, [`Transition id '${id}' is not valid for this issue.`]);
    const fields = body.fields ?? {};
    const errors: Record<string, string> = {};
    for (const field of Object.keys(fields)) {
      if (!step.requires.includes(field)) errors[field] = `Field '${field}' cannot be set. It is not on the appropriate screen, or unknown.`;
    }
    let resolution: { id: string; name: string } | null = null;
    if (step.requires.includes('resolution')) {
      const given = fields.resolution as { id?: string; name?: string } | undefined;
      if (!given) errors.resolution = 'Resolution is required.';
      else {
        resolution = RESOLUTIONS.find((r) => r.id === given.id || r.name === given.name) ?? null;
        if (!resolution) errors.resolution = "Could not find valid 'id' or 'name' in resolution object.";
      }
    }
    if (Object.keys(errors).length) return badRequest(errors);
    issue.fields.status = { name: step.to };
    issue.fields.resolution = step.to === 'Done' ? resolution : null;
    issue.fields.updated = this.tick();
    return { status: 204 };
  }

  private select(jql: string): EmulatedIssue[] | EmulatedResponse {
    try {
      const { filter, order } = compileJql(jql);
      return this.issues.filter(filter).sort(order);
    } catch (error) {
      return badRequest({}, [(error as Error).message]);
    }
  }

  private pageSize(value: unknown): number {
    const asked = value === undefined || value === null || value === '' ? 50 : Number(value);
    return Math.max(0, Math.min(Number.isFinite(asked) ? asked : 50, this.maxPageSize));
  }

  private searchByOffset(body: Record<string, unknown>): EmulatedResponse {
    const matches = this.select(String(body.jql ?? ''));
    if (!Array.isArray(matches)) return matches;
    const startAt = Number(body.startAt ?? 0) || 0;
    const maxResults = this.pageSize(body.maxResults);
    const issues = matches.slice(startAt, startAt + maxResults).map((i) => this.render(i, body.fields));
    return { status: 200, body: { expand: 'schema,names', startAt, maxResults, total: matches.length, issues } };
  }

  private searchByToken(body: Record<string, unknown>): EmulatedResponse {
    const matches = this.select(String(body.jql ?? ''));
    if (!Array.isArray(matches)) return matches;
    const token = body.nextPageToken ? String(body.nextPageToken) : undefined;
    const start = token ? Number(Buffer.from(token, 'base64url').toString('utf8').replace(/^offset:/, '')) : 0;
    if (token && !Number.isInteger(start)) return badRequest({}, ['Invalid nextPageToken.']);
    const maxResults = this.pageSize(body.maxResults);
    const end = start + maxResults;
    const issues = matches.slice(start, end).map((i) => this.render(i, body.fields));
    const isLast = end >= matches.length;
    return { status: 200, body: { issues, isLast, ...(isLast ? {} : { nextPageToken: Buffer.from(`offset:${end}`).toString('base64url') }) } };
  }
}
