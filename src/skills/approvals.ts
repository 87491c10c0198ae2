import { recordApproval, type ApprovalDecision, type ApprovalRecord } from '../memory/index.js';
import type { ToolContext } from '../tools/registry.js';

/**
 * Record who decided a confirm step, when, on which protocol era and how, in the run's approvals
 * (skill_run_approvals); returns the words the step's note gets.
 */
export async function recordConfirmDecision(ctx: ToolContext, runId: string, step: string, decision: ApprovalDecision, onResume: boolean): Promise<string> {
  const era = ctx.session.era ?? 'local';
  const via = onResume ? 'approve_flag' : era === 'modern' ? 'input_required' : 'elicitation';
  const record = await recordApproval(ctx.memory, { runId, step, decision, principal: ctx.session.principal, era, via });
  return describeDecision(record);
}

export function describeDecision(record: ApprovalRecord): string {
  const how = record.via === 'approve_flag' ? 'on resume with approve' : record.via === 'input_required' ? 'through input_required (2026-07-28)' : 'through elicitation (2025)';
  return `${record.decision} by ${record.subject} (${record.role}, tenant ${record.tenant}) at ${record.decided_at} ${how}`;
}
