import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { yamlModule } from '../lazy-yaml.js';
import type { Config } from '../config.js';
import { isToolError, ToolError } from '../errors.js';
import { FILE_CAPS, isInside, readFileSafely } from '../safe-read.js';
import { openRepo, type GitRunner } from '../git/client.js';
import { resolveRef } from '../git/status.js';
import { listTargets, SHA40, type DeployTarget } from './deploy-file.js';

const TAIL = 4000;
const tail = (text: string) => (text.length > TAIL ? `…${text.slice(-TAIL)}` : text);

export interface CommandValidation {
  mode: 'command';
  command: string[];
  exit_code: number;
  duration_ms: number;
  stdout_tail: string;
  stderr_tail: string;
}

/** Run the configured validation command (argv, no shell) in the checkout, with a timeout. */
export function runValidateCommand(command: string[], cwd: string, timeoutMs: number, signal?: AbortSignal): Promise<CommandValidation> {
  const started = Date.now();
  const [file, ...args] = command as [string, ...string[]];
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGTERM', ...(signal ? { signal } : {}) }, (error, stdout, stderr) => {
      const result: CommandValidation = { mode: 'command', command, exit_code: 0, duration_ms: Date.now() - started, stdout_tail: tail(String(stdout)), stderr_tail: tail(String(stderr)) };
      if (!error) return resolve(result);
      const err = error as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
      if (err.code === 'ENOENT') return reject(new ToolError('config', `validation command not found: ${file}`, { hint: 'fix app_interface.validate_command in config.json' }));
      if (err.name === 'AbortError') return reject(new ToolError('cancelled', 'validation was cancelled', { cause: error }));
      if (err.killed) return reject(new ToolError('timeout', `${command.join(' ')} ran longer than ${timeoutMs} ms and was stopped`, { hint: 'raise app_interface.validate_timeout_ms', details: { ...result, exit_code: -1 } }));
      const exit = typeof err.code === 'number' ? err.code : 1;
      reject(
        new ToolError('precondition', `${command.join(' ')} failed with exit code ${exit}`, {
          hint: 'read the output tail in details, fix the reported files, then validate again',
          details: { ...result, exit_code: exit },
        }),
      );
    });
  });
}

export interface Check {
  file: string;
  check: string;
  ok: boolean;
  message: string;
}

export interface FileValidation {
  mode: 'checks';
  base: string;
  files: string[];
  checks: Check[];
}

/**
 * Without a validation command: check the YAML files changed on the branch (against the target
 * branch on upstream): they parse; in deploy files every production ref is a 40-hex SHA that exists
 * on the source repository's upstream (when that repository is configured), and every namespace
 * `$ref` file exists.
 */
export async function checkChangedDeployFiles(config: Config, git: GitRunner, signal?: AbortSignal): Promise<FileValidation> {
  const ai = config.app_interface;
  const base = await pickBase(git, ai.target_branch);
  const mergeBase = (await git.run(['merge-base', base, 'HEAD'])).trim();
  const changed = (await git.run(['diff', '--name-only', '--diff-filter=ACMR', mergeBase, '--'])).split('\n');
  const untracked = (await git.run(['ls-files', '--others', '--exclude-standard'])).split('\n');
  const files = [...new Set([...changed, ...untracked])].filter((f) => /\.ya?ml$/.test(f) && existsSync(join(git.path, f))).sort();
  const checks: Check[] = [];
  const sources = new SourceRepos(config, signal);
  for (const file of files) {
    // A changed file may be a symlink out of the checkout, a FIFO or a huge file: each is a failed check, never read.
    let text: string;
    try {
      text = readFileSafely(join(git.path, file), { roots: [git.path], maxBytes: FILE_CAPS.repoYaml });
    } catch (error) {
      if (!isToolError(error)) throw error;
      checks.push({ file, check: 'readable', ok: false, message: error.message.replace(git.path + '/', '') });
      continue;
    }
    const doc = yamlModule().parseDocument(text, { uniqueKeys: false });
    if (doc.errors.length) {
      checks.push({ file, check: 'yaml', ok: false, message: doc.errors[0]!.message.split('\n')[0]! });
      continue;
    }
    checks.push({ file, check: 'yaml', ok: true, message: 'parses' });
    if (!doc.has('resourceTemplates') && file !== ai.deploy_file) continue;
    const templates = doc.toJS() as { resourceTemplates?: { name?: string; url?: string }[] };
    const urls = new Map((templates.resourceTemplates ?? []).map((t) => [t.name ?? '', t.url ?? '']));
    for (const target of listTargets(text, file)) {
      const where = `${target.resource_template} → ${target.namespace_ref.split('/').pop()}`;
      // A $ref is looked up inside the checkout only (`../../etc/passwd` exists nowhere).
      const nsFile = [join(git.path, 'data', target.namespace_ref), join(git.path, target.namespace_ref)].find((p) => isInside(p, git.path) && existsSync(p));
      checks.push({ file, check: 'namespace_ref', ok: Boolean(nsFile), message: nsFile ? `${where}: namespace file exists` : `${where}: ${target.namespace_ref} does not exist in the repository` });
      if (!isProduction(target, config)) continue;
      if (!target.ref || !SHA40.test(target.ref)) {
        checks.push({ file, check: 'prod_ref_sha', ok: false, message: `${where}: production ref "${target.ref ?? ''}" is not a 40-hex SHA` });
        continue;
      }
      checks.push({ file, check: 'prod_ref_sha', ok: true, message: `${where}: ref is a full SHA` });
      const upstream = await sources.contains(urls.get(target.resource_template) ?? '', target.ref);
      if (upstream) checks.push({ file, check: 'prod_ref_upstream', ok: upstream.ok, message: `${where}: ${upstream.message}` });
    }
  }
  return { mode: 'checks', base, files, checks };
}

async function pickBase(git: GitRunner, branch: string): Promise<string> {
  for (const candidate of [`${git.repo.upstream}/${branch}`, `${git.repo.remote}/${branch}`, branch]) {
    if (await resolveRef(git, candidate)) return candidate;
  }
  throw new ToolError('not_found', `cannot find the target branch ${branch} (tried ${git.repo.upstream}/${branch}, ${git.repo.remote}/${branch}, ${branch})`, { hint: 'git_fetch the upstream remote first' });
}

/** Production: the configured prod or billing namespace, or any namespace file named *-prod* . */
function isProduction(target: DeployTarget, config: Config): boolean {
  const name = (target.namespace_ref.split('/').pop() ?? '').replace(/\.ya?ml$/, '');
  return name === config.app_interface.prod_namespace || name === config.app_interface.billing_namespace || /(^|[-_])prod([-_]|$)/.test(name);
}

/** Source repositories from config, found by their remote URL, to check that a SHA is on upstream. */
class SourceRepos {
  private byUrl: Promise<Map<string, GitRunner>> | undefined;
  constructor(
    private readonly config: Config,
    private readonly signal: AbortSignal | undefined,
  ) {}

  private async load(): Promise<Map<string, GitRunner>> {
    const map = new Map<string, GitRunner>();
    for (const name of Object.keys(this.config.repositories)) {
      if (name === this.config.app_interface.repo) continue;
      try {
        const git = await openRepo(this.config, name, this.signal ? { signal: this.signal } : {});
        for (const remote of [git.repo.upstream, git.repo.remote]) {
          const url = await git.probe(['remote', 'get-url', remote]);
          if (url.ok) map.set(normalizeUrl(url.stdout.trim()), git);
        }
      } catch {
        // a configured repository that is not checked out cannot be used for this check
      }
    }
    return map;
  }

  async contains(url: string, sha: string): Promise<{ ok: boolean; message: string } | undefined> {
    this.byUrl ??= this.load();
    const git = (await this.byUrl).get(normalizeUrl(url));
    if (!git) return undefined;
    const remote = git.repo.upstream;
    const probe = await git.probe(['branch', '--remotes', '--contains', sha, '--list', `${remote}/*`]);
    if (!probe.ok) return { ok: false, message: `${sha.slice(0, 12)} is not in ${git.repo.name ?? git.path} (fetch ${remote} and check the SHA)` };
    const branches = probe.stdout.split('\n').map((b) => b.trim()).filter(Boolean);
    return branches.length
      ? { ok: true, message: `${sha.slice(0, 12)} is on ${branches[0]}` }
      : { ok: false, message: `${sha.slice(0, 12)} is in ${git.repo.name ?? git.path} but on no ${remote} branch` };
  }
}

/** git@host:group/repo.git, https://host/group/repo(.git) and ssh://git@host/group/repo all compare equal. */
export function normalizeUrl(url: string): string {
  return url
    .trim()
    .replace(/^[a-z+]+:\/\//i, '')
    .replace(/^[^@/]+@/, '')
    .replace(/^([^/:]+):(?!\d)/, '$1/')
    .replace(/\.git$/, '')
    .replace(/\/+$/, '')
    .toLowerCase();
}
