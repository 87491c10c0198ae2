import { memoryTools } from './memory.js';
import { metaTools } from './meta.js';
import { skillTools } from './skills.js';
import type { AnyToolDefinition } from './registry.js';

/** Every tool of release-mcp, one flat list; personas and read-only mode filter it. */
export const ALL_TOOLS: readonly AnyToolDefinition[] = [...metaTools, ...memoryTools, ...skillTools];

export * from './registry.js';
export type { LintReport, RunResult, RunsResult, SkillDescription, SkillRunRequest, SkillService, SkillSummary, StepResult } from './skills.js';
