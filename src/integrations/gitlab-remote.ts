/**
 * The GitLab project a git remote URL points at, when the remote is on the configured GitLab:
 * `https://gitlab.example.com/jdoe/app-interface.git`, `ssh://git@gitlab.example.com:2222/jdoe/app-interface.git`
 * and `git@gitlab.example.com:jdoe/app-interface.git` all give `jdoe/app-interface`.
 * undefined for a remote on another host, a local path, or a URL that names no project.
 */
export function gitlabProjectFromRemoteUrl(remoteUrl: string, gitlabUrl: string): string | undefined {
  const gitlabHost = hostOf(gitlabUrl);
  if (!gitlabHost) return undefined;
  const trimmed = remoteUrl.trim();
  let host: string | undefined;
  let path: string | undefined;
  const scp = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/)(.+)$/.exec(trimmed);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    try {
      const url = new URL(trimmed);
      if (!['http:', 'https:', 'ssh:', 'git+ssh:'].includes(url.protocol)) return undefined;
      host = url.hostname.toLowerCase();
      path = decodeURIComponent(url.pathname);
    } catch {
      return undefined;
    }
  } else if (scp) {
    host = scp[1]!.toLowerCase();
    path = scp[2]!;
  }
  if (!host || !path || host !== gitlabHost) return undefined;
  // A GitLab instance under a sub-path (https://example.com/gitlab) serves projects below it.
  const base = new URL(gitlabUrl).pathname.replace(/\/+$/, '');
  let project = path.replace(/^\/+/, '').replace(/\/+$/, '').replace(/\.git$/, '');
  if (base && project.startsWith(`${base.slice(1)}/`)) project = project.slice(base.length);
  return /^[^/\s]+(\/[^/\s]+)+$/.test(project) ? project : undefined;
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}
