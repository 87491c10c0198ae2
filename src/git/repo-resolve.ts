import { existsSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { expandHome, type Config } from '../config.js';
import { ToolError } from '../errors.js';

/** A repository a git tool may touch, with the remotes and branch that config gives it. */
export interface ResolvedRepo {
  /** Name in config `repositories`, when it is one of them. */
  name: string | undefined;
  path: string;
  remote: string;
  upstream: string;
  defaultBranch: string;
  gitlabProject: string | undefined;
}

/**
 * Turn a tool's `repo` argument (a configured name or a path) into a checkout path, enforcing the
 * path policy: only configured repositories and folders under `workspace_roots`, unless
 * `git.allow_any_path` is set.
 */
export function resolveRepo(config: Config, repo: string): ResolvedRepo {
  const configured = config.repositories[repo];
  if (configured) {
    if (!existsSync(configured.path)) {
      throw new ToolError('not_found', `repository "${repo}" is configured at ${configured.path}, which does not exist`, {
        hint: `clone it there or fix repositories.${repo}.path in config.json`,
      });
    }
    return fromConfig(repo, configured);
  }
  if (repo.startsWith('-')) throw new ToolError('invalid_input', `repo must be a configured name or a path, not an option: ${repo}`);
  const path = locate(config, repo);
  const real = realpathSync(path);
  const match = Object.entries(config.repositories).find(([, r]) => existsSync(r.path) && realpathSync(r.path) === real);
  if (match) return fromConfig(match[0], match[1]);
  if (!config.git.allow_any_path && !isAllowed(config, real)) {
    throw new ToolError('forbidden', `${path} is outside the configured repositories and workspace_roots`, {
      hint: 'add it to config `repositories` or its folder to `workspace_roots` (or set git.allow_any_path: true)',
    });
  }
  return { name: undefined, path: real, remote: 'origin', upstream: 'upstream', defaultBranch: 'master', gitlabProject: undefined };
}

function fromConfig(name: string, r: Config['repositories'][string]): ResolvedRepo {
  return { name, path: r.path, remote: r.remote, upstream: r.upstream, defaultBranch: r.default_branch, gitlabProject: r.gitlab_project };
}

/** An absolute or `~` path as given; a bare relative name is looked up under each workspace root. */
function locate(config: Config, repo: string): string {
  const expanded = expandHome(repo);
  if (isAbsolute(expanded)) {
    if (!existsSync(expanded) || !statSync(expanded).isDirectory()) throw new ToolError('not_found', `no such directory: ${expanded}`);
    return resolve(expanded);
  }
  const candidates = config.workspace_roots.map((root) => join(root, expanded)).filter((p) => existsSync(p) && statSync(p).isDirectory());
  const [first] = candidates;
  if (!first) {
    const known = Object.keys(config.repositories);
    throw new ToolError('not_found', `unknown repository "${repo}"`, {
      hint: known.length ? `use one of: ${known.join(', ')}, or an absolute path` : 'configure it in `repositories` or pass an absolute path',
    });
  }
  return resolve(first);
}

function isAllowed(config: Config, real: string): boolean {
  const roots = [...Object.values(config.repositories).map((r) => r.path), ...config.workspace_roots];
  return roots.some((root) => {
    if (!existsSync(root)) return false;
    const base = realpathSync(root);
    return real === base || real.startsWith(base.endsWith(sep) ? base : base + sep);
  });
}
