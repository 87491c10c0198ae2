import { GitPluginError, simpleGit, type SimpleGit } from 'simple-git';
import type { Config } from '../config.js';
import { ToolError } from '../errors.js';
import { classifyGitError, type GitFailure } from './errors.js';
import { resolveRepo, type ResolvedRepo } from './repo-resolve.js';

/** A failed git process: exit code and both streams, for classification. */
export class GitExitError extends Error {
  override readonly name = 'GitExitError';
  constructor(
    readonly exitCode: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super([stderr.trim(), stdout.trim()].filter(Boolean).join('\n') || `git exited with code ${exitCode}`);
  }
}

/** Variables simple-git refuses to pass on (GIT_*, editors, pagers, askpass): dropped from the ambient environment. */
const GUARDED = /^(git_|ssh_askpass$|editor$|visual$|pager$|prefix$)/i;

/** The child environment: ambient variables minus guarded ones, plus settings that stop git from ever prompting. */
function childEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !GUARDED.test(key)) env[key] = value;
  env.GIT_TERMINAL_PROMPT = '0';
  env.GIT_SSH_COMMAND = 'ssh -o BatchMode=yes';
  env.GCM_INTERACTIVE = 'never';
  env.LC_ALL = 'C';
  return env;
}

/** One repository and the one way to run git in it: an argument list, never a shell. */
export class GitRunner {
  constructor(
    readonly repo: ResolvedRepo,
    private readonly git: SimpleGit,
  ) {}

  get path(): string {
    return this.repo.path;
  }

  /** Run git; a non-zero exit becomes a ToolError classified from git's output. */
  async run(args: string[], failure: GitFailure = {}): Promise<string> {
    try {
      return await this.git.raw(args);
    } catch (error) {
      throw classifyGitError(error, { ...failure, args });
    }
  }

  /** Run git and report the exit instead of throwing (for probes such as `cat-file -e`). */
  async probe(args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string; exitCode: number }> {
    try {
      return { ok: true, stdout: await this.git.raw(args), stderr: '', exitCode: 0 };
    } catch (error) {
      if (error instanceof GitExitError) return { ok: false, stdout: error.stdout, stderr: error.stderr, exitCode: error.exitCode };
      throw classifyGitError(error, { args });
    }
  }
}

export interface OpenOptions {
  signal?: AbortSignal;
}

function createGit(config: Config, path: string, signal: AbortSignal | undefined): SimpleGit {
  const identity = [
    ...(config.git.user_name ? [`user.name=${config.git.user_name}`] : []),
    ...(config.git.user_email ? [`user.email=${config.git.user_email}`] : []),
  ];
  const git = simpleGit({
    baseDir: path,
    maxConcurrentProcesses: 4,
    trimmed: false,
    config: identity,
    timeout: { block: config.git.timeout_ms },
    allowEnvironment: ['GIT_TERMINAL_PROMPT', 'GIT_SSH_COMMAND'],
    // Only our own fixed GIT_SSH_COMMAND (BatchMode) is set; no tool argument reaches `-c`.
    unsafe: { allowUnsafeSshCommand: true },
    ...(signal ? { abort: signal } : {}),
    errors: (error, result) => {
      if (error instanceof GitPluginError || result.exitCode === 0) return error;
      const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString('utf8');
      return new GitExitError(result.exitCode, text(result.stdOut), text(result.stdErr));
    },
  });
  return git.env(childEnv());
}

/** Resolve `repo`, check that it is a git work tree, and return a runner for it. */
export async function openRepo(config: Config, repo: string, options: OpenOptions = {}): Promise<GitRunner> {
  const resolved = resolveRepo(config, repo);
  const runner = new GitRunner(resolved, createGit(config, resolved.path, options.signal));
  const inside = await runner.probe(['rev-parse', '--is-inside-work-tree']);
  if (!inside.ok || inside.stdout.trim() !== 'true') {
    throw new ToolError('not_found', `${resolved.path} is not a git repository`, { hint: 'pass a configured repository name or the path of a git checkout' });
  }
  return runner;
}
