import { z } from 'zod';
import { ToolError } from '../errors.js';
import { createJiraClient, jiraSettings, type JiraClient, type JiraIssue, type Transition } from '../integrations/jira.js';
import { markdownToJira } from '../integrations/jira-markup.js';
import { defineTool, type ToolContext } from './registry.js';
import { httpsTrust } from './trust.js';

const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true } as const;
const writes = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true } as const;

/** The Jira client, built on first use; a missing URL or token fails here, at call time. */
function jira(ctx: ToolContext): Promise<JiraClient> {
  const settings = jiraSettings(ctx.config, ctx.secrets);
  const trust = httpsTrust(ctx);
  return ctx.clients.get('jira', () => createJiraClient(settings, trust.httpsAgent));
}

export const ISSUE_KEY = /^[A-Z][A-Z0-9]+-\d+$/;
const issueKey = z
  .string()
  .trim()
  .regex(ISSUE_KEY, 'expected an issue key like AAP-1234')
  .describe('Issue key, e.g. AAP-1234');

type Fields = Record<string, unknown>;
const name = (value: unknown): string | null => {
  if (!value || typeof value !== 'object') return null;
  const v = value as { name?: unknown; displayName?: unknown; value?: unknown };
  const text = v.displayName ?? v.name ?? v.value;
  return typeof text === 'string' ? text : null;
};
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

const issueSummarySchema = z.object({
  key: z.string(),
  url: z.string(),
  summary: z.string(),
  status: z.string().nullable(),
  labels: z.array(z.string()),
  assignee: z.string().nullable(),
  created: z.string().nullable(),
});

function summarizeIssue(client: JiraClient, issue: JiraIssue) {
  const f: Fields = issue.fields ?? {};
  return {
    key: issue.key,
    url: client.browseUrl(issue.key),
    summary: text(f.summary) ?? '',
    status: name(f.status),
    labels: strings(f.labels),
    assignee: name(f.assignee),
    created: text(f.created),
  };
}

export const jiraCreateIssue = defineTool({
  name: 'jira_create_issue',
  family: 'jira',
  title: 'Create a Jira issue',
  description: 'Create an issue; the Markdown description is converted to Jira wiki markup. Returns the key and browse URL. To avoid duplicates, look for an existing issue with jira_search first.',
  input: z.object({
    project: z.string().trim().min(1).optional().describe('Project key; default jira.project from config'),
    issue_type: z.string().trim().min(1).optional().describe('Story, Task, Bug, ...; default jira.default_issue_type'),
    summary: z.string().trim().min(1).max(255),
    description: z.string().max(30_000).optional().describe('Markdown'),
    labels: z.array(z.string().trim().regex(/^\S+$/, 'labels cannot contain spaces')).default([]),
    components: z.array(z.string().trim().min(1)).default([]),
    fix_version: z.string().trim().min(1).optional().describe('Fix version name'),
    assignee: z.string().trim().min(1).optional().describe('Username (Server/DC) or account id (Cloud)'),
  }),
  output: z.object({ key: z.string(), id: z.string(), url: z.string() }),
  annotations: writes,
  handler: async (args, ctx) => {
    const client = await jira(ctx);
    const fields: Fields = {
      project: { key: args.project ?? ctx.config.jira.project },
      issuetype: { name: args.issue_type ?? ctx.config.jira.default_issue_type },
      summary: args.summary,
      ...(args.description ? { description: markdownToJira(args.description) } : {}),
      ...(args.labels.length ? { labels: args.labels } : {}),
      ...(args.components.length ? { components: args.components.map((c) => ({ name: c })) } : {}),
      ...(args.fix_version ? { fixVersions: [{ name: args.fix_version }] } : {}),
      ...(args.assignee ? { assignee: client.settings.flavor === 'cloud' ? { accountId: args.assignee } : { name: args.assignee } } : {}),
    };
    const created = await client.createIssue(fields);
    return { key: created.key, id: String(created.id), url: client.browseUrl(created.key) };
  },
  summarize: (r) => `created ${r.key}: ${r.url}`,
});

export const jiraAddComment = defineTool({
  name: 'jira_add_comment',
  family: 'jira',
  title: 'Comment on a Jira issue',
  description: 'Add a comment (Markdown, converted to Jira wiki markup) to an issue.',
  input: z.object({ issue_key: issueKey, comment: z.string().trim().min(1).max(30_000).describe('Markdown') }),
  output: z.object({ issue_key: z.string(), id: z.string(), url: z.string(), created: z.string().nullable() }),
  annotations: writes,
  handler: async ({ issue_key: key, comment }, ctx) => {
    const client = await jira(ctx);
    const added = await client.addComment(key, markdownToJira(comment));
    return { issue_key: key, id: String(added.id), url: `${client.browseUrl(key)}?focusedCommentId=${added.id}`, created: added.created ?? null };
  },
  summarize: (r) => `commented on ${r.issue_key}`,
});

const GET_FIELDS = ['summary', 'status', 'assignee', 'reporter', 'labels', 'issuetype', 'fixVersions', 'components', 'issuelinks', 'comment', 'created', 'updated', 'description'];

interface IssueLink {
  type?: { name?: string; inward?: string; outward?: string };
  inwardIssue?: JiraIssue;
  outwardIssue?: JiraIssue;
}

export const jiraGetIssue = defineTool({
  name: 'jira_get_issue',
  family: 'jira',
  title: 'Show a Jira issue',
  description: 'Summary, status, assignee, labels, links and the last comments of an issue.',
  input: z.object({ issue_key: issueKey, comments: z.number().int().min(0).max(50).default(5).describe('How many of the latest comments to include') }),
  output: issueSummarySchema.extend({
    issue_type: z.string().nullable(),
    reporter: z.string().nullable(),
    fix_versions: z.array(z.string()),
    components: z.array(z.string()),
    description: z.string().nullable(),
    updated: z.string().nullable(),
    links: z.array(z.object({ relation: z.string(), key: z.string(), summary: z.string().nullable(), status: z.string().nullable() })),
    comments: z.array(z.object({ id: z.string(), author: z.string().nullable(), created: z.string().nullable(), body: z.string() })),
    comment_total: z.number().int(),
  }),
  annotations: readOnly,
  handler: async ({ issue_key: key, comments: lastN }, ctx) => {
    const client = await jira(ctx);
    const issue = await client.getIssue(key, GET_FIELDS);
    const f: Fields = issue.fields ?? {};
    const links = (Array.isArray(f.issuelinks) ? (f.issuelinks as IssueLink[]) : []).flatMap((link) => {
      const other = link.outwardIssue ?? link.inwardIssue;
      if (!other) return [];
      const relation = (link.outwardIssue ? link.type?.outward : link.type?.inward) ?? link.type?.name ?? 'relates to';
      return [{ relation, key: other.key, summary: text(other.fields?.summary), status: name(other.fields?.status) }];
    });
    const comment = (f.comment ?? {}) as { comments?: Array<{ id: string; author?: unknown; created?: string; body?: unknown }>; total?: number };
    const all = comment.comments ?? [];
    return {
      ...summarizeIssue(client, issue),
      issue_type: name(f.issuetype),
      reporter: name(f.reporter),
      fix_versions: (Array.isArray(f.fixVersions) ? f.fixVersions : []).map(name).filter((v): v is string => !!v),
      components: (Array.isArray(f.components) ? f.components : []).map(name).filter((v): v is string => !!v),
      description: text(f.description),
      updated: text(f.updated),
      links,
      comments: (lastN === 0 ? [] : all.slice(-lastN)).map((c) => ({ id: String(c.id), author: name(c.author), created: c.created ?? null, body: typeof c.body === 'string' ? c.body : JSON.stringify(c.body ?? '') })),
      comment_total: comment.total ?? all.length,
    };
  },
  summarize: (r) => `${r.key} [${r.status ?? 'no status'}] ${r.summary}`,
});

export const jiraSearch = defineTool({
  name: 'jira_search',
  family: 'jira',
  title: 'Search Jira with JQL',
  description:
    'Issues matching a JQL query, up to `limit` (key, summary, status, labels, assignee, created; `fields` adds raw fields). Pass next_cursor back as cursor to continue.',
  input: z.object({
    jql: z.string().trim().min(1).max(5000).describe('e.g. project = AAP AND labels = release AND summary ~ "Service Release" ORDER BY created DESC'),
    fields: z.array(z.string().trim().min(1)).default([]).describe('Extra fields to return raw under `fields`'),
    limit: z.number().int().min(1).max(500).default(50),
    cursor: z.string().trim().min(1).optional().describe('next_cursor of an earlier call'),
  }),
  output: z.object({
    count: z.number().int(),
    total: z.number().int().nullable().describe('Total matches when Jira reports it (Server/DC)'),
    next_cursor: z.string().nullable().describe('Pass as cursor to get the next results; null when there are no more'),
    issues: z.array(issueSummarySchema.extend({ fields: z.record(z.string(), z.unknown()).optional() })),
  }),
  annotations: readOnly,
  handler: async ({ jql, fields: extra, limit, cursor }, ctx) => {
    const client = await jira(ctx);
    const base = ['summary', 'status', 'labels', 'assignee', 'created'];
    const result = await client.search(jql, [...new Set([...base, ...extra])], limit, cursor);
    const issues = result.issues.map((issue) => ({
      ...summarizeIssue(client, issue),
      ...(extra.length ? { fields: Object.fromEntries(extra.map((f) => [f, issue.fields?.[f] ?? null])) } : {}),
    }));
    return { count: issues.length, total: result.total ?? null, next_cursor: result.next ?? null, issues };
  },
  summarize: (r) =>
    [`${r.count}${r.total !== null ? ` of ${r.total}` : ''} issue(s)${r.next_cursor ? ` (more: cursor ${r.next_cursor})` : ''}`, ...r.issues.map((i) => `${i.key} [${i.status ?? 'no status'}] ${i.summary}${i.assignee ? ` (${i.assignee})` : ''}`)].join('\n'),
});

/** Required fields of a transition's screen that the call does not set (and Jira has no default for). */
function missingRequiredFields(transition: Transition, fields: Record<string, unknown>): Array<{ field: string; name: string; allowed: string[] }> {
  return Object.entries(transition.fields ?? {})
    .filter(([field, spec]) => spec.required && !spec.hasDefaultValue && !(field in fields))
    .map(([field, spec]) => ({ field, name: spec.name ?? field, allowed: (spec.allowedValues ?? []).map((v) => v.name ?? v.value ?? v.id ?? '').filter(Boolean) }));
}

export const jiraTransitionIssue = defineTool({
  name: 'jira_transition_issue',
  family: 'jira',
  title: 'Move a Jira issue through its workflow',
  description:
    'Apply a workflow transition by name, target status or id; when none matches, the error lists the valid ones. `fields` (or `resolution`) sets fields of the transition screen; a missing required field is refused first.',
  input: z.object({
    issue_key: issueKey,
    transition: z.string().trim().min(1).describe('Transition name (e.g. "Start Progress", "Done"), target status or id'),
    resolution: z.string().trim().min(1).optional().describe('Resolution name, e.g. "Done" or "Won\'t Do" (same as fields.resolution.name)'),
    fields: z
      .record(z.string().min(1), z.unknown())
      .default({})
      .describe('Fields of the transition screen, in Jira REST form, e.g. { "resolution": { "name": "Done" } }'),
  }),
  output: z.object({
    issue_key: z.string(),
    transition: z.object({ id: z.string(), name: z.string() }),
    status: z.string().nullable().describe('Status after the transition'),
    resolution: z.string().nullable().describe('Resolution after the transition'),
    url: z.string(),
  }),
  annotations: writes,
  handler: async ({ issue_key: key, transition: wanted, resolution, fields: given }, ctx) => {
    if (resolution !== undefined && 'resolution' in given) {
      throw new ToolError('invalid_input', 'give resolution or fields.resolution, not both', { hint: 'resolution: "Done" is the same as fields: { resolution: { name: "Done" } }' });
    }
    const fields = resolution !== undefined ? { ...given, resolution: { name: resolution } } : given;
    const client = await jira(ctx);
    const available = await client.transitions(key);
    const lower = wanted.toLowerCase();
    const match = available.find((t) => t.id === wanted) ?? available.find((t) => t.name.toLowerCase() === lower) ?? available.find((t) => t.to?.name?.toLowerCase() === lower);
    if (!match) {
      const valid = available.map((t) => `${t.name} (${t.id})`);
      throw new ToolError('invalid_input', `"${wanted}" is not a transition available on ${key} from its current status; valid: ${valid.join(', ') || 'none'}`, {
        hint: 'call again with one of the listed names or ids',
        details: { transitions: available.map((t) => ({ id: t.id, name: t.name, to: t.to?.name ?? null })) },
      });
    }
    const missing = missingRequiredFields(match, fields);
    if (missing.length) {
      throw new ToolError('invalid_input', `transition "${match.name}" of ${key} requires ${missing.map((m) => `fields.${m.field} (${m.name})`).join(', ')}`, {
        hint: missing.map((m) => (m.allowed.length ? `${m.field}: one of ${m.allowed.join(', ')}` : `set ${m.field}`)).join('; ') + (missing.some((m) => m.field === 'resolution') ? ', e.g. resolution: "Done"' : ''),
        details: { missing },
      });
    }
    await client.doTransition(key, match.id, fields);
    const after = await client.getIssue(key, ['status', 'resolution']);
    return { issue_key: key, transition: { id: match.id, name: match.name }, status: name(after.fields?.status), resolution: name(after.fields?.resolution), url: client.browseUrl(key) };
  },
  summarize: (r) => `${r.issue_key} → ${r.status ?? r.transition.name}${r.resolution ? ` (${r.resolution})` : ''}`,
});

export const jiraTools = [jiraCreateIssue, jiraAddComment, jiraGetIssue, jiraSearch, jiraTransitionIssue] as const;
