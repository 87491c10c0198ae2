import type { Config } from '../config.js';
import { ToolError } from '../errors.js';

export interface CommitParts {
  message?: string | undefined;
  type?: string | undefined;
  scope?: string | undefined;
  subject?: string | undefined;
  issue_key?: string | undefined;
}

/** The first issue key (e.g. AAP-123) in a branch name, by config `commit_format.issue_key_pattern`. */
export function issueKeyFromBranch(format: Config['commit_format'], branch: string | null): string | undefined {
  if (!branch) return undefined;
  const match = new RegExp(format.issue_key_pattern).exec(branch.toUpperCase());
  return match?.[0];
}

/**
 * The full commit message: `message` as given (with `issue_key` appended after a blank line when it
 * is not already in it), or built from config `commit_format.template` out of type, scope, subject
 * and the issue key (from the branch name when absent).
 */
export function buildCommitMessage(format: Config['commit_format'], parts: CommitParts, branch: string | null): { message: string; issue_key: string | null } {
  const message = parts.message?.trim();
  if (message) {
    const key = parts.issue_key?.trim();
    return key && !message.includes(key) ? { message: `${message}\n\n${key}`, issue_key: key } : { message, issue_key: key || null };
  }
  const type = parts.type?.trim();
  const subject = parts.subject?.trim();
  if (!type || !subject) {
    throw new ToolError('invalid_input', 'git_commit needs message, or type and subject (scope and issue_key optional)', {
      hint: 'e.g. { "type": "chore", "scope": "release", "subject": "release abc1234 to production" }',
    });
  }
  if (!format.types.includes(type)) {
    throw new ToolError('invalid_input', `commit type "${type}" is not one of ${format.types.join(', ')}`, { hint: 'use a type from config commit_format.types' });
  }
  const key = parts.issue_key?.trim() || issueKeyFromBranch(format, branch) || '';
  const scope = parts.scope?.trim() ?? '';
  const values: Record<string, string> = { type, scope, subject, issue_key: key };
  const text = format.template
    .replace(/\(\{scope\}\)|\{(type|scope|subject|issue_key)\}/g, (_whole, name?: string) => (name ? (values[name] ?? '') : scope ? `(${scope})` : ''))
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return { message: text, issue_key: key || null };
}
