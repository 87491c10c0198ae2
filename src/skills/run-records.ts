import { ToolError } from '../errors.js';
import { effectiveStatus, getRun, type MemoryDb, type RunRecord, type RunStepRecord } from '../memory/index.js';
import type { ToolOutcome } from '../tools/registry.js';
import type { RunResult, StepResult } from '../tools/skills.js';
import { renderRunReport } from './report.js';

/**
 * The outcome of an inner run that ended for good, as its skill_run step takes it on a resume:
 * a succeeded run gives its result (outputs included) as skill_run returned it; an abandoned
 * one fails the step.
 */
export async function innerEnded(memory: MemoryDb, tenant: string, inner: RunRecord, stepName: string): Promise<{ outcome: ToolOutcome; note: string }> {
  if (inner.status === 'abandoned') {
    const message = `inner run ${inner.id} (${inner.skill}) of step ${stepName} was abandoned${inner.error ? ` (${inner.error})` : ''}: it is not started again`;
    return {
      outcome: { ok: false, error: { code: 'precondition', message, hint: 'do its work by hand and abandon this run too, or start a new run' }, text: message },
      note: `inner run ${inner.id} was abandoned`,
    };
  }
  // Each step as it last ended, in the order the steps first ran.
  const latest = new Map<string, RunStepRecord>();
  for (const row of (await getRun(memory, tenant, inner.id))?.steps ?? []) latest.set(`${row.phase}:${row.name}`, row);
  const result: Omit<RunResult, 'report'> = {
    run_id: inner.id,
    skill: inner.skill,
    version: inner.version,
    status: 'succeeded',
    dry_run: inner.dry_run,
    steps: [...latest.values()].map(stepResultOf),
    outputs: inner.outputs,
    duration_ms: inner.duration_ms,
  };
  const report = renderRunReport(result);
  return { outcome: { ok: true, data: { ...result, report }, text: report }, note: `inner run ${inner.id} (${inner.skill}) had already succeeded: its result is taken, the skill is not run again` };
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

/** Statuses a run can be resumed from (besides interrupted). */
export const RESUMABLE = ['failed', 'cancelled', 'awaiting_approval', 'declined'];

/**
 * The status of a run that is to be resumed or abandoned: a run still running (its owner alive
 * and its lease fresh) is a conflict, one that ended for good a precondition.
 */
export function stoppedStatus(run: RunRecord, leaseMs: number, verb: 'resumed' | 'abandoned'): string {
  const status = effectiveStatus(run, leaseMs);
  if (status === 'running') {
    const silent = run.heartbeat_at === null ? 'never' : `${Math.round((Date.now() - run.heartbeat_at) / 1000)} s ago`;
    throw new ToolError('conflict', `run ${run.id} is running (owner ${run.owner}, last heartbeat ${silent})`, {
      hint: `wait for it to end, or cancel it where it runs; a run whose process died shows as interrupted once its lease (skills.lease_ms, ${leaseMs} ms) expires`,
    });
  }
  if (status !== 'interrupted' && !RESUMABLE.includes(status)) {
    throw new ToolError('precondition', `run ${run.id} is ${status}; only a failed, cancelled, declined, paused or interrupted run can be ${verb}`);
  }
  return status;
}
