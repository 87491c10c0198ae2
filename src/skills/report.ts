import type { RunResult, StepResult } from '../tools/skills.js';

const MARK: Record<StepResult['status'], string> = {
  succeeded: '✓',
  healed: '✓',
  skipped: '–',
  planned: '○',
  continued: '!',
  failed: '✗',
  awaiting_approval: '?',
  declined: '✗',
  cancelled: '✗',
};

function stepLine(step: StepResult): string {
  const what = step.tool ? ` (${step.tool})` : step.kind === 'tool' ? '' : ` (${step.kind})`;
  const attempts = step.attempts > 1 ? `, ${step.attempts} attempts` : '';
  const note = step.note ? ` — ${step.note}` : '';
  const line = `- ${MARK[step.status]} **${step.name}**${what}: ${step.status}, ${step.duration_ms} ms${attempts}${note}`;
  // A plan shows what each change would be: the rendered arguments of the steps it did not run.
  if (step.status !== 'planned' || !step.args || !Object.keys(step.args).length) return line;
  const args = JSON.stringify(step.args);
  return `${line}\n  would call with \`${args.length > MAX_ARGS ? `${args.slice(0, MAX_ARGS - 1)}…` : args}\``;
}

const MAX_ARGS = 2000;

/** The run as a person reads it: a line per step, the failure with its hint and known fixes, the outputs. */
export function renderRunReport(run: Omit<RunResult, 'report'>, extra: { error?: string | undefined; readOnly?: boolean } = {}): string {
  const lines = [`## ${run.skill} v${run.version}: ${run.status}`, '', `Run \`${run.run_id}\`${run.dry_run ? ' (plan: mutating steps not run)' : ''}, ${run.duration_ms} ms.`];
  if (extra.readOnly) lines.push('The server is read-only: the skill was planned, not run.');
  lines.push('', ...run.steps.map(stepLine));
  for (const step of run.steps.filter((s) => s.error)) {
    lines.push('', `### ${step.status === 'continued' ? 'Failed, continued' : 'Failed'}: ${step.name}`, '', `${step.error!.code}: ${step.error!.message}`);
    if (step.error!.hint) lines.push(`Hint: ${step.error!.hint}`);
    if (step.args) lines.push(`Arguments: \`${JSON.stringify(step.args)}\``);
    if (step.matches?.length) {
      lines.push('', 'Known fixes:');
      for (const m of step.matches) lines.push(`- ${m.fix} (${m.kind === 'learned_fix' ? 'learned' : 'known issue'}: "${m.pattern}"; cause: ${m.root_cause})`);
    }
  }
  if (extra.error && !run.steps.some((s) => s.error?.message === extra.error)) lines.push('', `Error: ${extra.error}`);
  const pending = run.steps.find((s) => s.status === 'awaiting_approval');
  if (pending) lines.push('', `Waiting for approval: ${pending.note}`, `Approve with skill_run { "resume": "${run.run_id}", "approve": true } (CLI: release-mcp skill resume ${run.run_id} --approve).`);
  if (run.status === 'failed' || run.status === 'cancelled') lines.push('', `Fix the cause, then continue from the stopping step: skill_run { "resume": "${run.run_id}" }.`);
  if (Object.keys(run.outputs).length) lines.push('', '### Outputs', '', '```json', JSON.stringify(run.outputs, null, 2).slice(0, 4000), '```');
  return lines.join('\n');
}
