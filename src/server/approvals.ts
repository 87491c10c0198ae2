import { CLIENT_CAPABILITIES_META_KEY, inputRequired, inputResponse, type ElicitRequestFormParams, type InputRequiredResult, type ServerContext } from '@modelcontextprotocol/server';
import { toToolError, ToolError } from '../errors.js';
import { redactValue } from '../masking.js';
import { consumeApprovalNonce, effectiveStatus, getRun, storedStateKey } from '../memory/index.js';
import { renderError, type ConfirmFn, type PersonaSummary, type SessionControl, type ToolOutcome } from '../tools/registry.js';
import type { RunResult } from '../tools/skills.js';
import { claimedBy, envStateKey, newNonce, openApproval, sealApproval, type ApprovalClaim } from './approval-state.js';
import type { CallOptions } from './context.js';
import type { McpSession } from './mcp.js';
import type { Runtime } from './runtime.js';

/**
 * Confirm steps on the 2026-07-28 era, which has no server-to-client requests: a skill_run that
 * stops at a confirm step answers `input_required` with the question as a form elicitation and a
 * sealed request state (run, step, round, principal, expiry, nonce). The client retries the same
 * call with the answer and the state; the run then goes on from that step as approved, ends as
 * declined, or (cancel) keeps waiting. The run itself waits in the store meanwhile, so any server
 * process on the same store and key can take the retry.
 */

/** The answer form: one boolean, as the 2025 elicitation asks it. */
export const CONFIRM_SCHEMA: ElicitRequestFormParams['requestedSchema'] = {
  type: 'object',
  properties: { confirm: { type: 'boolean', title: 'Proceed', description: 'Proceed with this step' } },
  required: ['confirm'],
};

/**
 * What an answer to CONFIRM_SCHEMA decides. Only an explicit `confirm: true` approves: an accept
 * without it (an untouched checkbox) is no approval.
 */
export function confirmDecision(answer: { action: 'accept' | 'decline' | 'cancel'; content?: Record<string, unknown> | undefined }): 'accept' | 'decline' | 'cancel' {
  if (answer.action !== 'accept') return answer.action;
  return answer.content?.confirm === true ? 'accept' : 'decline';
}

/** The key of the one input request an approval asks. */
const ASK_KEY = 'confirm';

/** The tool whose pauses are asked about: skill_plan never waits, skill_run resumes. */
const ASKING_TOOL = 'skill_run';

const stateKeys = new WeakMap<Runtime, Promise<Buffer>>();

/** The sealing key: RELEASE_MCP_STATE_KEY, else the one kept in the memory (made at its first use). */
function stateKey(runtime: Runtime): Promise<Buffer> {
  let key = stateKeys.get(runtime);
  if (!key) {
    const fromEnv = runtime.secrets.RELEASE_MCP_STATE_KEY;
    key = fromEnv
      ? Promise.resolve(envStateKey(fromEnv))
      : storedStateKey(runtime.memory).then((stored) => {
          // Masked like every secret, should it ever be about to reach a log line or a row.
          runtime.secretValues.push(stored.toString('base64'));
          return stored;
        });
    // A failure (a short env key, a store that is down) is not kept: the next call tries again.
    key.catch(() => stateKeys.delete(runtime));
    stateKeys.set(runtime, key);
  }
  return key;
}

/** Whether this request's client can answer a form elicitation in an input_required result. */
export function canElicit(ctx: ServerContext): boolean {
  const declared = ctx.mcpReq.envelope?.[CLIENT_CAPABILITIES_META_KEY as keyof NonNullable<typeof ctx.mcpReq.envelope>] as { elicitation?: unknown } | undefined;
  return declared?.elicitation !== undefined && declared.elicitation !== null;
}

/**
 * A 2026-07-28 tools/call: a retry that carries a request state is an approval answer; any call
 * whose run then stops at a confirm step is asked about it, when the client can answer.
 */
export async function callOnModernEra(session: McpSession, name: string, args: unknown, ctx: ServerContext, options: CallOptions): Promise<ToolOutcome | InputRequiredResult> {
  try {
    return await askOrAnswer(session, name, args, ctx, options);
  } catch (thrown) {
    // A key that cannot be had (too short, store down) or a memory that fails while an answer is
    // checked: a failed result that says why, masked and counted as a failed call is.
    const { runtime } = session;
    const error = toToolError(runtime.memory.lockError(thrown) ?? thrown);
    runtime.metrics.countToolCall(name, error.code);
    return failure(name, error, runtime.secretValues);
  }
}

async function askOrAnswer(session: McpSession, name: string, args: unknown, ctx: ServerContext, options: CallOptions): Promise<ToolOutcome | InputRequiredResult> {
  const asks = name === ASKING_TOOL && canElicit(ctx);
  // The key first: a run that could not be asked about would stop at its confirm step for nothing.
  if (asks) await stateKey(session.runtime);
  const raw = ctx.mcpReq.requestState<unknown>();
  let outcome: ToolOutcome;
  if (raw === undefined) {
    outcome = await session.call(name, args, options);
  } else {
    const answered = await answerApproval(session, name, raw, ctx.mcpReq.inputResponses, options);
    // A cancelled question is not asked again in the same breath: the run waits for a later resume.
    if (answered.cancelled) return answered.outcome;
    outcome = answered.outcome;
  }
  if (!asks) return outcome;
  try {
    return (await askApproval(session, name, outcome)) ?? outcome;
  } catch (error) {
    // The run is paused and says so: it can still be resumed, only the question could not be asked.
    session.runtime.logger.warn('could not ask for an approval: the run stays paused', { tool: name, message: (error as Error).message });
    return outcome;
  }
}

/** The confirm step a skill_run outcome waits on, when it waits on one. */
function pendingConfirm(outcome: ToolOutcome): { run: RunResult; step: string; question: string } | undefined {
  if (!outcome.ok) return undefined;
  const run = outcome.data as RunResult;
  if (run.status !== 'awaiting_approval') return undefined;
  const step = run.steps.at(-1);
  // A nested run's pause or an interrupted change is a different question: it keeps waiting for resume.
  if (!step || step.kind !== 'confirm' || step.status !== 'awaiting_approval' || step.phase !== 'main') return undefined;
  return { run, step: step.name, question: step.note ?? `Proceed with step ${step.name} of ${run.skill}?` };
}

async function askApproval(session: McpSession, tool: string, outcome: ToolOutcome): Promise<InputRequiredResult | undefined> {
  const pending = pendingConfirm(outcome);
  if (!pending) return undefined;
  const { runtime, principal } = session;
  const stored = await getRun(runtime.memory, principal.tenant, pending.run.run_id);
  if (!stored) return undefined;
  const claim: ApprovalClaim = {
    run: pending.run.run_id,
    step: pending.step,
    round: stored.run.resumes,
    tool,
    tenant: principal.tenant,
    subject: principal.subject,
    role: principal.role,
    exp: Date.now() + Math.round(runtime.config.skills.approval_ttl_minutes * 60_000),
    nonce: newNonce(),
  };
  const requestState = sealApproval(await stateKey(runtime), claim);
  runtime.logger.info('approval asked', { run_id: claim.run, step: claim.step, subject: principal.subject });
  return inputRequired({
    inputRequests: { [ASK_KEY]: inputRequired.elicit({ message: pending.question, requestedSchema: CONFIRM_SCHEMA }) },
    requestState,
  });
}

function failure(tool: string, error: ToolError, secrets: readonly string[]): ToolOutcome {
  const json = redactValue(error.toJSON(), secrets);
  return { ok: false, error: json, text: renderError(tool, json) };
}

/**
 * The retry of an asked call. Every check runs before anything changes: the state must be one this
 * server sealed, for this principal and tool, not expired, with an answer; its nonce is then spent
 * (a replay is refused), and the run must still wait on that step in that round.
 */
async function answerApproval(
  session: McpSession,
  tool: string,
  raw: unknown,
  responses: Record<string, unknown> | undefined,
  options: CallOptions,
): Promise<{ outcome: ToolOutcome; cancelled: boolean }> {
  const { runtime, principal } = session;
  const refused = (error: ToolError) => {
    runtime.metrics.countToolCall(tool, error.code);
    runtime.logger.warn('approval answer refused', { tool, code: error.code, subject: principal.subject, message: error.message });
    return { outcome: failure(tool, error, runtime.secretValues), cancelled: false };
  };
  const claim = typeof raw === 'string' ? openApproval(await stateKey(runtime), raw) : undefined;
  if (!claim) {
    return refused(
      new ToolError('invalid_input', 'requestState: not an approval request this server issued (malformed, altered, or sealed with another key)', {
        hint: 'call skill_run with {"resume": "<run id>"} to be asked again; servers behind one address need the same RELEASE_MCP_STATE_KEY (or the same memory)',
      }),
    );
  }
  const about = `the approval request for run ${claim.run} (step ${claim.step})`;
  const resumeHint = `call skill_run with {"resume": "${claim.run}"} to be asked again`;
  if (!claimedBy(claim, principal)) {
    await session.auditRefusal(tool, `an approval request for run ${claim.run} (step ${claim.step}) issued to ${claim.subject} was answered with other credentials`);
    return refused(new ToolError('forbidden', `${about} was issued to another caller: it can only be answered with the credentials it was asked with`, { hint: 'the run is unchanged; its own operator answers it' }));
  }
  if (claim.tool !== tool) return refused(new ToolError('invalid_input', `${about} belongs to a ${claim.tool} call, not ${tool}`, { hint: 'retry the same tool call with the answer' }));
  if (Date.now() > claim.exp) {
    return refused(
      new ToolError('precondition', `${about} expired at ${new Date(claim.exp).toISOString()} (skills.approval_ttl_minutes ${runtime.config.skills.approval_ttl_minutes}); the run still waits for approval`, { hint: resumeHint }),
    );
  }
  const answer = inputResponse(responses, ASK_KEY);
  if (answer.kind !== 'elicit') {
    return refused(new ToolError('invalid_input', `inputResponses.${ASK_KEY}: expected the answer to the elicitation of ${about} (accept with confirm, decline or cancel)`, { hint: 'retry with the answer and the same requestState' }));
  }
  if (!(await consumeApprovalNonce(runtime.memory, claim.nonce, claim.run, claim.exp))) {
    const now = await getRun(runtime.memory, principal.tenant, claim.run);
    const status = now ? effectiveStatus(now.run, runtime.config.skills.lease_ms) : 'gone';
    return refused(
      new ToolError('conflict', `${about} was already answered: a request state is single-use (run ${claim.run} is ${status} now)`, {
        hint: `skill_runs with {"run_id": "${claim.run}"} shows the run; ${status === 'awaiting_approval' ? resumeHint : 'a declined or finished run is not asked again'}`,
      }),
    );
  }
  const stored = await getRun(runtime.memory, principal.tenant, claim.run);
  const waiting = stored && effectiveStatus(stored.run, runtime.config.skills.lease_ms) === 'awaiting_approval' ? stored.steps.at(-1) : undefined;
  if (!stored || !waiting || stored.run.resumes !== claim.round || waiting.name !== claim.step || waiting.kind !== 'confirm' || waiting.status !== 'awaiting_approval') {
    const now = stored ? `${effectiveStatus(stored.run, runtime.config.skills.lease_ms)}${stored.steps.at(-1) ? ` at step ${stored.steps.at(-1)!.name}` : ''}` : 'gone';
    return refused(new ToolError('conflict', `${about} is out of date: the run moved on since it was asked (it is ${now})`, { hint: `skill_runs with {"run_id": "${claim.run}"} shows the run` }));
  }
  const decision = confirmDecision(answer);
  runtime.logger.info('approval answered', { run_id: claim.run, step: claim.step, decision, subject: principal.subject });
  // A cancel resumes with no answer: the confirm step finds no one to ask and keeps waiting.
  const cancelled = decision === 'cancel';
  const outcome = await session.call(tool, { resume: claim.run }, options, new AnsweringSession(session, cancelled ? undefined : decision));
  return { outcome, cancelled };
}

/**
 * The session as the resumed run sees it: its confirm step gets the answer the client gave in the
 * retry, once; a later confirm step of the same run finds no one to ask and waits (and is then
 * asked about in a new input_required result).
 */
class AnsweringSession implements SessionControl {
  private answer: 'accept' | 'decline' | undefined;

  constructor(
    private readonly session: McpSession,
    answer?: 'accept' | 'decline',
  ) {
    this.answer = answer;
  }

  get persona(): string {
    return this.session.persona;
  }

  get readOnly(): boolean {
    return this.session.readOnly;
  }

  get principal() {
    return this.session.principal;
  }

  get era() {
    return this.session.era;
  }

  get confirm(): ConfirmFn | undefined {
    const answer = this.answer;
    if (!answer) return undefined;
    return async () => {
      this.answer = undefined;
      return answer;
    };
  }

  loadPersona(name: string): Promise<{ persona: string; tools: string[] }> {
    return this.session.loadPersona(name);
  }

  listPersonas(): PersonaSummary[] {
    return this.session.listPersonas();
  }
}
