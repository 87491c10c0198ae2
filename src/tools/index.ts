import { appinterfaceTools } from './appinterface.js';
import { gitTools } from './git.js';
import { gitlabTools } from './gitlab.js';
import { httpTools } from './http.js';
import { jiraTools } from './jira.js';
import { konfluxTools } from './konflux.js';
import { memoryTools } from './memory.js';
import { metaTools } from './meta.js';
import { notifyTools } from './notify.js';
import { prometheusTools } from './prometheus.js';
import { quayTools } from './quay.js';
import type { AnyToolDefinition } from './registry.js';
import { releaseTools } from './releases.js';
import { skillTools } from './skills.js';

/** Every tool of release-mcp, one flat list; personas and read-only mode filter it. */
export const ALL_TOOLS: readonly AnyToolDefinition[] = [
  ...metaTools,
  ...memoryTools,
  ...skillTools,
  ...gitTools,
  ...appinterfaceTools,
  ...gitlabTools,
  ...jiraTools,
  ...notifyTools,
  ...quayTools,
  ...konfluxTools,
  ...prometheusTools,
  ...releaseTools,
  ...httpTools,
];

export * from './registry.js';
export type { LintReport, RunResult, RunsResult, SkillDescription, SkillRunRequest, SkillService, SkillSummary, StepResult } from './skills.js';
