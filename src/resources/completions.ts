import { ToolError } from '../errors.js';
import type { InputSpec } from '../skills/schema.js';
import { shortEcho } from '../validation.js';
import type { ContentDeps } from './deps.js';
import { knowledgeFiles } from './knowledge-files.js';
import { RESOURCE_KIND_NAMES, RESOURCE_KINDS, type ResourceKind } from './kinds.js';
import { promptSkill } from './prompts.js';
import { releaseIds, runIds } from './records.js';
import { skillLibrary } from './skill-files.js';

/** Most values in one completion answer (the MCP limit). */
export const COMPLETION_MAX = 100;

export type CompletionRef = { type: 'ref/prompt'; name: string } | { type: 'ref/resource'; uri: string };

// A type, not an interface: it must fit the SDK result type, whose index signature an interface lacks.
export type Completion = {
  values: string[];
  total: number;
  hasMore: boolean;
};

/** Values that start with `prefix`, at most COMPLETION_MAX, with the full count. */
export function prefixMatches(candidates: readonly string[], prefix: string): Completion {
  const matches = [...new Set(candidates)].filter((c) => c.startsWith(prefix));
  return { values: matches.slice(0, COMPLETION_MAX), total: matches.length, hasMore: matches.length > COMPLETION_MAX };
}

/** Environments of config a tenant can release to: its own database there, or the default tenant's. */
export function tenantEnvironments(config: ContentDeps['config'], tenant: string): string[] {
  return config.environments.filter((env) => tenant in env.databases || tenant === config.releases.default_tenant).map((env) => env.name);
}

type Source = (deps: ContentDeps) => Promise<string[]> | string[];

const SOURCES = {
  skills: (deps) => [...skillLibrary(deps.config).keys()].sort(),
  personas: (deps) => [...deps.personas],
  environments: (deps) => tenantEnvironments(deps.config, deps.principal.tenant),
  releases: releaseIds,
  runs: runIds,
  knowledge: (deps) => knowledgeFiles(deps.config).map((k) => k.path),
} satisfies Record<string, Source>;

/** Skill inputs completed by what their name says they hold. */
const INPUT_SOURCES: Record<string, keyof typeof SOURCES> = {
  environment: 'environments',
  env: 'environments',
  from_env: 'environments',
  to_env: 'environments',
  target_env: 'environments',
  release_id: 'releases',
  run_id: 'runs',
  persona: 'personas',
  skill: 'skills',
  skill_name: 'skills',
};

/** Template variables of the resource kinds. */
const TEMPLATE_SOURCES: Partial<Record<ResourceKind, keyof typeof SOURCES>> = { skills: 'skills', runs: 'runs', releases: 'releases', knowledge: 'knowledge' };

function inputCandidates(deps: ContentDeps, spec: InputSpec, name: string): Promise<string[]> | string[] {
  if (spec.enum) return spec.enum.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  if (spec.type === 'boolean') return ['true', 'false'];
  const source = INPUT_SOURCES[name];
  return source ? SOURCES[source](deps) : [];
}

/**
 * completion/complete: a skill prompt's argument (by the input's enum, type or name) or a resource
 * template's variable. An unknown prompt, template or argument is an invalid_input naming it.
 */
export async function complete(deps: ContentDeps, ref: CompletionRef, argument: { name: string; value: string }): Promise<Completion> {
  if (ref.type === 'ref/prompt') {
    const skill = promptSkill(deps, ref.name);
    const spec = skill.inputs[argument.name];
    if (!spec) throw new ToolError('invalid_input', `argument.name: prompt ${skill.name} has no argument "${shortEcho(argument.name, 40)}" (arguments: ${Object.keys(skill.inputs).join(', ') || 'none'})`);
    return prefixMatches(await inputCandidates(deps, spec, argument.name), argument.value);
  }
  const kind = RESOURCE_KIND_NAMES.find((k) => RESOURCE_KINDS[k].template === ref.uri && deps.kinds.has(k));
  const source = kind && TEMPLATE_SOURCES[kind];
  if (!kind || !source) throw new ToolError('invalid_input', `ref.uri: no resource template "${shortEcho(ref.uri)}"`);
  const variable = /\{\+?(\w+)\}/.exec(RESOURCE_KINDS[kind].template!)![1]!;
  if (argument.name !== variable) throw new ToolError('invalid_input', `argument.name: template ${ref.uri} has the variable "${variable}", not "${shortEcho(argument.name, 40)}"`);
  return prefixMatches(await SOURCES[source](deps), argument.value);
}
