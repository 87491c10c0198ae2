import { randomBytes } from 'node:crypto';
import { publicConfig, type Config } from '../config.js';
import { ToolError, type ToolErrorJSON } from '../errors.js';
import {
  addRunStep,
  childRun,
  claimRun,
  createRun,
  effectiveStatus,
  finishRun,
  finishStepCalls,
  getRun,
  markOwnerLive,
  newOwner,
  openStepCall,
  renewLease,
  startStepCall,
  type MemoryDb,
  type RunRecord,
  type RunStepRecord,
  type StepCall,
} from '../memory/index.js';
import type { ToolContext, ToolOutcome } from '../tools/registry.js';
import type { RunResult, StepResult } from '../tools/skills.js';
import { ExpressionSandbox } from './expressions.js';
import { resolveInputs } from './inputs.js';
import type { LoadedSkill } from './loader.js';
import { renderRunReport } from './report.js';
import { innerEnded, RESUMABLE, stepResultOf, stoppedStatus } from './run-records.js';
import type { Skill, Step } from './schema.js';
import { rememberFix, runStep, type StepEnv, type StepRun, type StepTools } from './step.js';
import { expressionFailure, renderValue, sandboxEvaluate } from './templates.js';

export interface EngineDeps {
  tools: StepTools;
  config: Config;
  memory: MemoryDb;
}

export interface RunOptions {
  loaded: LoadedSkill;
  inputs?: Record<string, unknown>;
  dryRun?: boolean;
  /**
   * Continue a stopped or interrupted run: its id, whether a pending confirm step is approved,
   * and what to do with a change that was started but never recorded (its process died).
   */
  resume?: { runId: string; approve: boolean; interrupted?: 'rerun' | 'skip' | undefined };
}

/** Statuses after which the next step runs. */
const GOES_ON = new Set<StepResult['status']>(['succeeded', 'skipped', 'continued', 'healed', 'planned']);

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
  /** Nesting depth: 0 for a run started by a person, +1 per skill_run step. */
  depth: number;
  /** On a resume: the step it starts at made a change that was never recorded (its process died during it). */
  interrupted?: StepCall;
  /** On a resume at a skill_run step: the inner run to continue, or the outcome of one that ended for good. */
  innerRun?: { id: string; ended?: { outcome: ToolOutcome; note: string } };
  /** On a resume: the operator's approve flag, passed on to an inner run. */
  resumeApprove?: boolean;
  /** On a resume: what the operator said to do with an interrupted change. */
  decision?: 'rerun' | 'skip' | undefined;
  /** The interrupted change was already put to the operator (the run waits on it). */
  askedInterrupted?: boolean;
  /** On a resume: finally steps whose change was started but never recorded, and whether the operator was asked. */
  interruptedFinally?: Map<string, { call: StepCall; asked: boolean }>;
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
    const depth = ctx.caller ? ctx.caller.depth + 1 : 0;
    if (depth > deps.config.skills.max_depth) {
      throw new ToolError('precondition', `skill ${skill.name} would run ${depth} levels deep (run ${ctx.caller!.run_id}, step ${ctx.caller!.step}): more than skills.max_depth ${deps.config.skills.max_depth}`, {
        hint: 'a skill that calls itself (directly or through others) never ends: check its skill_run steps',
      });
    }
    const state: RunState = { id: '', round: 0, skill, dryRun: options.dryRun || ctx.session.readOnly, steps: [], scopeSteps: {}, outputs: {}, depth };
    const owner = newOwner();
    let startAt = 0;
    let approved = false;
    if (options.resume) {
      // A read-only server would plan the rest and record the real run as planned: no longer resumable.
      if (ctx.session.readOnly) throw new ToolError('precondition', `run ${options.resume.runId} cannot be resumed on a read-only server`, { hint: 'resume it on a server started without --read-only' });
      startAt = await restore(deps, ctx.session.principal.tenant, state, sandbox, options.resume, owner);
      // Only a question the operator was shown can be approved.
      approved = options.resume.approve && skill.steps[startAt]?.confirm !== undefined && state.asked === true;
    } else {
      const inputs = resolveInputs(skill, options.inputs ?? {}, sandboxEvaluate(sandbox));
      state.id = newRunId();
      sandbox.set('inputs', inputs);
      const parent = ctx.caller ? { run: ctx.caller.run_id, step: ctx.caller.step, depth } : undefined;
      await createRun(deps.memory, { id: state.id, tenant: ctx.session.principal.tenant, started_by: ctx.session.principal.subject, skill: skill.name, version: skill.version, file, status: 'running', dry_run: state.dryRun, inputs, owner, parent });
    }
    const lease = holdLease(deps, state.id, owner, ctx);
    try {
      return await execute(deps, ctx, state, sandbox, startAt, approved, started);
    } catch (error) {
      // Nothing may leave a run looking as if it were still running.
      await finishRun(deps.memory, state.id, { status: 'failed', outputs: {}, error: `the engine failed: ${(error as Error).message}`, duration_ms: performance.now() - started });
      throw error;
    } finally {
      lease.release();
    }
  } finally {
    sandbox.dispose();
  }
}

/**
 * Keep the run's lease while it executes: a heartbeat every third of the lease. The timer is
 * unref'd (it never keeps a process alive) and a busy database only skips one beat.
 */
function holdLease(deps: EngineDeps, runId: string, owner: string, ctx: ToolContext): { release(): void } {
  markOwnerLive(owner, true);
  const timer = setInterval(() => {
    renewLease(deps.memory, runId, owner).catch((error: unknown) => {
      ctx.logger.warn('could not renew the lease of a skill run', { run_id: runId, message: (error as Error).message });
    });
  }, Math.max(50, Math.floor(deps.config.skills.lease_ms / 3)));
  timer.unref();
  return {
    release() {
      clearInterval(timer);
      markOwnerLive(owner, false);
    },
  };
}

async function execute(deps: EngineDeps, ctx: ToolContext, state: RunState, sandbox: ExpressionSandbox, startAt: number, approved: boolean, started: number): Promise<RunResult> {
  const { skill } = state;
  sandbox.set('steps', state.scopeSteps);

  const env: StepEnv = {
    sandbox,
    ctx,
    tools: deps.tools,
    config: deps.config,
    memory: deps.memory,
    skill: skill.name,
    dryRun: state.dryRun,
    planned: new Map(),
    approved: false,
    run: { id: state.id, depth: state.depth },
    journal: ({ step, tool, args, idempotent }) => startStepCall(deps.memory, state.id, { round: state.round, phase: phaseOf(skill, step), name: step.name, tool, args, idempotent }),
  };
  const total = skill.steps.length + skill.finally.length;
  let status: RunResult['status'] = state.dryRun ? 'planned' : 'succeeded';
  let failedStep: StepResult | undefined;
  // Changes started when the process died: asked about before any step runs, so that the
  // answer does not repeat the steps run before the question.
  let asking = false;
  if (state.interrupted) {
    const decision = interruptedDecision(state, state.interrupted, state.askedInterrupted ?? false);
    if (decision !== 'rerun') await recordInterrupted(deps, state, sandbox, env, skill.steps[startAt]!, state.interrupted, decision ?? 'ask');
    if (decision === 'skip') startAt += 1;
    if (!decision) asking = true;
  }
  const finallyDecisions = new Map<string, 'rerun' | 'skip'>();
  for (const step of skill.finally) {
    const open = state.interruptedFinally?.get(step.name);
    if (!open) continue;
    const decision = interruptedDecision(state, open.call, open.asked);
    if (decision) finallyDecisions.set(step.name, decision);
    else await recordInterrupted(deps, state, sandbox, env, step, open.call, 'ask');
    if (!decision) asking = true;
  }
  if (asking) {
    status = 'awaiting_approval';
    failedStep = state.steps.at(-1);
    startAt = skill.steps.length;
  }
  if (state.innerRun && skill.steps[startAt]) {
    env.resumeInner = { step: skill.steps[startAt]!.name, runId: state.innerRun.id, approve: approved || (state.resumeApprove ?? false), interrupted: state.decision, ...(state.innerRun.ended ? { ended: state.innerRun.ended } : {}) };
  }
  for (let i = startAt; i < skill.steps.length; i++) {
    if (i !== startAt) delete env.resumeInner;
    if (ctx.signal.aborted) {
      status = 'cancelled';
      break;
    }
    env.approved = approved && i === startAt;
    const run = await runStep(skill.steps[i]!, 'main', env);
    await record(deps.memory, state, sandbox, skill.steps[i]!, run, env);
    if (i === startAt && state.retrying && (run.result.status === 'succeeded' || run.result.status === 'healed')) {
      await rememberFix(env, state.retrying.tool, state.retrying.error as ToolErrorJSON, `resumed run ${state.id}: the step succeeded when run again`);
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
      if (finallyDecisions.get(step.name) === 'skip') {
        await recordInterrupted(deps, state, sandbox, cleanup, step, state.interruptedFinally!.get(step.name)!.call, 'skip');
        continue;
      }
      const run = await runStep(step, 'finally', cleanup);
      await record(deps.memory, state, sandbox, step, run, cleanup);
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
  await finishRun(deps.memory, state.id, { status, outputs, error, duration_ms });
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

async function record(memory: MemoryDb, state: RunState, sandbox: ExpressionSandbox, step: Step, run: StepRun, env: StepEnv, options: { keepCallOpen?: boolean } = {}): Promise<void> {
  const { result } = run;
  // Recorded first, with its call closed in the same transaction: a step that ran stays recorded
  // (and is not run again on a resume) whatever happens next.
  await memory.transaction(async () => {
    await addRunStep(memory, state.id, {
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
    if (result.tool && !options.keepCallOpen) await finishStepCalls(memory, state.id, result.phase, result.name, result.status);
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
 * Load a stopped or interrupted run for a resume: its inputs, and the outputs of the steps before
 * the one it stopped at. Returns the index of that step.
 */
async function restore(deps: EngineDeps, tenant: string, state: RunState, sandbox: ExpressionSandbox, resume: NonNullable<RunOptions['resume']>, owner: string): Promise<number> {
  const { memory } = deps;
  const runId = resume.runId;
  const stored = await getRun(memory, tenant, runId);
  if (!stored) throw new ToolError('not_found', `no skill run ${runId}`, { hint: 'skill_runs lists recent runs' });
  const { run, steps } = stored;
  if (run.skill !== state.skill.name) throw new ToolError('conflict', `run ${runId} is a run of ${run.skill}, not ${state.skill.name}`);
  if (run.dry_run) throw new ToolError('precondition', `run ${runId} is a plan (dry run); start a real run instead`);
  const status = stoppedStatus(run, deps.config.skills.lease_ms, 'resumed');
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
  state.depth = run.depth;
  state.resumeApprove = resume.approve;
  state.decision = resume.interrupted;
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
  const stopStep = state.skill.steps[startAt];
  const stoppedAt = latest.get(stopStep?.name ?? '');
  if (stoppedAt?.error && stoppedAt.tool) state.retrying = { tool: stoppedAt.tool, error: stoppedAt.error };
  if (stoppedAt?.kind === 'confirm' && stoppedAt.status === 'declined') {
    // A person said no to this step: neither a resume with approve nor asking again turns that into a yes.
    throw new ToolError('precondition', `run ${runId} was declined at its confirm step ${stoppedAt.name}${stoppedAt.note ? ` (${stoppedAt.note})` : ''}: a declined approval is final`, {
      hint: 'start a new run of the skill if the change is wanted after all; skill_abandon ends this one',
    });
  }
  state.asked = stoppedAt?.kind === 'confirm' && ['awaiting_approval', 'cancelled'].includes(stoppedAt.status);
  if (stopStep?.tool === 'skill_run') {
    // The inner run keeps its own record: continue it, or take how it ended, rather than start the nested skill again.
    const inner = await childRun(memory, runId, stopStep.name);
    const innerStatus = inner && effectiveStatus(inner, deps.config.skills.lease_ms);
    if (inner && innerStatus === 'running') {
      throw new ToolError('conflict', `run ${runId} cannot be resumed: the inner run ${inner.id} of its step ${stopStep.name} is running`, { hint: 'wait for that run to end, then resume this one' });
    }
    if (inner && innerStatus && (innerStatus === 'interrupted' || RESUMABLE.includes(innerStatus))) state.innerRun = { id: inner.id };
    if (inner && (innerStatus === 'succeeded' || innerStatus === 'abandoned')) state.innerRun = { id: inner.id, ended: await innerEnded(memory, tenant, inner, stopStep.name) };
  }
  if (stopStep && !state.innerRun) {
    const call = await openStepCall(memory, runId, 'main', stopStep.name);
    if (call) {
      state.interrupted = call;
      state.askedInterrupted = stoppedAt?.kind === 'tool' && stoppedAt.status === 'awaiting_approval';
    }
  }
  // A finally step's change is no safer to repeat than a main step's: the same rule applies.
  const latestFinally = new Map<string, RunStepRecord>();
  for (const row of steps) if (row.phase === 'finally') latestFinally.set(row.name, row);
  for (const step of state.skill.finally) {
    const call = await openStepCall(memory, runId, 'finally', step.name);
    if (!call) continue;
    const row = latestFinally.get(step.name);
    (state.interruptedFinally ??= new Map()).set(step.name, { call, asked: row?.kind === 'tool' && row.status === 'awaiting_approval' });
  }
  // Claimed last: a restore that fails leaves the run as it was, still resumable.
  const seen = status === 'interrupted' ? { owner: run.owner, heartbeat_at: run.heartbeat_at } : undefined;
  if (!(await claimRun(memory, tenant, runId, RESUMABLE, owner, seen))) throw new ToolError('conflict', `run ${runId} is being resumed by another call`);
  return startAt;
}

/**
 * A step whose call started but was never recorded: its process died during the call. An
 * idempotent tool runs again; any other change runs again or is skipped only on the operator's
 * word (undefined: not given yet, ask).
 */
function interruptedDecision(state: RunState, call: StepCall, asked: boolean): 'rerun' | 'skip' | undefined {
  return call.idempotent ? 'rerun' : (state.decision ?? (state.resumeApprove && asked ? 'rerun' : undefined));
}

/** Record an interrupted change as skipped on the operator's word, or as waiting on the question (its call stays open). */
async function recordInterrupted(deps: EngineDeps, state: RunState, sandbox: ExpressionSandbox, env: StepEnv, step: Step, call: StepCall, decision: 'skip' | 'ask'): Promise<void> {
  const phase = phaseOf(state.skill, step);
  const base: StepResult = { name: step.name, phase, kind: 'tool', status: 'skipped', tool: call.tool, ...(call.args ? { args: call.args } : {}), duration_ms: 0, attempts: 0 };
  if (decision === 'skip') {
    await record(deps.memory, state, sandbox, step, { result: { ...base, note: `skipped on the operator's word: the ${call.tool} call started at ${call.started_at} was never recorded as done` } }, env);
    return;
  }
  const question =
    `${phase === 'finally' ? 'finally ' : ''}step ${step.name} (${call.tool}) was started at ${call.started_at} and its process died before the result was recorded: ` +
    `the change may or may not have happened. Check, then resume with interrupted "rerun" (or approve) to run it again, or "skip" if it happened`;
  await record(deps.memory, state, sandbox, step, { result: { ...base, status: 'awaiting_approval', note: question } }, env, { keepCallOpen: true });
}

function phaseOf(skill: Skill, step: Step): 'main' | 'finally' {
  return skill.finally.includes(step) ? 'finally' : 'main';
}
