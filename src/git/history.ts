import { ToolError } from '../errors.js';
import { safeArg, safeRange } from './args.js';
import type { GitRunner } from './client.js';

export interface Commit {
  sha: string;
  short: string;
  author: string;
  email: string;
  date: string;
  subject: string;
}

export interface LogQuery {
  range?: string | undefined;
  limit: number;
  since?: string | undefined;
  path?: string | undefined;
}

const FIELD = '\x1f';
const RECORD = '\x1e';

/** Commits newest first; `more` tells whether the limit cut the list. */
export async function readLog(git: GitRunner, query: LogQuery): Promise<{ commits: Commit[]; more: boolean }> {
  const args = ['log', `--format=%H${FIELD}%h${FIELD}%an${FIELD}%ae${FIELD}%aI${FIELD}%s${RECORD}`, `--max-count=${query.limit + 1}`];
  if (query.since) args.push(`--since=${safeArg(query.since, 'since')}`);
  if (query.range) args.push(safeRange(query.range, 'range'));
  args.push('--');
  if (query.path) args.push(safeArg(query.path, 'path'));
  const out = await git.run(args);
  const commits = out
    .split(RECORD)
    .map((r) => r.trim())
    .filter(Boolean)
    .map((record) => {
      const [sha = '', short = '', author = '', email = '', date = '', subject = ''] = record.split(FIELD);
      return { sha, short, author, email, date, subject };
    });
  return { commits: commits.slice(0, query.limit), more: commits.length > query.limit };
}

export interface CommitLookup {
  query: string;
  exists: boolean;
  ambiguous: boolean;
  sha: string | null;
  type: string | null;
  candidates: { sha: string; type: string }[];
}

/** Whether an object exists for a full or short SHA; an ambiguous short SHA lists its candidates. */
export async function lookupCommit(git: GitRunner, sha: string): Promise<CommitLookup> {
  const query = sha.toLowerCase();
  if (!/^[0-9a-f]{4,40}$/.test(query)) throw new ToolError('invalid_input', `sha must be 4 to 40 hex characters: ${sha}`);
  let shas: string[];
  if (query.length === 40) {
    shas = (await git.probe(['cat-file', '-e', query])).ok ? [query] : [];
  } else {
    const probe = await git.probe(['rev-parse', `--disambiguate=${query}`]);
    shas = probe.ok ? probe.stdout.split('\n').map((s) => s.trim()).filter(Boolean) : [];
  }
  const candidates = await Promise.all(shas.map(async (s) => ({ sha: s, type: (await git.run(['cat-file', '-t', s])).trim() })));
  const unique = candidates.length === 1 ? candidates[0]! : undefined;
  return {
    query,
    exists: candidates.length > 0,
    ambiguous: candidates.length > 1,
    sha: unique?.sha ?? null,
    type: unique?.type ?? null,
    candidates: candidates.length > 1 ? candidates : [],
  };
}

export interface BranchList {
  current: string | null;
  local: { name: string; sha: string; upstream: string | null; current: boolean }[];
  remote: { remote: string; name: string; ref: string; sha: string }[];
}

/** Local and remote-tracking branches; `pattern` is a glob (`*` matches anything) on the branch name. */
export async function listBranches(git: GitRunner, pattern?: string): Promise<BranchList> {
  const out = await git.run(['for-each-ref', `--format=%(refname)${FIELD}%(objectname)${FIELD}%(upstream:short)${FIELD}%(HEAD)`, 'refs/heads', 'refs/remotes']);
  const match = pattern ? globToRegExp(pattern) : undefined;
  const list: BranchList = { current: null, local: [], remote: [] };
  for (const line of out.split('\n')) {
    if (!line.trim()) continue;
    const [ref = '', sha = '', upstream = '', head = ''] = line.split(FIELD);
    if (ref.startsWith('refs/heads/')) {
      const name = ref.slice('refs/heads/'.length);
      const current = head === '*';
      if (current) list.current = name;
      if (!match || match.test(name)) list.local.push({ name, sha, upstream: upstream || null, current });
    } else if (ref.startsWith('refs/remotes/')) {
      const short = ref.slice('refs/remotes/'.length);
      const slash = short.indexOf('/');
      if (slash < 0) continue;
      const name = short.slice(slash + 1);
      if (name === 'HEAD') continue;
      if (!match || match.test(name) || match.test(short)) list.remote.push({ remote: short.slice(0, slash), name, ref: short, sha });
    }
  }
  return list;
}

export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

export interface DiffQuery {
  range?: string | undefined;
  staged?: boolean | undefined;
  path?: string | undefined;
  maxBytes: number;
}

export interface DiffResult {
  compared: string;
  files: { path: string; added: number | null; deleted: number | null }[];
  insertions: number;
  deletions: number;
  patch: string;
  patch_bytes: number;
  truncated: boolean;
  note: string | null;
}

/** Stat and patch of a range, the index (`staged`), or every uncommitted change to tracked files. */
export async function readDiff(git: GitRunner, query: DiffQuery): Promise<DiffResult> {
  const base: string[] = [];
  let compared: string;
  if (query.range) {
    base.push(safeRange(query.range, 'range'));
    compared = query.range;
  } else if (query.staged) {
    base.push('--cached');
    compared = 'index against HEAD';
  } else {
    base.push('HEAD');
    compared = 'working tree against HEAD';
  }
  const tail = ['--', ...(query.path ? [safeArg(query.path, 'path')] : [])];
  const numstat = await git.run(['diff', '--numstat', ...base, ...tail]);
  const files = numstat
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const [added = '-', deleted = '-', ...path] = line.split('\t');
      return { path: path.join('\t'), added: added === '-' ? null : Number(added), deleted: deleted === '-' ? null : Number(deleted) };
    });
  const full = await git.run(['diff', ...base, ...tail]);
  const bytes = Buffer.byteLength(full, 'utf8');
  const trimmed = bytes > query.maxBytes ? trimToBytes(full, query.maxBytes) : full;
  const truncated = trimmed.length < full.length;
  return {
    compared,
    files,
    insertions: files.reduce((n, f) => n + (f.added ?? 0), 0),
    deletions: files.reduce((n, f) => n + (f.deleted ?? 0), 0),
    patch: trimmed,
    patch_bytes: bytes,
    truncated,
    note: truncated ? `patch trimmed to ${Buffer.byteLength(trimmed, 'utf8')} of ${bytes} bytes; narrow it with path or range, or raise max_bytes` : null,
  };
}

/** Cut at the last whole line that fits in `max` bytes. */
function trimToBytes(text: string, max: number): string {
  const cut = Buffer.from(text, 'utf8').subarray(0, max).toString('utf8');
  const newline = cut.lastIndexOf('\n');
  return newline > 0 ? cut.slice(0, newline + 1) : cut.replace(/\uFFFD$/, '');
}
