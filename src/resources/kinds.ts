import { RESOURCE_SCHEME } from './uris.js';

/** What release-mcp serves as MCP resources, and the tools each kind is read through (its visibility). */
export const RESOURCE_KINDS = {
  skills: {
    tools: ['skill_describe', 'skill_list'],
    template: `${RESOURCE_SCHEME}://skills/{name}`,
    mimeType: 'text/yaml',
    title: 'Skill definition',
    description: 'The YAML of a skill, as the engine reads it',
  },
  runs: {
    tools: ['skill_runs', 'skill_run', 'skill_plan'],
    template: `${RESOURCE_SCHEME}://runs/{id}`,
    mimeType: 'application/json',
    title: 'Skill run record',
    description: 'One skill run of your tenant in full: inputs, outputs, every step with its rendered arguments, errors and known-issue matches',
  },
  releases: {
    tools: ['release_get', 'release_list'],
    template: `${RESOURCE_SCHEME}://releases/{id}`,
    mimeType: 'application/json',
    title: 'Release manifest',
    description: 'A release of your tenant: bundle, planned migrations with SQL and rollback SQL, dry-run results, flags, status',
  },
  audit: {
    tools: ['release_events'],
    template: undefined,
    mimeType: 'application/json',
    title: 'Audit trail',
    description: 'Recent audit events of your tenant, newest first',
  },
  knowledge: {
    tools: ['knowledge_query'],
    // {+path}: the path keeps its slashes (project/persona.yaml).
    template: `${RESOURCE_SCHEME}://knowledge/{+path}`,
    mimeType: 'text/yaml',
    title: 'Knowledge file',
    description: 'A project knowledge file of config knowledge_dirs (<project>/<persona>.yaml)',
  },
} as const;

export type ResourceKind = keyof typeof RESOURCE_KINDS;

export const RESOURCE_KIND_NAMES = Object.keys(RESOURCE_KINDS) as ResourceKind[];

/** Most recent runs and releases listed by resources/list; older ones are read by URI. */
export const RECENT_LIMIT = 20;
/** Events in the audit resource. */
export const AUDIT_LIMIT = 100;
/** Entries per resources/list page. */
export const PAGE_SIZE = 50;
