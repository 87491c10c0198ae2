import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { buildCommitMessage, issueKeyFromBranch } from '../src/git/commit-message.js';

const format = parseConfig({}, process.cwd()).commit_format;

describe('commit messages', () => {
  it('fills the template, dropping an absent scope and issue key', () => {
    expect(buildCommitMessage(format, { type: 'fix', scope: 'api', subject: 'handle 404', issue_key: 'AAP-1' }, null).message).toBe('fix(api): handle 404\n\nAAP-1');
    expect(buildCommitMessage(format, { type: 'docs', subject: 'explain release' }, 'main').message).toBe('docs: explain release');
  });

  it('takes the issue key from the branch name, and never expands $ patterns in the subject', () => {
    expect(issueKeyFromBranch(format, 'aap-77-release-notes')).toBe('AAP-77');
    expect(issueKeyFromBranch(format, 'master')).toBeUndefined();
    const built = buildCommitMessage(format, { type: 'chore', subject: "cost $& and $1 {issue_key}" }, 'feature/AAP-9-x');
    expect(built).toEqual({ message: 'chore: cost $& and $1 {issue_key}\n\nAAP-9', issue_key: 'AAP-9' });
  });

  it('keeps a given message and adds the issue key once', () => {
    expect(buildCommitMessage(format, { message: 'chore(release): release abc to production', issue_key: 'AAP-123' }, null).message).toBe('chore(release): release abc to production\n\nAAP-123');
    expect(buildCommitMessage(format, { message: 'AAP-123 release', issue_key: 'AAP-123' }, null).message).toBe('AAP-123 release');
  });

  it('uses a custom template', () => {
    const custom = { ...format, template: '[{issue_key}] {type}: {subject}' };
    expect(buildCommitMessage(custom, { type: 'feat', subject: 'x', issue_key: 'OPS-4' }, null).message).toBe('[OPS-4] feat: x');
  });
});
