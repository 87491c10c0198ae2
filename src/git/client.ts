import type { SimpleGit } from 'simple-git';
import type { Config } from '../config.js';
import { ToolError } from '../errors.js';
import { classifyGitError, type GitFailure } from './errors.js';
import { resolveRepo, type ResolvedRepo } from './repo-resolve.js';

/** A failed git process: exit code and both streams, for classification. */
export interface GitExit {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The exit details that createGit attaches to simple-git's GitError on a non-zero exit. */
export function gitExitOf(error: unknown): GitExit | undefined {
  const exit = (error as { gitExit?: GitExit } | null)?.gitExit;
  return exit && typeof exit.exitCode === 'number' ? exit : undefined;
}

/** Variables simple-git refuses to pass on (GIT_*, editors, pagers, askpass): dropped from the ambient environment. */
const GUARDED = /^(git_|ssh_askpass$|editor$|visual$|pager$|prefix$)/i;

/**
 * The child environment: ambient variables minus guarded ones, plus settings that stop git from
 * ever prompting. SSH runs in batch mode unless the repository configures its own core.sshCommand.
 */
function childEnv(batchSsh: boolean): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !GUARDED.test(key)) env[key] = value;
  env.GIT_TERMINAL_PROMPT = '0';
  if (batchSsh) env.GIT_SSH_COMMAND = 'ssh -o BatchMode=yes';
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
      const exit = gitExitOf(error);
      if (exit) return { ok: false, ...exit };
      throw classifyGitError(error, { args });
    }
  }
}

export interface OpenOptions {
  signal?: AbortSignal;
}

/** simple-git is loaded on first use, so server start does not pay for it. */
async function createGit(config: Config, path: string, signal: AbortSignal | undefined): Promise<SimpleGit> {
  const { GitError, GitPluginError, simpleGit } = await import('simple-git');
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
      const gitExit: GitExit = { exitCode: result.exitCode, stdout: text(result.stdOut), stderr: text(result.stdErr) };
      const message = [gitExit.stderr.trim(), gitExit.stdout.trim()].filter(Boolean).join('\n') || `git exited with code ${result.exitCode}`;
      // simple-git passes on only its own GitError; the exit details ride along on it.
      return Object.assign(new GitError(undefined, message), { gitExit });
    },
  });
  return git.env(childEnv(true));
}

/** Resolve `repo`, check that it is a git work tree, and return a runner for it. */
export async function openRepo(config: Config, repo: string, options: OpenOptions = {}): Promise<GitRunner> {
  const resolved = resolveRepo(config, repo);
  const git = await createGit(config, resolved.path, options.signal);
  const runner = new GitRunner(resolved, git);
  const inside = await runner.probe(['rev-parse', '--is-inside-work-tree']);
  if (!inside.ok || inside.stdout.trim() !== 'true') {
    throw new ToolError('not_found', `${resolved.path} is not a git repository`, { hint: 'pass a configured repository name or the path of a git checkout' });
  }
  if ((await runner.probe(['config', '--get', 'core.sshCommand'])).ok) git.env(childEnv(false));
  return runner;
}
