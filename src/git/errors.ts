import { ToolError, type ErrorCode } from '../errors.js';

/** What the caller knows about a git call, to word its failure. */
export interface GitFailure {
  /** Remote operations (fetch, push) fail on auth and network; local ones do not. */
  remote?: boolean;
  /** Code for a failure no rule recognises. */
  fallback?: ErrorCode;
  hint?: string;
  args?: string[];
}

interface Rule {
  code: ErrorCode;
  test: RegExp;
  hint?: string;
  remoteOnly?: boolean;
}

const RULES: Rule[] = [
  { code: 'not_found', test: /not a git repository/i, hint: 'pass a configured repository name or the path of a git checkout' },
  {
    code: 'conflict',
    test: /\[rejected\].*(non-fast-forward|fetch first)|failed to push some refs.*(non-fast-forward|fetch first)|Updates were rejected because/is,
    hint: 'the remote has commits you do not have: fetch, rebase onto the remote branch, then push again',
  },
  { code: 'conflict', test: /stale info/i, hint: 'the remote branch moved since your last fetch: fetch, check what changed, then push again' },
  { code: 'conflict', test: /^CONFLICT|could not apply|Merge conflict/m, hint: 'resolve the conflicting files, or abort and start again' },
  {
    code: 'precondition',
    test: /local changes .* would be overwritten|uncommitted changes|unstaged changes|Please commit your changes or stash them|needs merge|is already checked out|you need to resolve your current index first/i,
    hint: 'commit or stash the working tree changes first (git_status shows them)',
  },
  { code: 'config', test: /Please tell me who you are|unable to auto-detect email address|empty ident name/i, hint: 'set git.user_name and git.user_email in config.json (or git config user.name/user.email)' },
  {
    code: 'auth',
    remoteOnly: true,
    test: /Authentication failed|could not read (Username|Password)|terminal prompts disabled|Permission denied \(publickey|HTTP Basic: Access denied|The requested URL returned error: 40[13]|access denied|invalid credentials|Host key verification failed/i,
    hint: 'check the credentials git uses for this remote (SSH key, credential helper or token in the remote URL)',
  },
  {
    code: 'network',
    remoteOnly: true,
    test: /Could not resolve host|Connection (refused|timed out|reset)|Network is unreachable|No route to host|unable to access|Could not read from remote repository|does not appear to be a git repository|early EOF|the remote end hung up/i,
    hint: 'the remote is unreachable: check the network or VPN and the remote URL, then retry',
  },
  { code: 'not_found', test: /couldn't find remote ref|no such remote|No such remote/i, hint: 'check the remote and branch names (git_branch_list shows remote branches)' },
  {
    code: 'not_found',
    test: /unknown revision|bad revision|invalid reference|not a valid (object name|ref)|Needed a single revision|did not match any file|did not match any|no such ref|not a commit|bad object|ambiguous argument/i,
    hint: 'check the ref or SHA (git_log and git_branch_list show what exists); fetch first if it is new upstream',
  },
  { code: 'conflict', test: /already exists/i },
];

/** Credentials in remote URLs (https://user:token@host) never reach a message. */
export function scrubUrls(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi, '$1***@');
}

/** Turn a failed git call into a ToolError whose code a skill can act on. */
export function classifyGitError(error: unknown, failure: GitFailure = {}): ToolError {
  if (error instanceof ToolError) return error;
  if (isPluginError(error)) {
    if (error.plugin === 'timeout') return new ToolError('timeout', `git ${failure.args?.[0] ?? ''} timed out (no output within git.timeout_ms)`, { hint: 'raise git.timeout_ms or check the network', cause: error });
    if (error.plugin === 'abort') return new ToolError('cancelled', 'the git call was cancelled', { cause: error });
    return new ToolError('forbidden', `git refused the call: ${error.message}`, { cause: error });
  }
  const raw = error instanceof Error ? error.message : String(error);
  const message = scrubUrls(raw.trim()).slice(0, 4000);
  const rule = RULES.find((r) => (!r.remoteOnly || failure.remote) && r.test.test(raw));
  const code = rule?.code ?? failure.fallback ?? (failure.remote ? 'upstream' : 'precondition');
  const hint = rule?.hint ?? failure.hint;
  const command = failure.args?.[0] ? `git ${failure.args[0]}: ` : '';
  return new ToolError(code, `${command}${message}`, { ...(hint ? { hint } : {}), cause: error });
}

/** simple-git's GitPluginError (timeout, abort, unsafe), recognised without importing simple-git. */
function isPluginError(error: unknown): error is Error & { plugin: string } {
  return error instanceof Error && typeof (error as { plugin?: unknown }).plugin === 'string';
}
