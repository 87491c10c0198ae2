import { describe, expect, it } from 'vitest';
import { classifyGitError, scrubUrls } from '../src/git/errors.js';

const code = (message: string, remote = false) => classifyGitError(new Error(message), { remote }).code;

describe('git error classification', () => {
  it('maps git messages to error codes', () => {
    expect(code('fatal: not a git repository (or any of the parent directories): .git')).toBe('not_found');
    expect(code("fatal: ambiguous argument 'nope..HEAD': unknown revision or path not in the working tree.")).toBe('not_found');
    expect(code('error: Your local changes to the following files would be overwritten by checkout:\n\tREADME.md')).toBe('precondition');
    expect(code(' ! [rejected]        topic -> topic (non-fast-forward)\nerror: failed to push some refs', true)).toBe('conflict');
    expect(code(' ! [rejected]        topic -> topic (stale info)', true)).toBe('conflict');
    expect(code("fatal: could not read Username for 'https://gitlab.example.com': terminal prompts disabled", true)).toBe('auth');
    expect(code('git@github.com: Permission denied (publickey).\nfatal: Could not read from remote repository.', true)).toBe('auth');
    expect(code("fatal: unable to access 'https://gitlab.example.com/x.git/': Could not resolve host: gitlab.example.com", true)).toBe('network');
    expect(code('*** Please tell me who you are.')).toBe('config');
    expect(code('something unexpected')).toBe('precondition');
    expect(code('something unexpected', true)).toBe('upstream');
  });

  it('does not call a local failure an auth or network problem', () => {
    expect(code('fatal: unable to access the index')).toBe('precondition');
  });

  it('masks credentials in remote URLs', () => {
    expect(scrubUrls("fatal: unable to access 'https://bot:glpat-SECRET@gitlab.example.com/x.git/'")).toBe("fatal: unable to access 'https://***@gitlab.example.com/x.git/'");
    const error = classifyGitError(new Error("fatal: Authentication failed for 'https://oauth2:tok3n@gitlab.example.com/x.git/'"), { remote: true });
    expect(error.code).toBe('auth');
    expect(error.message).not.toContain('tok3n');
  });
});
