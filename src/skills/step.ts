import type { Config } from '../config.js';
import { isTransient, ToolError, type ErrorCode, type ToolErrorJSON } from '../errors.js';
import { countMatches, findKnownIssues, learnFix, type MemoryDb } from '../memory/index.js';
import type { ToolContext, ToolListing, ToolOutcome } from '../tools/registry.js';
import type { StepResult } from '../tools/skills.js';
import { recordConfirmDecision } from './approvals.js';
import { ExpressionError, type ExpressionKind, type ExpressionSandbox } from './expressions.js';
import { classifyError, describeHeal, runHeal } from './heal.js';
import { stepKind, type Step } from './schema.js';
import { expressionFailure, referencedNames, renderValue, type Evaluate } from './templates.js';

/** What the engine needs of the tools: their annotations, and (for a plan) their argument check. */
export interface StepTools {
  get(name: string): Pick<ToolListing, 'annotations'> | undefined;
  /** Arguments as the tool would receive them (coerced, defaults filled), or its invalid_input error. */
  checkArgs?(name: string, raw: unknown): Promise<Record<string, unknown>>;
}

/** What running one step needs from its run. */
export interface StepEnv {
  sandbox: ExpressionSandbox;
  ctx: ToolContext;
  tools: StepTools;
  config: Config;
  memory: MemoryDb;
  skill: string;
  dryRun: boolean;
  /** Outputs of steps a plan did not run: output name → step name. */
  planned: Map<string, string>;
  /** The operator approved the confirm step this run stopped at. */
  approved: boolean;
  /** The run the steps belong to: nested skill_run calls carry it as their caller. */
  run?: { id: string; depth: number };
  /** Journal a tool call before it is made (a crash during it is then seen on resume). */
  journal?: (call: { step: Step; tool: string; args: Record<string, unknown>; idempotent: boolean }) => Promise<void>;
  /**
   * A skill_run step whose inner run exists already: continue that run (with the operator's
   * approve and interrupted decision) instead of starting a new one, or, when it has ended for
   * good, take its outcome without calling the tool.
   */
  resumeInner?: { step: string; runId: string; approve: boolean; interrupted?: 'rerun' | 'skip' | undefined; ended?: { outcome: ToolOutcome; note: string } };
}

/** Inner run statuses a skill_run step takes over: the outer run stops where the inner one did. */
const INNER_STOPS = new Set(['awaiting_approval', 'declined', 'cancelled', 'failed']);

export interface StepRun {
  result: StepResult;
  /** Present when the step produced its output. */
  output?: { value: unknown };
}

type StepError = ToolErrorJSON;

class StepFailure extends Error {
  constructor(readonly error: StepError) {
    super(error.message);
  }
}

const MAX_SUMMARY = 300;

function summarize(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? 'undefined';
  return text.length > MAX_SUMMARY ? `${text.slice(0, MAX_SUMMARY - 1)}…` : text;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Names of planned steps whose outputs a source reads. */
function plannedDependencies(env: StepEnv, source: string): string[] {
  if (!env.planned.size) return [];
  return [...referencedNames(source)].filter((name) => env.planned.has(name)).map((name) => env.planned.get(name)!);
}

function evaluate(env: StepEnv, kind: ExpressionKind, source: string, where: string): unknown {
  try {
    return env.sandbox.evaluate(kind, source);
  } catch (error) {
    const code: ErrorCode = error instanceof ExpressionError && error.reason === 'timeout' ? 'timeout' : 'invalid_input';
    throw new StepFailure({ code, message: expressionFailure(error, where), hint: 'fix the expression in the skill file; release-mcp skill lint checks them' });
  }
}

/** In a plan, a template that reads a planned output renders as a marker instead of failing. */
function renderer(env: StepEnv, where: string, waitingOn?: Set<string>): Evaluate {
  return (expr) => {
    const waiting = plannedDependencies(env, expr);
    for (const name of waiting) waitingOn?.add(name);
    if (waiting.length) return `<from planned step ${waiting.join(', ')}: ${expr}>`;
    return evaluate(env, 'expression', expr, where);
  };
}

export async function runStep(step: Step, phase: 'main' | 'finally', env: StepEnv): Promise<StepRun> {
  const started = performance.now();
  const kind = stepKind(step);
  const result: StepResult = { name: step.name, phase, kind, status: 'succeeded', duration_ms: 0, attempts: 0, ...(step.tool ? { tool: step.tool } : {}) };
  const finish = (run: Omit<StepRun, 'result'> = {}): StepRun => {
    result.duration_ms = Math.round((performance.now() - started) * 100) / 100;
    return { result, ...run };
  };
  const plan = (note: string): StepRun => {
    result.status = 'planned';
    result.note = note;
    return finish();
  };
  try {
    if (step.condition !== undefined) {
      const waiting = env.dryRun ? plannedDependencies(env, step.condition) : [];
      if (waiting.length) return plan(`condition \`${step.condition}\` depends on the output of planned step ${waiting.join(', ')}`);
      if (!evaluate(env, 'expression', step.condition, 'condition')) {
        result.status = 'skipped';
        result.note = `condition \`${step.condition}\` is false`;
        return finish();
      }
    }
    switch (kind) {
      case 'note':
        result.note = step.description;
        return finish();
      case 'compute': {
        const waiting = plannedDependencies(env, step.compute!);
        if (waiting.length) return plan(`compute depends on the output of planned step ${waiting.join(', ')}`);
        result.attempts = 1;
        const value = evaluate(env, 'body', step.compute!, 'compute');
        result.output_summary = summarize(value);
        return finish({ output: { value } });
      }
      case 'assert': {
        const waiting = plannedDependencies(env, step.assert!);
        if (waiting.length) return plan(`assert depends on the output of planned step ${waiting.join(', ')}`);
        result.attempts = 1;
        if (!evaluate(env, 'expression', step.assert!, 'assert')) {
          const message = step.message === undefined ? `assertion \`${step.assert}\` is false` : String(renderValue(step.message, renderer(env, 'message')));
          throw new StepFailure({ code: 'precondition', message });
        }
        return finish();
      }
      case 'confirm':
        return finish(await confirmStep(step, env, result));
      case 'tool':
        return finish(await toolStep(step, env, result));
    }
  } catch (error) {
    if (!(error instanceof StepFailure)) throw error;
    await fail(step, env, result, error.error);
    return finish();
  }
}

async function confirmStep(step: Step, env: StepEnv, result: StepResult): Promise<Omit<StepRun, 'result'>> {
  const question = String(renderValue(step.confirm!, renderer(env, 'confirm')));
  result.note = question;
  if (env.dryRun) {
    result.status = 'planned';
    return {};
  }
  if (env.approved) {
    result.note = `${question} (${env.run ? await recordConfirmDecision(env.ctx, env.run.id, step.name, 'approved', true) : 'approved on resume'})`;
    return {};
  }
  const ask = env.ctx.session.confirm;
  if (!ask) {
    result.status = 'awaiting_approval';
    return {};
  }
  result.attempts = 1;
  let answer: Awaited<ReturnType<typeof ask>>;
  try {
    answer = await ask(question);
  } catch (error) {
    result.status = 'awaiting_approval';
    result.note = `${question} (the client could not be asked: ${(error as Error).message})`;
    return {};
  }
  result.status = answer === 'accept' ? 'succeeded' : answer === 'decline' ? 'declined' : 'cancelled';
  if (answer !== 'cancel' && env.run) result.note = `${question} (${await recordConfirmDecision(env.ctx, env.run.id, step.name, answer === 'accept' ? 'approved' : 'declined', false)})`;
  return {};
}

async function toolStep(step: Step, env: StepEnv, result: StepResult): Promise<Omit<StepRun, 'result'>> {
  const name = step.tool!;
  const tool = env.tools.get(name);
  const waitingOn = new Set<string>();
  const args = renderValue(step.args ?? {}, renderer(env, 'args', waitingOn)) as Record<string, unknown>;
  result.args = args;
  if (env.dryRun) {
    // An unknown tool fails here as it would in the real run.
    if (tool && !tool.annotations.readOnlyHint) {
      // The arguments as the tool would receive them (coerced, defaults filled), or the failure the real run would have.
      if (!waitingOn.size && env.tools.checkArgs) {
        try {
          result.args = await env.tools.checkArgs(name, args);
        } catch (error) {
          if (error instanceof ToolError) throw new StepFailure(error.toJSON());
          throw error;
        }
      }
      result.status = 'planned';
      result.note = 'changes things: not run in a plan';
      return {};
    }
    // Templates are read expression by expression (a JSON dump of the args hides them in string literals).
    if (tool && waitingOn.size) {
      result.status = 'planned';
      result.note = `arguments depend on the output of planned step ${[...waitingOn].join(', ')}`;
      return {};
    }
  }
  let callArgs = args;
  const existing = env.resumeInner?.step === step.name ? env.resumeInner : undefined;
  if (existing?.ended) {
    // Calling skill_run again would start the nested skill afresh and repeat its changes.
    result.note = existing.ended.note;
    if (!existing.ended.outcome.ok) throw new StepFailure(existing.ended.outcome.error);
    result.output_summary = summarize(existing.ended.outcome.text);
    return { output: { value: existing.ended.outcome.data } };
  }
  if (existing) {
    callArgs = { resume: existing.runId, approve: existing.approve, ...(existing.interrupted ? { interrupted: existing.interrupted } : {}) };
    result.note = `continued inner run ${existing.runId}`;
  }
  if (!env.dryRun) await env.journal?.({ step, tool: name, args: callArgs, idempotent: !!tool && (tool.annotations.readOnlyHint || tool.annotations.idempotentHint) });
  let outcome = await callWithRetry(step, callArgs, env, result);
  if (name === 'skill_run') {
    const inner = innerRun(outcome);
    if (inner && INNER_STOPS.has(inner.status)) {
      const where = inner.step ? ` at step ${inner.step}` : '';
      result.note = `inner run ${inner.run_id} (${inner.skill}) is ${inner.status}${where}${inner.status === 'awaiting_approval' ? ': resume this run (with approve) to go on' : ''}`;
      if (inner.status === 'awaiting_approval' || inner.status === 'declined') {
        result.status = inner.status;
        return {};
      }
    }
  }
  if (!outcome.ok && step.on_error === 'auto_heal' && outcome.error.code !== 'cancelled') {
    // A heal action (a command or any tool) changes things: a plan only says it would run.
    if (env.dryRun) result.note = 'auto_heal: the heal action is not run in a plan';
    else if (outcome.error.code === 'timeout' && tool && !tool.annotations.readOnlyHint && !tool.annotations.idempotentHint) result.note = 'auto_heal: not tried again: the change timed out and may have landed';
    else outcome = await heal(step, args, env, result, outcome);
  }
  if (!outcome.ok) throw new StepFailure(outcome.error);
  result.output_summary = summarize(outcome.text);
  return { output: { value: outcome.data } };
}

/** The run a skill_run call returned (also when it failed), as far as the outer step needs it. */
function innerRun(outcome: ToolOutcome): { run_id: string; skill: string; status: string; step?: string } | undefined {
  const data = outcome.data as { run_id?: unknown; skill?: unknown; status?: unknown; steps?: Array<{ name: string; status: string }> } | undefined;
  if (!data || typeof data.run_id !== 'string' || typeof data.status !== 'string') return undefined;
  const stopped = (data.steps ?? []).findLast((s) => s.status === data.status);
  return { run_id: data.run_id, skill: String(data.skill), status: data.status, ...(stopped ? { step: stopped.name } : {}) };
}

/** One call with the step's timeout; a tool that ignores the abort still ends the step on time. */
async function callOnce(name: string, args: Record<string, unknown>, env: StepEnv, timeoutMs: number, stepName?: string): Promise<ToolOutcome> {
  const controller = new AbortController();
  const signal = AbortSignal.any([env.ctx.signal, controller.signal]);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<ToolOutcome>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      const error: StepError = { code: 'timeout', message: `${name} did not finish within ${timeoutMs} ms`, hint: 'raise the step timeout if the tool is slow, or check the service' };
      resolve({ ok: false, error, text: error.message });
    }, timeoutMs);
  });
  try {
    const caller = env.run && stepName ? { caller: { run_id: env.run.id, step: stepName, depth: env.run.depth } } : {};
    return await Promise.race([env.ctx.callTool(name, args, { signal, ...caller }), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** Retries only transient failures (network, timeout, rate_limited, upstream), with backoff. */
async function callWithRetry(step: Step, args: Record<string, unknown>, env: StepEnv, result: StepResult): Promise<ToolOutcome> {
  const attempts = step.retry?.attempts ?? 1;
  let delay = step.retry?.delay ?? 0;
  const timeoutMs = step.timeout ?? env.config.skills.step_timeout_ms;
  let first: StepError | undefined;
  for (let attempt = 1; ; attempt++) {
    result.attempts += 1;
    const outcome = await callOnce(step.tool!, args, env, timeoutMs, step.name);
    if (outcome.ok) {
      if (first) {
        await rememberFix(env, step.tool!, first, `retried: attempt ${attempt} succeeded`);
        result.note = `succeeded on attempt ${attempt} after ${first.code}: ${first.message}`;
      }
      return outcome;
    }
    first ??= outcome.error;
    // A change that is not idempotent may have landed before it timed out (or still be running): never send it twice.
    const annotations = env.tools.get(step.tool!)?.annotations;
    const unsafe = outcome.error.code === 'timeout' && !!annotations && !annotations.readOnlyHint && !annotations.idempotentHint;
    const transient = isTransient(outcome.error) && !unsafe;
    if (!transient || attempt >= attempts || env.ctx.signal.aborted) {
      if (env.ctx.signal.aborted) return { ok: false, error: { code: 'cancelled', message: 'the run was cancelled' }, text: 'cancelled' };
      return outcome;
    }
    const retryAfter = (outcome.error.retry_after ?? 0) * 1000;
    await sleep(Math.max(delay, retryAfter), env.ctx.signal);
    delay *= step.retry?.factor ?? 2;
  }
}

async function heal(step: Step, args: Record<string, unknown>, env: StepEnv, result: StepResult, failed: Extract<ToolOutcome, { ok: false }>): Promise<ToolOutcome> {
  const errorClass = classifyError(failed.error);
  const action = env.config.heal[errorClass];
  if (!action) {
    result.note = `auto_heal: no heal action for error class "${errorClass}" (add heal.${errorClass} to config.json)`;
    return failed;
  }
  const healed = await runHeal(action, env.ctx);
  if (!healed.ok) {
    result.note = `auto_heal (${errorClass}): ${healed.detail}`;
    return failed;
  }
  const retried = await callOnce(step.tool!, args, env, step.timeout ?? env.config.skills.step_timeout_ms, step.name);
  result.attempts += 1;
  if (!retried.ok) {
    result.note = `auto_heal (${errorClass}): ${healed.detail}, but the step failed again: ${retried.error.message}`;
    return retried;
  }
  result.status = 'healed';
  result.note = `auto_heal (${errorClass}): ${healed.detail}; the step then succeeded`;
  await rememberFix(env, step.tool!, failed.error, `auto_heal ran ${describeHeal(action)}, then the step succeeded`);
  return retried;
}

/** A fix that worked goes to memory, so the next failure with this text shows it. */
export async function rememberFix(env: Pick<StepEnv, 'memory' | 'ctx'>, tool: string, error: StepError, fix: string): Promise<void> {
  try {
    const { tenant, subject } = env.ctx.session.principal;
    await learnFix(env.memory, { tenant, subject }, { tool, error_pattern: errorPattern(error.message), root_cause: `${error.code}: ${error.message.slice(0, 300)}`, fix });
  } catch (problem) {
    env.ctx.logger.warn('could not record a learned fix', { message: (problem as Error).message });
  }
}

/** The stable part of an error message: its first line, without long numbers and ids. */
function errorPattern(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/\b[0-9a-f]{12,}\b/gi, '').replace(/\s+/g, ' ').trim().slice(0, 160);
}

async function fail(step: Step, env: StepEnv, result: StepResult, error: StepError): Promise<void> {
  result.error = { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
  result.status = error.code === 'cancelled' ? 'cancelled' : step.on_error === 'continue' ? 'continued' : 'failed';
  if (result.status === 'cancelled') return;
  try {
    // Only fixes whose pattern is in this error: a fix for another failure of the same tool would mislead.
    const matches = await findKnownIssues(env.memory, { tenant: env.ctx.session.principal.tenant, tool: step.tool ?? env.skill, error_text: error.message, limit: 3, onErrorTextOnly: true });
    if (matches.length) {
      await countMatches(env.memory, matches);
      result.matches = matches.map(({ kind, id, tool, pattern, root_cause, fix, score }) => ({ kind, id, tool, pattern, root_cause, fix, score }));
    }
  } catch (problem) {
    env.ctx.logger.warn('known-issue lookup failed', { message: (problem as Error).message });
  }
}
