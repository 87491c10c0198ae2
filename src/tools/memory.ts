import { parseYaml, yamlModule } from '../lazy-yaml.js';
import { z } from 'zod';
import { ToolError } from '../errors.js';
import { FILE_CAPS, readFileSafely } from '../safe-read.js';
import { addSessionLog, appendItem, findKnowledgeFile, findKnownIssues, ItemTooLargeError, learnFix, MAX_LISTS_PER_READ, readLists, recentSessionLog, selectSection } from '../memory/index.js';
import { defineTool } from './registry.js';

const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;
const appendOnly = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false } as const;

const name = (what: string) => z.string().trim().min(1, `expected a non-empty ${what}`).max(200);

const issueMatchSchema = z.object({
  kind: z.enum(['learned_fix', 'known_issue']),
  id: z.number().int(),
  tool: z.string().describe('Tool of a learned fix, topic of a known issue'),
  pattern: z.string(),
  root_cause: z.string(),
  fix: z.string(),
  score: z.number(),
  why: z.array(z.string()).describe('Why this matched'),
  on_error_text: z.boolean().describe('The pattern was found in the error text (not only the tool name or shared words)'),
  taught_by: z.string().optional().describe('Who taught a learned fix (principal subject); absent for known issues from knowledge files'),
  times_matched: z.number().int(),
  times_fixed: z.number().int(),
});

export const memorySessionLog = defineTool({
  name: 'memory_session_log',
  family: 'memory',
  title: 'Log to the session journal',
  description: 'Record an action and its details in the session journal (secrets are masked).',
  input: z.object({
    action: name('action').describe('What happened, e.g. "Created Konflux release"'),
    details: z.string().max(20_000).default('').describe('Free text details'),
  }),
  output: z.object({ id: z.number().int(), ts: z.string(), action: z.string(), details: z.string() }),
  annotations: appendOnly,
  handler: async ({ action, details }, ctx) => {
    const entry = await addSessionLog(ctx.memory, ctx.session.principal, action, details);
    return { id: entry.id, ts: entry.ts, action: entry.action, details: entry.details };
  },
  summarize: (r) => `logged #${r.id}: ${r.action}`,
});

export const memorySessionRead = defineTool({
  name: 'memory_session_read',
  family: 'memory',
  title: 'Read the session journal',
  description: "Your tenant's session journal, newest first. Pass next_before as before to page to older entries.",
  input: z.object({
    limit: z.number().int().min(1).max(200).default(20),
    before: z.number().int().positive().optional().describe('Entries older than this id (next_before of the previous page)'),
  }),
  output: z.object({
    entries: z.array(z.object({ id: z.number().int(), ts: z.string(), action: z.string(), details: z.string(), source: z.string(), actor: z.string() })),
    next_before: z.number().int().optional().describe('Pass as before for the next older page; absent on the oldest page'),
  }),
  annotations: readOnly,
  handler: async ({ limit, before }, ctx) => {
    const rows = await recentSessionLog(ctx.memory, ctx.session.principal.tenant, { limit: limit + 1, ...(before ? { before } : {}) });
    const entries = rows.slice(0, limit);
    return { entries, ...(rows.length > limit ? { next_before: entries.at(-1)!.id } : {}) };
  },
  summarize: (r) => r.entries.map((e) => `#${e.id} ${e.ts} ${e.action}`).join('\n') || 'the journal is empty',
});

export const memoryAppend = defineTool({
  name: 'memory_append',
  family: 'memory',
  title: 'Append to a memory list',
  description: "Append an item (any JSON value) to a named list under a key (e.g. key \"state/releases\", list \"release_history\"); lists are your tenant's own, items at most memory.item_max_bytes.",
  input: z.object({
    key: name('key').describe('Namespace, e.g. state/releases'),
    list: name('list').describe('List name, e.g. release_history'),
    item: z.unknown().refine((v) => v !== undefined, 'required').describe('The item to append: any JSON value'),
  }),
  output: z.object({ key: z.string(), list: z.string(), id: z.number().int(), length: z.number().int() }),
  annotations: appendOnly,
  handler: async ({ key, list, item }, ctx) => {
    const max = ctx.config.memory.item_max_bytes;
    try {
      return { key, list, ...(await appendItem(ctx.memory, ctx.session.principal.tenant, key, list, item, max)) };
    } catch (error) {
      if (!(error instanceof ItemTooLargeError)) throw error;
      throw new ToolError('invalid_input', `item: expected at most ${max} bytes of JSON (memory.item_max_bytes), got ${error.bytes}`, {
        hint: 'store a summary or a reference (URL, file path, id) instead of the whole value; nothing was appended',
      });
    }
  },
  summarize: (r) => `${r.key}/${r.list} now has ${r.length} item(s)`,
});

const listItemSchema = z.object({ id: z.number().int(), item: z.unknown(), created_at: z.string() });

export const memoryRead = defineTool({
  name: 'memory_read',
  family: 'memory',
  title: 'Read memory lists',
  description:
    "Read your tenant's lists under a key (or one list), oldest first, the newest `limit` items of each; page to older items with next_before[list] as before.",
  input: z.object({
    key: name('key'),
    list: name('list').optional(),
    limit: z.number().int().min(1).max(1000).default(100),
    before: z.number().int().positive().optional().describe('Only items older than this id (next_before of the previous page)'),
  }),
  output: z.object({
    key: z.string(),
    lists: z.record(z.string(), z.array(listItemSchema)),
    totals: z.record(z.string(), z.number().int()).describe('Items in each whole list'),
    next_before: z.record(z.string(), z.number().int()).describe('Per list with older items: the value of before for its next page'),
    more_lists: z.boolean().describe(`More than ${MAX_LISTS_PER_READ} lists under the key: name one with list`),
  }),
  annotations: readOnly,
  handler: async ({ key, list, limit, before }, ctx) => {
    const read = await readLists(ctx.memory, ctx.session.principal.tenant, key, { list, limit, before });
    const pages = Object.entries(read.lists);
    return {
      key,
      lists: Object.fromEntries(pages.map(([n, p]) => [n, p.items])),
      totals: Object.fromEntries(pages.map(([n, p]) => [n, p.total])),
      next_before: Object.fromEntries(pages.flatMap(([n, p]) => (p.next_before === undefined ? [] : [[n, p.next_before]]))),
      more_lists: read.more_lists,
    };
  },
  summarize: (r) =>
    [
      `${Object.keys(r.lists).length} list(s) under ${r.key}: ${Object.entries(r.totals).map(([n, t]) => `${n} (${r.lists[n]!.length} of ${t})`).join(', ') || 'none'}`,
      ...Object.entries(r.lists).flatMap(([n, items]) => items.map((i) => `${n} #${i.id} ${i.created_at}: ${JSON.stringify(i.item)}`)),
    ].join('\n'),
});

export const learnToolFix = defineTool({
  name: 'learn_tool_fix',
  family: 'memory',
  title: 'Remember a fix',
  description: "Record what fixed a tool failure, so your tenant's next failure with the same error shows the fix. Upserts by (tool_name, error_pattern).",
  input: z.object({
    tool_name: name('tool name'),
    error_pattern: name('error pattern').describe('Text found in the error (plain text, matched case-insensitively; not a regular expression)'),
    root_cause: z.string().trim().min(1).max(2000),
    fix_description: z.string().trim().min(1).max(4000),
  }),
  output: z.object({ id: z.number().int(), created: z.boolean(), taught_by: z.string(), times_fixed: z.number().int(), times_matched: z.number().int() }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async ({ tool_name, error_pattern, root_cause, fix_description }, ctx) => {
    const { tenant, subject } = ctx.session.principal;
    const { fix, created } = await learnFix(ctx.memory, { tenant, subject }, { tool: tool_name, error_pattern, root_cause, fix: fix_description });
    return { id: fix.id, created, taught_by: fix.taught_by, times_fixed: fix.times_fixed, times_matched: fix.times_matched };
  },
  summarize: (r) => (r.created ? `learned fix #${r.id}` : `updated fix #${r.id} (recorded ${r.times_fixed} times)`),
});

export const checkKnownIssues = defineTool({
  name: 'check_known_issues',
  family: 'memory',
  title: 'Check known issues',
  description: 'Find your tenant\'s learned fixes and the known issues (from the knowledge files) for a tool (or topic such as "quay") and/or an error text, ranked, each with why it matched.',
  input: z
    .object({
      tool_name: z.string().trim().max(200).optional().describe('Tool name or topic'),
      error_text: z.string().max(20_000).optional(),
      limit: z.number().int().min(1).max(50).default(5),
    }),
  output: z.object({ matches: z.array(issueMatchSchema), count: z.number().int() }),
  annotations: readOnly,
  handler: async ({ tool_name, error_text, limit }, ctx) => {
    if (!tool_name && !error_text) {
      throw new ToolError('invalid_input', 'check_known_issues needs tool_name or error_text', { hint: 'give the failing tool name, the error text, or both' });
    }
    const matches = await findKnownIssues(ctx.memory, {
      tenant: ctx.session.principal.tenant,
      ...(tool_name ? { tool: tool_name } : {}),
      ...(error_text ? { error_text } : {}),
      limit,
    });
    return { matches, count: matches.length };
  },
  summarize: (r) =>
    r.count
      ? [`${r.count} match(es), best first:`, ...r.matches.map((m) => `- ${m.kind} #${m.id} (${m.tool}, score ${m.score.toFixed(2)}): ${m.root_cause} Fix: ${m.fix}`)].join('\n')
      : 'no known issues match',
});

export const knowledgeQuery = defineTool({
  name: 'knowledge_query',
  family: 'memory',
  title: 'Query project knowledge',
  description: 'Read project knowledge from YAML files under config knowledge_dirs (<dir>/<project>/<persona>.yaml), optionally one section by dot path (e.g. "gotchas.quay").',
  input: z.object({
    project: name('project').regex(/^[A-Za-z0-9._-]+$/, 'expected a project name (letters, digits, . _ -)'),
    persona: name('persona').regex(/^[A-Za-z0-9._-]+$/, 'expected a persona name (letters, digits, . _ -)'),
    section: z.string().trim().max(200).optional().describe('Dot path inside the file'),
  }),
  output: z.object({ project: z.string(), persona: z.string(), section: z.string().optional(), file: z.string(), content: z.unknown() }),
  annotations: readOnly,
  handler: ({ project, persona, section }, ctx) => {
    // "." and ".." pass the name pattern but would leave the knowledge folder.
    for (const [field, value] of [['project', project], ['persona', persona]] as const) {
      if (/^\.+$/.test(value)) throw new ToolError('invalid_input', `${field}: "${value}" is not a ${field} name`, { hint: `give the ${field} folder or file name under knowledge_dirs` });
    }
    const file = findKnowledgeFile(ctx.config.knowledge_dirs, project, persona);
    if (!file) {
      throw new ToolError('not_found', `no knowledge for project "${project}" and persona "${persona}"`, {
        hint: ctx.config.knowledge_dirs.length ? `add ${project}/${persona}.yaml under one of: ${ctx.config.knowledge_dirs.join(', ')}` : 'set knowledge_dirs in config.json',
      });
    }
    const content = selectSection(parseYaml(readFileSafely(file, { roots: ctx.config.knowledge_dirs, maxBytes: FILE_CAPS.knowledge })), section);
    if (content === undefined) throw new ToolError('not_found', `no section "${section}" in ${file}`);
    return { project, persona, ...(section ? { section } : {}), file, content };
  },
  // The knowledge is what was asked for: the report is its YAML.
  summarize: (r) => `knowledge ${r.project}/${r.persona}${r.section ? ` § ${r.section}` : ''} (${r.file}):\n${yamlModule().stringify(r.content).trimEnd()}`,
});

export const memoryTools = [memorySessionLog, memorySessionRead, memoryAppend, memoryRead, learnToolFix, checkKnownIssues, knowledgeQuery] as const;
