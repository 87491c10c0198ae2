import { z } from 'zod';
import { ERROR_CODES, ToolError, type ErrorCode, type ToolErrorJSON } from '../errors.js';
import { resourceUris } from '../resources/uris.js';
import { defineTool, type ResourceLink, type ToolContext } from './registry.js';

/**
 * The skill tools. The engine lives in src/skills/ (a layer above this one): it implements
 * SkillService and the runtime installs it into ctx.services.skills.
 */

/**
 * A run that failed, was declined or cancelled is a failed call (isError) that still carries the
 * run record; awaiting_approval is not a failure: the run waits for `approve`.
 */
function runFailure(run: z.output<typeof runResultSchema>): ToolErrorJSON | undefined {
  if (run.status !== 'failed' && run.status !== 'declined' && run.status !== 'cancelled') return undefined;
  const failed = [...run.steps].reverse().find((s) => s.status === 'failed' || s.status === 'declined' || s.status === 'cancelled');
  const code = run.status === 'cancelled' ? 'cancelled' : run.status === 'declined' ? 'precondition' : ((failed?.error?.code as ErrorCode | undefined) ?? 'internal');
  const where = failed ? ` at step ${failed.name}` : '';
  // The tool's own hint stays; a known fix (attached only when its pattern is in this error) goes beside it.
  const fix = failed?.matches?.[0]?.fix;
  const hint = [failed?.error?.hint, fix ? `known fix: ${fix}` : undefined].filter(Boolean).join('; ');
  return {
    code: ERROR_CODES.includes(code) ? code : 'internal',
    message: `skill ${run.skill} ${run.status}${where}${failed?.error ? `: ${failed.error.message}` : run.error ? `: ${run.error}` : ''} (run ${run.run_id})`,
    ...(hint ? { hint } : {}),
    details: { run_id: run.run_id, step: failed?.name },
  };
}

/** The run's full record (every step, its arguments, outputs and matches), read as the run resource. */
function runLink(run: Pick<z.output<typeof runResultSchema>, 'run_id' | 'skill' | 'status' | 'dry_run' | 'steps'>): ResourceLink[] {
  return [
    {
      uri: resourceUris.run(run.run_id),
      name: run.run_id,
      mimeType: 'application/json',
      description: `Full record of the ${run.dry_run ? 'plan' : 'run'} of ${run.skill} (${run.status}, ${run.steps.length} steps)`,
    },
  ];
}

export const STEP_STATUSES = ['succeeded', 'failed', 'skipped', 'planned', 'continued', 'healed', 'awaiting_approval', 'declined', 'cancelled'] as const;
export const RUN_STATUSES = ['succeeded', 'failed', 'awaiting_approval', 'declined', 'cancelled', 'planned'] as const;

const stepErrorSchema = z.object({ code: z.string(), message: z.string(), hint: z.string().optional() });

const issueMatchSchema = z.object({
  kind: z.enum(['learned_fix', 'known_issue']),
  id: z.number().int(),
  tool: z.string(),
  pattern: z.string(),
  root_cause: z.string(),
  fix: z.string(),
  score: z.number(),
});

export const stepResultSchema = z.object({
  name: z.string(),
  phase: z.enum(['main', 'finally']),
  kind: z.enum(['tool', 'compute', 'assert', 'confirm', 'note']),
  status: z.enum(STEP_STATUSES),
  tool: z.string().optional(),
  args: z.record(z.string(), z.unknown()).optional().describe('Rendered arguments (secrets masked)'),
  duration_ms: z.number(),
  attempts: z.number().int(),
  error: stepErrorSchema.optional(),
  matches: z.array(issueMatchSchema).optional().describe('Learned fixes and known issues for this failure'),
  output_summary: z.string().optional(),
  note: z.string().optional(),
});

export const runResultSchema = z.object({
  run_id: z.string(),
  skill: z.string(),
  version: z.string(),
  status: z.enum(RUN_STATUSES),
  dry_run: z.boolean(),
  steps: z.array(stepResultSchema),
  outputs: z.record(z.string(), z.unknown()),
  duration_ms: z.number(),
  error: z.string().optional().describe('Why the run failed, when it failed (also when no single step is to blame, e.g. its outputs)'),
  report: z.string().describe('The run as readable markdown'),
});

const inputSummarySchema = z.object({
  name: z.string(),
  type: z.string(),
  required: z.boolean(),
  default: z.unknown().optional(),
  description: z.string(),
  enum: z.array(z.unknown()).optional(),
  pattern: z.string().optional(),
});

export const skillSummarySchema = z.object({ name: z.string(), description: z.string(), version: z.string(), inputs: z.array(z.string()), steps: z.number().int(), file: z.string() });

export const skillDescriptionSchema = z.object({
  name: z.string(),
  description: z.string(),
  version: z.string(),
  file: z.string(),
  persona: z.string().optional(),
  inputs: z.array(inputSummarySchema),
  steps: z.array(z.object({ name: z.string(), phase: z.enum(['main', 'finally']), kind: z.string(), tool: z.string().optional(), description: z.string().optional(), condition: z.string().optional(), on_error: z.string(), read_only: z.boolean().optional() })),
  tools: z.array(z.string()).describe('Tools the skill calls'),
  outputs: z.array(z.string()),
});

export const lintFindingSchema = z.object({ skill: z.string(), file: z.string(), path: z.string(), message: z.string() });
export const lintReportSchema = z.object({ ok: z.boolean(), skills: z.array(z.string()), findings: z.array(lintFindingSchema) });

export const runSummarySchema = z.object({
  run_id: z.string(),
  skill: z.string(),
  version: z.string(),
  status: z.string(),
  dry_run: z.boolean(),
  started_at: z.string(),
  updated_at: z.string(),
  duration_ms: z.number(),
  resumes: z.number().int(),
  started_by: z.string().describe('Who started the run (OS user, or token:<ENV VAR>); empty for runs recorded before tenants'),
  error: z.string().optional(),
});

export const runsResultSchema = z.object({
  runs: z.array(runSummarySchema),
  run: z
    .object({ summary: runSummarySchema, inputs: z.record(z.string(), z.unknown()), outputs: z.record(z.string(), z.unknown()), steps: z.array(stepResultSchema.extend({ round: z.number().int(), ts: z.string() })) })
    .optional()
    .describe('One run in full, when run_id was given'),
});

export type StepResult = z.infer<typeof stepResultSchema>;
export type RunResult = z.infer<typeof runResultSchema>;
export type SkillSummary = z.infer<typeof skillSummarySchema>;
export type SkillDescription = z.infer<typeof skillDescriptionSchema>;
export type LintFinding = z.infer<typeof lintFindingSchema>;
export type LintReport = z.infer<typeof lintReportSchema>;
export type RunsResult = z.infer<typeof runsResultSchema>;
export type RunSummary = z.infer<typeof runSummarySchema>;

export interface SkillRunRequest {
  name?: string | undefined;
  /** A skill file to run instead of a named skill (CLI `--file`). */
  file?: string | undefined;
  inputs?: Record<string, unknown> | undefined;
  dry_run?: boolean | undefined;
  resume?: string | undefined;
  approve?: boolean | undefined;
  /** With resume: what to do with a change that was started when the run's process died. */
  interrupted?: 'rerun' | 'skip' | undefined;
}

/** What the skill tools need from the engine. */
export interface SkillService {
  list(): Promise<SkillSummary[]>;
  describe(name: string): Promise<SkillDescription>;
  /** `anyFile`: the local user (CLI) may lint a file outside the skill folders. */
  lint(target?: string, options?: { anyFile?: boolean }): Promise<LintReport>;
  run(request: SkillRunRequest, ctx: ToolContext): Promise<RunResult>;
  /** Runs of one tenant: another tenant's run id is not found. */
  runs(query: { run_id?: string | undefined; skill?: string | undefined; limit?: number | undefined }, tenant: string): Promise<RunsResult>;
  /** End a stopped or interrupted run of this tenant for good; it can no longer be resumed. */
  abandon(runId: string, tenant: string, reason?: string): Promise<RunSummary>;
}

declare module './registry.js' {
  interface ServiceMap {
    skills?: SkillService;
  }
}

function service(ctx: ToolContext): SkillService {
  const skills = ctx.services.skills;
  if (!skills) throw new ToolError('config', 'the skill engine is not installed in this server', { hint: 'start release-mcp through its CLI (release-mcp serve), which installs the skill engine' });
  return skills;
}

const skillName = z.string().trim().min(1).max(200).describe('Skill name, see skill_list');
const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

export const skillRun = defineTool({
  name: 'skill_run',
  family: 'skills',
  title: 'Run a skill',
  description:
    'Run a skill (a YAML procedure of tool steps) step by step; dry_run plans it. Continue a failed, paused or interrupted run with resume (its run id); approve: true approves a pending confirm step.',
  input: z.object({
    name: skillName.optional().describe('Skill to run (not needed with resume)'),
    inputs: z.record(z.string(), z.unknown()).default({}).describe('Input values by name, see skill_describe'),
    dry_run: z.boolean().default(false).describe('Plan only: run read-only steps, show what the others would do'),
    resume: z.string().trim().min(1).optional().describe('Run id of a failed, cancelled, paused or interrupted run to continue from its stopping step'),
    approve: z.boolean().default(false).describe('With resume: approve the confirm step the run is waiting on'),
    interrupted: z
      .enum(['rerun', 'skip'])
      .optional()
      .describe('With resume: a change that was started when the run\'s process died (it may have happened): rerun it, or skip it because it happened'),
  }),
  output: runResultSchema,
  // Runs arbitrary tools, so it may change things outside; each step is checked on its own.
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  handler: (args, ctx) => {
    if (!args.name && !args.resume) throw new ToolError('invalid_input', 'skill_run needs a skill name or a run id to resume', { hint: 'call skill_list for names, skill_runs for run ids' });
    return service(ctx).run(args, ctx);
  },
  reportField: 'report',
  failureOf: runFailure,
  links: runLink,
});

export const skillPlan = defineTool({
  name: 'skill_plan',
  family: 'skills',
  title: 'Plan a skill',
  description:
    'Dry-run a skill: read-only steps run for real, mutating steps show their rendered arguments without running. Works on a read-only server.',
  input: z.object({
    name: skillName,
    inputs: z.record(z.string(), z.unknown()).default({}).describe('Input values by name, see skill_describe'),
  }),
  output: runResultSchema,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: ({ name, inputs }, ctx) => service(ctx).run({ name, inputs, dry_run: true }, ctx),
  reportField: 'report',
  failureOf: runFailure,
  links: runLink,
});

export const skillList = defineTool({
  name: 'skill_list',
  family: 'skills',
  title: 'List skills',
  description: 'List the skills (builtin and from config skills_dirs) with their inputs.',
  input: z.object({}),
  output: z.object({ skills: z.array(skillSummarySchema) }),
  annotations: readOnly,
  handler: async (_args, ctx) => ({ skills: await service(ctx).list() }),
  summarize: (r) => r.skills.map((s) => `${s.name} (${s.inputs.join(', ') || 'no inputs'}): ${s.description.split('\n')[0]}`).join('\n') || 'no skills',
});

export const skillDescribe = defineTool({
  name: 'skill_describe',
  family: 'skills',
  title: 'Describe a skill',
  description: 'Show a skill: its inputs (types, defaults, rules), its steps and the tools it calls.',
  input: z.object({ name: skillName }),
  output: skillDescriptionSchema,
  annotations: readOnly,
  handler: ({ name }, ctx) => service(ctx).describe(name),
  summarize: (r) =>
    [
      `${r.name} v${r.version}: ${r.steps.length} steps, tools ${r.tools.join(', ') || 'none'}`,
      ...r.inputs.map((i) => `input ${i.name} (${i.type}${i.required ? ', required' : ''}${i.default !== undefined ? `, default ${JSON.stringify(i.default)}` : ''}): ${i.description}`),
    ].join('\n'),
});

export const skillLint = defineTool({
  name: 'skill_lint',
  family: 'skills',
  title: 'Lint skills',
  description: 'Check skills against the schema and the tools they call: unknown tools, argument names, missing required arguments, outputs used before they exist, expressions that do not parse.',
  input: z.object({ target: z.string().trim().min(1).optional().describe('Skill name or skill file path; all skills when absent') }),
  output: lintReportSchema,
  annotations: readOnly,
  handler: ({ target }, ctx) => service(ctx).lint(target),
  summarize: (r) => (r.ok ? `${r.skills.length} skill(s) pass lint` : `${r.findings.length} finding(s):\n${r.findings.map((f) => `${f.skill} ${f.path}: ${f.message}`).join('\n')}`),
});

export const skillRuns = defineTool({
  name: 'skill_runs',
  family: 'skills',
  title: 'Skill run history',
  description: "Your tenant's recent skill runs (newest first), or one run in full with every step, its rendered arguments, errors and known-issue matches.",
  input: z.object({
    run_id: z.string().trim().min(1).optional(),
    skill: z.string().trim().min(1).optional().describe('Only runs of this skill'),
    limit: z.number().int().min(1).max(200).default(20),
  }),
  output: runsResultSchema,
  annotations: readOnly,
  handler: (args, ctx) => service(ctx).runs(args, ctx.session.principal.tenant),
  summarize: (r) =>
    r.run
      ? [
          `run ${r.run.summary.run_id} of ${r.run.summary.skill}: ${r.run.summary.status}, ${r.run.steps.length} step record(s)${r.run.summary.error ? `; ${r.run.summary.error}` : ''}`,
          ...r.run.steps.map((s) => `${s.round}. ${s.name}: ${s.status}${s.error ? ` [${s.error.code}] ${s.error.message}` : ''}`),
        ].join('\n')
      : [`${r.runs.length} run(s)`, ...r.runs.map((x) => `${x.run_id} ${x.skill} ${x.status}${x.dry_run ? ' (dry run)' : ''} ${x.started_at}${x.error ? `: ${x.error}` : ''}`)].join('\n'),
});

export const skillAbandon = defineTool({
  name: 'skill_abandon',
  family: 'skills',
  title: 'Abandon a skill run',
  description: 'End a failed, paused, cancelled, declined or interrupted skill run for good: it can no longer be resumed. A run that is still running is refused.',
  input: z.object({
    run_id: z.string().trim().min(1).describe('Run to end, see skill_runs'),
    reason: z.string().trim().max(500).optional().describe('Why, kept on the run'),
  }),
  output: runSummarySchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  handler: ({ run_id, reason }, ctx) => service(ctx).abandon(run_id, ctx.session.principal.tenant, reason),
  summarize: (r) => `run ${r.run_id} (${r.skill}) ${r.status}`,
});

export const skillTools = [skillRun, skillPlan, skillList, skillDescribe, skillLint, skillRuns, skillAbandon] as const;
