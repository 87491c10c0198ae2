import { randomBytes } from 'node:crypto';
import { publicConfig, type Config } from '../config.js';
import { ToolError, type ToolErrorJSON } from '../errors.js';
import { addRunStep, claimRun, createRun, finishRun, getRun, type MemoryDb, type RunStepRecord } from '../memory/index.js';
import type { AnyToolDefinition, ToolContext } from '../tools/registry.js';
import type { RunResult, StepResult } from '../tools/skills.js';
import { ExpressionSandbox } from './expressions.js';
import { resolveInputs } from './inputs.js';
import type { LoadedSkill } from './loader.js';
import { renderRunReport } from './report.js';
import type { Skill, Step } from './schema.js';
import { rememberFix, runStep, type StepEnv, type StepRun } from './step.js';
import { expressionFailure, renderValue, sandboxEvaluate } from './templates.js';

export interface EngineDeps {
  tools: { get(name: string): AnyToolDefinition | undefined; parseArgs?(name: string, raw: unknown): Record<string, unknown> };
  config: Config;
  memory: MemoryDb;
}

export interface RunOptions {
  loaded: LoadedSkill;
  inputs?: Record<string, unknown>;
  dryRun?: boolean;
  /** Continue a stopped run: its id, and whether a pending confirm step is approved. */
  resume?: { runId: string; approve: boolean };
}

/** Statuses after which the next step runs. */
const GOES_ON = new Set<StepResult['status']>(['succeeded', 'skipped', 'continued', 'healed', 'planned']);
const RESUMABLE = ['failed', 'cancelled', 'awaiting_approval', 'declined'];

function newRunId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

interface RunState {
  id: string;
  round: number;
  skill: Skill;
  dryRun: boolean;
  steps: StepResult[];
  /** `steps.<name>` as expressions see it. */
  scopeSteps: Record<string, { status: string; error?: string }>;
  outputs: Record<string, unknown>;
  /** On a resume: the failure of the step it starts at, remembered as fixed when the step now succeeds. */
  retrying?: { tool: string; error: { code: string; message: string } };
  /** On a resume: the step it starts at asked its confirm question (and is waiting, declined or cancelled). */
  asked?: boolean;
}

/**
 * Run a skill: inputs checked first, then each step in order, `finally` steps at the end,
 * every step recorded in memory as it ends. Stops at the first step that fails (unless it says
 * continue), is declined, waits for approval or is cancelled.
 */
export async function runSkill(deps: EngineDeps, ctx: ToolContext, options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const { skill, file } = options.loaded;
  const sandbox = await ExpressionSandbox.create({ timeoutMs: deps.config.skills.expression_timeout_ms, memoryMb: deps.config.skills.expression_memory_mb });
  try {
    sandbox.set('config', publicConfig(deps.config));
    sandbox.set('today', today());
    sandbox.set('now', new Date().toISOString());
    const state: RunState = { id: '', round: 0, skill, dryRun: options.dryRun || ctx.session.readOnly, steps: [], scopeSteps: {}, outputs: {} };
    let startAt = 0;
    let approved = false;
    if (options.resume) {
      // A read-only server would plan the rest and record the real run as planned: no longer resumable.
      if (ctx.session.readOnly) throw new ToolError('precondition', `run ${options.resume.runId} cannot be resumed on a read-only server`, { hint: 'resume it on a server started without --read-only' });
      startAt = restore(deps.memory, ctx.session.principal.tenant, state, sandbox, options.resume.runId);
      // Only a question the operator was shown can be approved.
      approved = options.resume.approve && skill.steps[startAt]?.confirm !== undefined && state.asked === true;
    } else {
      const inputs = resolveInputs(skill, options.inputs ?? {}, sandboxEvaluate(sandbox));
      state.id = newRunId();
      sandbox.set('inputs', inputs);
      createRun(deps.memory, { id: state.id, tenant: ctx.session.principal.tenant, started_by: ctx.session.principal.subject, skill: skill.name, version: skill.version, file, status: 'running', dry_run: state.dryRun, inputs });
    }
    try {
      return await execute(deps, ctx, state, sandbox, startAt, approved, started);
    } catch (error) {
      // Nothing may leave a run looking as if it were still running.
      finishRun(deps.memory, state.id, { status: 'failed', outputs: {}, error: `the engine failed: ${(error as Error).message}`, duration_ms: performance.now() - started });
      throw error;
    }
  } finally {
    sandbox.dispose();
  }
}

async function execute(deps: EngineDeps, ctx: ToolContext, state: RunState, sandbox: ExpressionSandbox, startAt: number, approved: boolean, started: number): Promise<RunResult> {
  const { skill } = state;
  sandbox.set('steps', state.scopeSteps);

  const env: StepEnv = { sandbox, ctx, tools: deps.tools, config: deps.config, memory: deps.memory, skill: skill.name, dryRun: state.dryRun, planned: new Map(), approved: false };
  const total = skill.steps.length + skill.finally.length;
  let status: RunResult['status'] = state.dryRun ? 'planned' : 'succeeded';
  let failedStep: StepResult | undefined;
  for (let i = startAt; i < skill.steps.length; i++) {
    if (ctx.signal.aborted) {
      status = 'cancelled';
      break;
    }
    env.approved = approved && i === startAt;
    const run = await runStep(skill.steps[i]!, 'main', env);
    record(deps.memory, state, sandbox, skill.steps[i]!, run, env);
    if (i === startAt && state.retrying && (run.result.status === 'succeeded' || run.result.status === 'healed')) {
      rememberFix(env, state.retrying.tool, state.retrying.error as ToolErrorJSON, `resumed run ${state.id}: the step succeeded when run again`);
    }
    await ctx.progress({ progress: i + 1, total, message: `${run.result.name}: ${run.result.status}` }).catch(() => undefined);
    if (!GOES_ON.has(run.result.status)) {
      status = run.result.status === 'failed' ? 'failed' : (run.result.status as RunResult['status']);
      failedStep = run.result;
      break;
    }
  }

  if (status !== 'awaiting_approval') {
    // Finally steps run whatever happened, with a signal of their own: a cancel stops the run, not its cleanup.
    const cleanup = ctx.signal.aborted ? { ...env, ctx: { ...ctx, signal: new AbortController().signal } } : env;
    sandbox.set('run', {
      id: state.id,
      skill: skill.name,
      status,
      failed_step: failedStep?.name,
      failed_tool: failedStep?.tool,
      error: failedStep?.error?.message,
      error_code: failedStep?.error?.code,
      // What fixed the same failure before (learned fixes and known issues), best first.
      fixes: (failedStep?.matches ?? []).map((m) => m.fix),
    });
    for (const [j, step] of skill.finally.entries()) {
      const run = await runStep(step, 'finally', cleanup);
      record(deps.memory, state, sandbox, step, run, cleanup);
      await ctx.progress({ progress: skill.steps.length + j + 1, total, message: `${step.name}: ${run.result.status}` }).catch(() => undefined);
      if (run.result.status === 'failed' && (status === 'succeeded' || status === 'planned')) status = 'failed';
    }
  }

  let outputs = state.outputs;
  let error = failedStep?.error?.message;
  if (skill.outputs && status === 'succeeded') {
    try {
      outputs = renderValue(skill.outputs, sandboxEvaluate(sandbox)) as Record<string, unknown>;
    } catch (problem) {
      status = 'failed';
      error = expressionFailure(problem, 'outputs');
      outputs = {};
    }
  } else if (skill.outputs) {
    outputs = {};
  }
  const duration_ms = Math.round(performance.now() - started);
  finishRun(deps.memory, state.id, { status, outputs, error, duration_ms });
  const result: Omit<RunResult, 'report'> = {
    run_id: state.id,
    skill: skill.name,
    version: skill.version,
    status,
    dry_run: state.dryRun,
    steps: state.steps,
    outputs,
    duration_ms,
    ...(error && status !== 'succeeded' && status !== 'planned' ? { error } : {}),
  };
  return { ...result, report: renderRunReport(result, { error, readOnly: ctx.session.readOnly }) };
}

function record(memory: MemoryDb, state: RunState, sandbox: ExpressionSandbox, step: Step, run: StepRun, env: StepEnv): void {
  const { result } = run;
  // Recorded first: a step that ran stays recorded (and is not run again on a resume) whatever happens next.
  addRunStep(memory, state.id, {
    round: state.round,
    phase: result.phase,
    name: result.name,
    kind: result.kind,
    status: result.status,
    tool: result.tool ?? null,
    args: result.args ?? null,
    attempts: result.attempts,
    duration_ms: result.duration_ms,
    output: run.output?.value,
    output_summary: result.output_summary ?? null,
    error: result.error ?? null,
    matches: result.matches ?? null,
    note: result.note ?? null,
  });
  state.steps.push(result);
  state.scopeSteps[step.name] = { status: result.status, ...(result.error ? { error: result.error.message } : {}) };
  // Only this step's status crosses into the sandbox, not the whole map again.
  sandbox.setEntry('steps', step.name, state.scopeSteps[step.name]);
  if (step.output) {
    if (run.output) {
      state.outputs[step.output] = run.output.value;
      sandbox.set(step.output, run.output.value);
    } else if (result.status === 'planned') {
      env.planned.set(step.output, step.name);
    } else {
      // Skipped or failed-and-continued: the name exists and is null, so `x ? x.y : z` works.
      sandbox.set(step.output, null);
    }
  }
}

/**
 * Load a stopped run for a resume: its inputs, and the outputs of the steps before the one it
 * stopped at. Returns the index of that step.
 */
function restore(memory: MemoryDb, tenant: string, state: RunState, sandbox: ExpressionSandbox, runId: string): number {
  const stored = getRun(memory, tenant, runId);
  if (!stored) throw new ToolError('not_found', `no skill run ${runId}`, { hint: 'skill_runs lists recent runs' });
  const { run, steps } = stored;
  if (run.skill !== state.skill.name) throw new ToolError('conflict', `run ${runId} is a run of ${run.skill}, not ${state.skill.name}`);
  if (run.dry_run) throw new ToolError('precondition', `run ${runId} is a plan (dry run); start a real run instead`);
  if (!RESUMABLE.includes(run.status)) {
    throw new ToolError('precondition', `run ${runId} is ${run.status}; only a failed, cancelled, declined or paused run can be resumed`);
  }
  const latest = new Map<string, RunStepRecord>();
  for (const row of steps) if (row.phase === 'main') latest.set(row.name, row);
  let startAt = state.skill.steps.findIndex((step) => !GOES_ON.has((latest.get(step.name)?.status ?? 'pending') as StepResult['status']));
  if (startAt < 0) startAt = state.skill.steps.length;
  // Steps after the stopping step never ran; when some did, the skill changed and a resume would repeat them.
  const ranAfter = state.skill.steps.slice(startAt + 1).filter((step) => latest.has(step.name)).map((step) => step.name);
  if (ranAfter.length) {
    throw new ToolError('conflict', `run ${runId} cannot be resumed: the skill changed since it ran (step ${state.skill.steps[startAt]!.name} comes before ${ranAfter.join(', ')}, which already ran)`, {
      hint: 'start a new run; steps that change things would run again otherwise',
    });
  }
  state.id = runId;
  state.round = run.resumes + 1;
  sandbox.set('inputs', run.inputs);
  for (const step of state.skill.steps.slice(0, startAt)) {
    const row = latest.get(step.name)!;
    state.scopeSteps[step.name] = { status: row.status, ...(row.error ? { error: row.error.message } : {}) };
    if (step.output && row.output !== undefined) {
      state.outputs[step.output] = row.output;
      sandbox.set(step.output, row.output);
    } else if (step.output) {
      sandbox.set(step.output, null);
    }
    state.steps.push({ ...stepResultOf(row), note: `reused from an earlier attempt${row.note ? `; ${row.note}` : ''}` });
  }
  const stoppedAt = latest.get(state.skill.steps[startAt]?.name ?? '');
  if (stoppedAt?.error && stoppedAt.tool) state.retrying = { tool: stoppedAt.tool, error: stoppedAt.error };
  state.asked = stoppedAt?.kind === 'confirm' && ['awaiting_approval', 'declined', 'cancelled'].includes(stoppedAt.status);
  // Claimed last: a restore that fails leaves the run as it was, still resumable.
  if (!claimRun(memory, tenant, runId, RESUMABLE)) throw new ToolError('conflict', `run ${runId} is being resumed by another call`);
  return startAt;
}

export function stepResultOf(row: RunStepRecord): StepResult {
  return {
    name: row.name,
    phase: row.phase,
    kind: row.kind as StepResult['kind'],
    status: row.status as StepResult['status'],
    ...(row.tool ? { tool: row.tool } : {}),
    ...(row.args ? { args: row.args } : {}),
    duration_ms: row.duration_ms,
    attempts: row.attempts,
    ...(row.error ? { error: row.error } : {}),
    ...(row.matches ? { matches: row.matches as StepResult['matches'] } : {}),
    ...(row.output_summary ? { output_summary: row.output_summary } : {}),
    ...(row.note ? { note: row.note } : {}),
  };
}
