import type { Config, Secrets } from '../config.js';
import { ToolError } from '../errors.js';
import type { MemoryDb } from '../memory/index.js';
import type { Principal } from '../principal.js';
import type { SkillService } from '../tools/skills.js';
import type { ResourceKind } from './kinds.js';

/** What the resource, prompt and completion reads need: one session's view of the runtime. */
export interface ContentDeps {
  config: Config;
  memory: MemoryDb;
  secrets: Secrets;
  /** Masked in every text served, as in tool results. */
  secretValues: readonly string[];
  /** Whose tenant is read. */
  principal: Principal;
  /** Kinds this session sees (its persona and read-only rule). */
  kinds: ReadonlySet<ResourceKind>;
  /** Persona names, for completions. */
  personas: readonly string[];
  skills: SkillService | undefined;
}

/** One answer for every miss (unknown, hidden, another tenant's): nothing tells them apart. */
export function resourceNotFound(uri: string): ToolError {
  return new ToolError('not_found', `resource ${uri} not found`, { details: { uri } });
}
